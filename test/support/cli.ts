import assert from 'node:assert/strict';
import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * A copy of the package with bin/ and the two cached-token bundles only, in a new temporary
 * directory: no dist/main.js, no chunks, no node_modules. What answers from it was answered by the
 * cached-token path alone.
 */
export function cachedTokenPackage(prefix: string): string {
  const pkg = mkdtempSync(join(tmpdir(), prefix));
  cpSync(join(ROOT, 'bin'), join(pkg, 'bin'), { recursive: true });
  for (const bundle of ['cached-token.cjs', 'cached-calls.cjs'])
    cpSync(join(ROOT, 'dist', bundle), join(pkg, 'dist', bundle));
  return pkg;
}
export const VAULT_BIN = join(ROOT, 'bin', 'vault.js');
const SIGNAL_AT = fileURLToPath(new URL('./signal-at.mjs', import.meta.url));

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * A throwaway home for one test: its own config, data and runtime directories and its own
 * keychain service name, so tests never see each other's (or the user's) credentials.
 */
export interface Sandbox {
  dir: string;
  env: NodeJS.ProcessEnv;
  cleanup(): void;
}

let counter = 0;

export function sandbox(extra: NodeJS.ProcessEnv = {}): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), 'vault-test-'));
  for (const d of ['config', 'data', 'runtime', 'home']) mkdirSync(join(dir, d), { mode: 0o700 });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: join(dir, 'home'),
    LANG: 'C.UTF-8',
    VAULT_CONFIG_DIR: join(dir, 'config'),
    VAULT_DATA_DIR: join(dir, 'data'),
    XDG_RUNTIME_DIR: join(dir, 'runtime'),
    VAULT_KEYRING_SERVICE: `vault-test-${process.pid}-${++counter}-${Date.now()}`,
    NO_COLOR: '1',
    ...(process.env.DBUS_SESSION_BUS_ADDRESS && { DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS }),
    ...extra,
  };
  return { dir, env, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs a command (no shell) and collects its output; killed after `timeoutMs` (default 60 s). */
export function runCommand(
  file: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string; input?: string; timeoutMs?: number },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: options.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    // A child that exits without reading its stdin closes the pipe: EPIPE then is no failure.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

/**
 * Runs the built CLI as a user would, with only the environment given (nothing inherited);
 * `wrap` is a command prefix it runs under (`ip netns exec NS`), which passes the environment on.
 */
export function runVault(
  args: string[],
  options: { env: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; bin?: string; wrap?: string[] },
): Promise<RunResult> {
  const [file, ...prefix] = [...(options.wrap ?? []), process.execPath];
  return runCommand(file!, [...prefix, options.bin ?? VAULT_BIN, ...args], options);
}

function stopped(pid: number): boolean {
  return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('T');
}

/**
 * `vault token acme --debug` stopped by SIGSTOP right after the debug line matching `at`, in its own
 * process group (ended after the test whatever state a failure left it in), under the command
 * prefix `wrap` if any (`ip netns exec` replaces itself with the program: the pid stays vault's).
 * Resolves once stopped.
 */
export async function stoppedAt(t: TestContext, env: NodeJS.ProcessEnv, at: string, wrap: string[] = []) {
  const [file, ...prefix] = [...wrap, process.execPath];
  const child = spawn(file!, [...prefix, '--import', SIGNAL_AT, VAULT_BIN, 'token', 'acme', '--debug'], {
    env: { ...env, VAULT_TEST_SIGNAL: 'SIGSTOP', VAULT_TEST_SIGNAL_AT: at },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  t.after(() => killGroup(child));
  const seen = { out: '', err: '' };
  child.stdout.setEncoding('utf8').on('data', (d: string) => (seen.out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (seen.err += d));
  const exited = once(child, 'exit');
  while (!stopped(child.pid!)) {
    assert.equal(child.exitCode ?? child.signalCode, null, `vault ended before it paused:\n${seen.err}`);
    await sleep(20);
  }
  return { child, seen, exited };
}

/** `vault <args>` in the sandbox, with `extra` added to its environment. */
export function vault(box: Sandbox, args: string[], extra: NodeJS.ProcessEnv = {}, input?: string): Promise<RunResult> {
  return runVault(args, { env: { ...box.env, ...extra }, input });
}

/** A vault process that said it is ready, still running. */
export interface StartedVault {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  exited: Promise<[number | null, NodeJS.Signals | null]>;
}

/**
 * Starts `vault ...args` and resolves once `ready(stdout so far)` holds; rejects with its stderr if
 * it exits first. `groups`: run it in a session and process group of its own, added to that set
 * (groupsKilledAfterEach) before it is waited for.
 */
export async function startVaultUntil(
  args: string[],
  options: { env: NodeJS.ProcessEnv; groups?: Set<ChildProcess> },
  ready: (stdout: string) => boolean,
): Promise<StartedVault> {
  const child = spawn(process.execPath, [VAULT_BIN, ...args], {
    env: options.env,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: options.groups !== undefined,
  });
  options.groups?.add(child);
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  // Bounded: a vault that never says it is ready is killed (and the wait rejects) after READY_MS.
  const timer = setTimeout(() => child.kill('SIGKILL'), READY_MS);
  await new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (ready(stdout)) resolve();
    });
    child.once('exit', () => reject(new Error(`vault ${args[0]} exited before it was ready: ${stderr}`)));
  }).finally(() => clearTimeout(timer));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

const READY_MS = 60_000;

/**
 * `promise`, or a rejection naming `what` after `ms`: for waits on another process or the network
 * (an exit, a connection error), so a wrong outcome fails the test instead of hanging the run.
 */
export function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still waiting after ${ms / 1000} s for ${what}`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * Kills the process group of a child spawned with `detached: true` (it, and whatever it started),
 * if anything of it is left. A test that fails half-way must not leave a stopped or orphaned
 * process holding its pipes open: the run would hang instead of reporting the failure.
 */
export function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // The whole group has exited already.
  }
}

/**
 * A set for the detached children a suite starts: after each test, whatever a test left of them
 * (a command looping on after vault died) is killed with its process group, not left to hang the run.
 */
export function groupsKilledAfterEach(): Set<ChildProcess> {
  const groups = new Set<ChildProcess>();
  afterEach(() => {
    for (const child of groups) killGroup(child);
    groups.clear();
  });
  return groups;
}
