// Shared pieces of the login tests: a vault process the test can talk to while it waits, raw
// requests to its loopback listener, and looks into the file store.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';

import { VAULT_BIN, type RunResult, type Sandbox } from './cli.js';
import { credentialsFile, entries } from './world.js';

/** A vault process still running: its output so far, and ways to wait for more. */
export interface LiveVault {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stderr; rejects if vault exits first. */
  waitForStderr(pattern: RegExp): Promise<RegExpMatchArray>;
  exited: Promise<RunResult>;
}

export function startVault(args: string[], env: NodeJS.ProcessEnv): LiveVault {
  const child = spawn(process.execPath, [VAULT_BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const watchers = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    for (const w of watchers) w();
  });
  child.stdin!.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const exited = new Promise<RunResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      for (const w of watchers) w();
      resolve({ code, signal, stdout, stderr });
    });
  });
  let closed = false;
  void exited.then(() => (closed = true));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitForStderr(pattern) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(stderr);
          if (match) {
            watchers.delete(check);
            resolve(match);
          } else if (closed || child.exitCode !== null || child.signalCode !== null) {
            watchers.delete(check);
            reject(new Error(`vault exited before printing ${pattern}; stderr:\n${stderr}`));
          }
        };
        watchers.add(check);
        check();
      });
    },
  };
}

/** The authorization URL a loopback login printed on stderr. */
export async function printedUrl(vault: LiveVault): Promise<URL> {
  const [, url] = await vault.waitForStderr(/Open this URL[^\n]*\n\n {2}(\S+)\n/);
  return new URL(url!);
}

/** The loopback port an authorization URL sends the browser back to. */
export function callbackPort(url: URL): number {
  const redirect = url.searchParams.get('redirect_uri');
  if (!redirect) throw new Error(`no redirect_uri in ${url.href}`);
  return Number(new URL(redirect).port);
}

/** True when nothing accepts connections on 127.0.0.1:port any more. */
export function portRefuses(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ECONNREFUSED' ? resolve(true) : reject(error),
    );
  });
}

/** One raw HTTP request to the listener, with full control of the method, path and headers (Host among them). */
export function rawRequest(
  port: number,
  options: { method?: string; path: string; host?: string; body?: string; headers?: Record<string, string> },
): Promise<{ status: number; body: string; location?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: { host: options.host ?? `127.0.0.1:${port}`, ...options.headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, location: res.headers.location }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The entries of the sandbox's file store (VAULT_STORE=file), or {} when nothing was written. */
export function fileStoreEntries(sb: Sandbox): Record<string, string> {
  return existsSync(credentialsFile(sb)) ? entries(sb) : {};
}

/**
 * A VAULT_BROWSER command that only writes the URL it was given to `file` (and says something
 * on stdout, which must not reach vault's stdout). Returns the command.
 */
export function urlRecorder(dir: string, file: string): string {
  const script = join(dir, 'record-url.sh');
  writeFileSync(
    script,
    `#!/bin/sh\necho "browser launched"\nprintf '%s\\n' "$1" > "${file}.tmp" && mv "${file}.tmp" "${file}"\n`,
  );
  chmodSync(script, 0o755);
  return script;
}

/** Waits until `file` exists (the browser was launched) or vault ends; returns its first line. */
export async function recordedUrl(file: string, vault: LiveVault): Promise<URL> {
  let ended = false;
  void vault.exited.then(() => (ended = true));
  while (!existsSync(file)) {
    if (ended) throw new Error(`vault exited before launching the browser; stderr:\n${vault.stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return new URL(readFileSync(file, 'utf8').trim());
}

/**
 * vault on a pseudo-terminal (util-linux `script`), so stdin and stderr are TTYs: what the
 * terminal showed so far (carriage returns dropped), and a keyboard.
 */
export function onTerminal(args: string[], env: NodeJS.ProcessEnv) {
  const command = [process.execPath, VAULT_BIN, ...args].map((a) => `'${a}'`).join(' ');
  const child = spawn('script', ['-qec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  const waiters = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    screen += d.replace(/\r/g, '');
    for (const w of waiters) w();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  void exited.then(() => clearTimeout(timer));
  return {
    screen: () => screen,
    type: (keys: string) => child.stdin.write(keys),
    exited,
    waitFor(text: string) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (screen.includes(text)) {
            waiters.delete(check);
            resolve();
          } else if (child.exitCode !== null) {
            waiters.delete(check);
            reject(new Error(`exited before showing ${JSON.stringify(text)}:\n${screen}`));
          }
        };
        waiters.add(check);
        child.on('close', check);
        check();
      });
    },
  };
}
