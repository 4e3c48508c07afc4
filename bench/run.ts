// `npm run bench`: how fast `vault token` is, measured side by side with baselines in one run.
// Commands under comparison run interleaved (round-robin, order rotated each round) and are
// compared by medians, so drift in machine load hits all of them alike. Prints figures; never
// fails on a number. BENCH_ROUNDS (default 40) sets the rounds per comparison; BENCH_ONLY=hot times
// the cached-token path alone (a minute, for trying a change to it).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

import { startTestServer } from '../test/support/oidc-server.js';
import { startFleet, type Fleet } from '../test/support/fleet.js';
import { ROOT, VAULT_BIN } from '../test/support/cli.js';
import { expire, loggedIn, type StoreKind, type Vault } from '../test/support/vault-sandbox.js';

// The keychain figures need a Secret Service: without a session bus, run again inside a
// throwaway one (the same gnome-keyring session the tests use).
if (!process.env.DBUS_SESSION_BUS_ADDRESS && !process.env.VAULT_IN_TEST_KEYRING && hasKeyringTools()) {
  const r = spawnSync(
    'sh',
    [join(ROOT, 'scripts', 'with-keyring.sh'), process.execPath, ...process.execArgv, ...process.argv.slice(1)],
    {
      stdio: 'inherit',
    },
  );
  process.exit(r.status ?? 1);
}

const ROUNDS = Number(process.env.BENCH_ROUNDS) || 40;
// Another build's bin/vault.js (say, of the last release) to time beside this one in the same rounds.
const BEFORE = process.env.BENCH_BEFORE;
const ONLY_HOT = process.env.BENCH_ONLY === 'hot';
const WARMUP = 3;

/**
 * The environment of every timed command, without NODE_EXTRA_CA_CERTS: node reads and parses that
 * bundle at start-up (about 3× `node -e 0` on a machine with the Debian CA bundle), which would
 * drown every difference measured here.
 */
function timed(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_EXTRA_CA_CERTS: _unset, ...rest } = env;
  return rest;
}

interface Command {
  name: string;
  argv: string[];
  env: NodeJS.ProcessEnv;
  /** Written to stdin (a credential helper's request); otherwise stdin is closed. */
  input?: string;
}

interface Run {
  ms: number;
  code: number | null;
  stdout: string;
}

function hasKeyringTools(): boolean {
  return ['dbus-run-session', 'gnome-keyring-daemon', 'dbus-send'].every(
    (tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0,
  );
}

function runOnce(argv: string[], env: NodeJS.ProcessEnv, input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(argv[0]!, argv.slice(1), {
      env: timed(env),
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (input !== undefined) child.stdin!.end(input);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - started;
      if (code !== 0) process.stderr.write(`bench: ${argv.slice(1).join(' ')} exited ${code}: ${stderr.trim()}\n`);
      resolve({ ms, code, stdout });
    });
  });
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/** Interleaved rounds of every command; returns each command's wall times. */
async function interleaved(commands: Command[], rounds = ROUNDS): Promise<Map<string, number[]>> {
  const times = new Map(commands.map((c) => [c.name, [] as number[]]));
  for (let round = -WARMUP; round < rounds; round++) {
    const shift = ((round % commands.length) + commands.length) % commands.length;
    const order = [...commands.slice(shift), ...commands.slice(0, shift)];
    for (const c of order) {
      const r = await runOnce(c.argv, c.env, c.input);
      if (round >= 0) times.get(c.name)!.push(r.ms);
    }
  }
  return times;
}

function fmt(ms: number): string {
  return `${ms.toFixed(1)} ms`;
}

/** The figures the targets are about, gathered for the summary at the end. */
const verdicts: string[] = [];

function verdict(what: string, value: string, ok: boolean, target: string): void {
  verdicts.push(`  ${ok ? 'met    ' : 'NOT met'}  ${what.padEnd(52)} ${value.padStart(12)}  (target ${target})`);
}

/** Prints medians and each command's ratio to the baseline; `targets` maps names to a ratio target. */
function report(
  title: string,
  times: Map<string, number[]>,
  baseline: string,
  targets: Record<string, number> = {},
): void {
  const base = median(times.get(baseline)!);
  console.log(`\n${title}  (${times.get(baseline)!.length} interleaved rounds, medians)`);
  for (const [name, t] of times) {
    const m = median(t);
    const target = targets[name];
    const ratio =
      name === baseline ? '' : `  ${(m / base).toFixed(2)}× ${baseline}${target ? `  (target ≤ ${target}×)` : ''}`;
    console.log(`  ${name.padEnd(58)} ${fmt(m).padStart(10)}   p90 ${fmt(quantile(t, 0.9)).padStart(10)}${ratio}`);
    if (target) verdict(name, `${(m / base).toFixed(2)}×`, m / base <= target, `≤ ${target}×`);
  }
}

const vaultCmd = (...args: string[]): string[] => [process.execPath, VAULT_BIN, ...args];

/**
 * `n` concurrent `vault token acme`, spread over `runners` in turn, after the cached token expired;
 * run by `bin` (BENCH_BEFORE's, for the same storm before a change).
 */
async function storm(runners: Vault[], label: string, n: number, counts: () => number, bin = VAULT_BIN): Promise<void> {
  await expire(runners[0]!);
  const before = counts();
  const results = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      runOnce([process.execPath, bin, 'token', 'acme'], runners[i % runners.length]!.env),
    ),
  );
  const ok = results.filter((r) => r.code === 0).length;
  const tokens = new Set(results.filter((r) => r.code === 0).map((r) => r.stdout)).size;
  const latencies = results.map((r) => r.ms);
  const grants = counts() - before;
  console.log(
    `  ${String(n).padStart(3)} processes (${label}):  refresh grants ${grants} (target 1),  exit 0: ${ok}/${n},  distinct tokens ${tokens},` +
      `  latency median ${fmt(median(latencies))}, max ${fmt(Math.max(...latencies))}`,
  );
  verdict(
    `expiry storm, ${n} processes (${label}): refresh grants`,
    String(grants),
    grants === 1 && ok === n && tokens === 1,
    '1, all exit 0',
  );
}

function peakRssKiB(argv: string[], env: NodeJS.ProcessEnv): number | undefined {
  const r = spawnSync('/usr/bin/time', ['-f', '%M', ...argv], { env: timed(env), encoding: 'utf8' });
  const last = r.stderr.trim().split('\n').pop() ?? '';
  return /^\d+$/.test(last) ? Number(last) : undefined;
}

const server = await startTestServer({ accessTokenTtl: 3600 });
const keychain = Boolean(process.env.DBUS_SESSION_BUS_ADDRESS);
const sandboxes: Vault[] = [];
let fleet: Fleet | undefined;
const dir = mkdtempSync(join(tmpdir(), 'vault-bench-'));
try {
  if (BEFORE) console.log(`BENCH_BEFORE: also timing ${BEFORE}`);
  console.log(
    `vault bench: node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), ${ROUNDS} rounds`,
  );
  // Other work on the machine stretches every process alike but inflates the ratios: say how busy it was.
  console.log(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `NODE_EXTRA_CA_CERTS is unset for every timed command${process.env.NODE_EXTRA_CA_CERTS ? ` (here it is ${process.env.NODE_EXTRA_CA_CERTS})` : ''}: it alone makes node start about 3× slower and hides every difference`,
  );
  if (!keychain) console.log('no D-Bus session bus and no gnome-keyring to start one: keychain figures are skipped');

  // The keychain store twice: access tokens in the runtime directory (the default on Linux), and
  // in the keychain itself (VAULT_ACCESS_CACHE=store, and what macOS and Windows do).
  const variants: { label: string; kind: StoreKind; env: NodeJS.ProcessEnv }[] = [
    { label: 'file', kind: 'file', env: {} },
    ...(keychain
      ? [
          { label: 'keychain, access token in the runtime dir', kind: 'keychain' as const, env: {} },
          {
            label: 'keychain, VAULT_ACCESS_CACHE=store',
            kind: 'keychain' as const,
            env: { VAULT_ACCESS_CACHE: 'store' },
          },
        ]
      : []),
  ];
  const vaults = new Map<string, Vault>();
  for (const { label, kind, env } of variants) {
    const v = await loggedIn(server, {
      store: kind,
      env: env,
      provider: { extra: ['--git-host', 'git.example.test', '--registry-host', 'registry.example.test'] },
    });
    sandboxes.push(v);
    vaults.set(label, v);
  }
  const fileVault = vaults.get('file')!;
  const hotName = (label: string) => `vault token acme (cached, ${label})`;
  // The fleet store: four runners (nothing local in common) sharing one login in a private
  // redis-server, which runs with appendfsync always as the README asks of a fleet's Redis.
  fleet = await startFleet(server);
  const fleetLabel = 'redis, 4 runners';

  // Hot path: a cached token, no network (but for the fleet store's Redis).
  const nodeBaseline: Command = { name: 'node -e 0', argv: [process.execPath, '-e', '0'], env: fileVault.env };
  const floor = 'floor: node reading config.toml + credentials.json';
  const keyringFloor = 'bare @napi-rs/keyring read of the entry';
  const hot = await interleaved([
    nodeBaseline,
    { name: floor, argv: [process.execPath, join(ROOT, 'bench', 'floor.cjs')], env: fileVault.env },
    ...variants.map(({ label }) => ({
      name: hotName(label),
      argv: vaultCmd('token', 'acme'),
      env: vaults.get(label)!.env,
    })),
    // A runner other than the one that logged in: the access token comes from Redis, not a local file.
    { name: hotName(fleetLabel), argv: vaultCmd('token', 'acme'), env: fleet.runners[1]!.env },
    ...(keychain
      ? [
          {
            name: keyringFloor,
            argv: [process.execPath, join(ROOT, 'bench', 'bare-keyring.cjs')],
            env: vaults.get(variants[2]!.label)!.env,
          },
        ]
      : []),
    // The other build reads access tokens where it always did: the file store, or the keychain.
    ...(BEFORE
      ? [variants[0]!, ...variants.slice(2)].map(({ label }) => ({
          name: `BENCH_BEFORE: ${hotName(label.replace(', VAULT_ACCESS_CACHE=store', ''))}`,
          argv: [process.execPath, BEFORE, 'token', 'acme'],
          env: vaults.get(label)!.env,
        }))
      : []),
  ]);
  report('Hot path: `vault token` with a cached token', hot, 'node -e 0', {
    [hotName('file')]: 1.1,
    ...(keychain && { [hotName(variants[1]!.label)]: 1.15 }),
  });

  // Every other call programs make with a cached token, in one set of interleaved rounds beside
  // node -e 0: on the file store, the keychain store (runtime-dir cache) and a fleet runner
  // without a runtime directory (as in CI containers), whose access token is its local sealed copy.
  const callLabels = variants.slice(0, 2).map((v) => v.label);
  const isExec = (name: string) => name.startsWith('vault exec');
  const calls = (label: string, env: NodeJS.ProcessEnv): Command[] => [
    {
      name: `vault token, provider from VAULT_PROVIDER (${label})`,
      argv: vaultCmd('token'),
      env: { ...env, VAULT_PROVIDER: 'acme' },
    },
    {
      name: `vault git-credential get (${label})`,
      argv: vaultCmd('git-credential', 'get'),
      env,
      input: 'protocol=https\nhost=git.example.test\n\n',
    },
    {
      name: `docker-credential-vault get (${label})`,
      argv: [process.execPath, join(ROOT, 'bin', 'docker-credential-vault.js'), 'get'],
      env,
      input: 'registry.example.test\n',
    },
    { name: `vault kube-credential acme (${label})`, argv: vaultCmd('kube-credential', 'acme'), env },
    { name: `vault env acme (${label})`, argv: vaultCmd('env', 'acme'), env },
    { name: `vault exec acme -- true (${label})`, argv: vaultCmd('exec', 'acme', '--', 'true'), env },
  ];
  const { XDG_RUNTIME_DIR: _noRuntime, ...containerRunner } = fleet.runners[2]!.env;
  const fleetNoRuntime = `vault token acme (cached, ${fleetLabel}, no XDG_RUNTIME_DIR)`;
  // What Node itself pays on that path: node:crypto, node:net, one connection and one answer.
  const fleetFloor = 'floor: node loading node:crypto and asking Redis one question';
  // The runner's first call reads Redis and keeps its copy; the rounds time the calls after it.
  await runOnce(vaultCmd('token', 'acme'), containerRunner);
  // exec's floor: what node itself pays to start a child and wait for it (tens of ms on this VM:
  // fork of a node process, exec of the program). exec's target is about vault's start-up before
  // the child, so its ratio is taken to this floor rather than to node -e 0.
  const spawnFloor = 'floor: node -e starting `true` and waiting for it';
  const callRows = [
    {
      name: spawnFloor,
      argv: [process.execPath, '-e', "require('node:child_process').spawnSync('true', { stdio: 'inherit' })"],
      env: fileVault.env,
    },
    ...callLabels.flatMap((label) => calls(label, vaults.get(label)!.env)),
    { name: fleetNoRuntime, argv: vaultCmd('token', 'acme'), env: containerRunner },
    { name: fleetFloor, argv: [process.execPath, join(ROOT, 'bench', 'bare-fleet.cjs')], env: containerRunner },
    ...(BEFORE
      ? [
          {
            name: `BENCH_BEFORE: vault git-credential get (file)`,
            argv: [process.execPath, BEFORE, 'git-credential', 'get'],
            env: fileVault.env,
            input: 'protocol=https\nhost=git.example.test\n\n',
          },
          {
            name: `BENCH_BEFORE: ${fleetNoRuntime}`,
            argv: [process.execPath, BEFORE, 'token', 'acme'],
            env: containerRunner,
          },
        ]
      : []),
  ];
  const callTimes = await interleaved([nodeBaseline, ...callRows]);
  report('Every call a cached token answers', callTimes, 'node -e 0', {
    ...Object.fromEntries(
      callRows
        .filter((c) => !c.name.startsWith('BENCH_BEFORE') && !c.name.startsWith('floor') && !isExec(c.name))
        .map((c) => [c.name, c.name === fleetNoRuntime ? 1.3 : 1.15]),
    ),
  });
  const overFleetFloor = median(callTimes.get(fleetNoRuntime)!) - median(callTimes.get(fleetFloor)!);
  console.log(
    `  fleet runner: vault adds ${fmt(overFleetFloor)} to a program that only loads node:crypto and asks Redis`,
  );
  for (const name of callRows.map((c) => c.name).filter(isExec)) {
    const ratio = median(callTimes.get(name)!) / median(callTimes.get(spawnFloor)!);
    console.log(`  ${name}: ${ratio.toFixed(2)}× the floor of node starting \`true\` (target ≤ 1.15×)`);
    verdict(`${name} / spawn floor`, `${ratio.toFixed(2)}×`, ratio <= 1.15, '≤ 1.15×');
  }
  const over = (name: string) => median(hot.get(name)!) - median(hot.get('node -e 0')!);
  console.log(
    `  file store: vault adds ${fmt(over(hotName('file')) - over(floor))} to a program that only reads the same two files`,
  );
  if (keychain) {
    console.log(
      `  keychain read through the Secret Service alone costs ${fmt(over(keyringFloor))} over node; with the runtime-dir cache vault skips it (${fmt(over(hotName(variants[1]!.label)))} over node)`,
    );
  }

  if (!ONLY_HOT) {
    // Refresh path: one refresh grant per run against the same local server.
    const bare = await loggedIn(server, { store: 'file' });
    sandboxes.push(bare);
    const rtFile = join(dir, 'refresh-token');
    writeFileSync(rtFile, (await bare.readLogin())!.refresh_token!, { mode: 0o600 });
    const bareEnv = {
      PATH: process.env.PATH,
      BENCH_ISSUER: server.issuer,
      BENCH_CLIENT_ID: server.publicClientId,
      BENCH_RT_FILE: rtFile,
    };
    const refreshBaseline = 'openid-client discovery + refreshTokenGrant';
    const refreshName = 'vault token acme --force-refresh (file)';
    const refresh = await interleaved(
      [
        { name: refreshBaseline, argv: [process.execPath, join(ROOT, 'bench', 'bare-refresh.mjs')], env: bareEnv },
        { name: refreshName, argv: vaultCmd('token', 'acme', '--force-refresh'), env: fileVault.env },
      ],
      Math.max(10, Math.round(ROUNDS / 2)),
    );
    report('Refresh path: one refresh grant (discovery included)', refresh, refreshBaseline, { [refreshName]: 1.5 });

    // Expiry storm: everyone starts at once after the cached token expired.
    console.log('\nExpiry storm: N concurrent `vault token` after the cached token expired');
    for (const { label } of variants.slice(0, 2)) {
      for (const n of [20, 100]) {
        if (BEFORE) await storm([vaults.get(label)!], `${label}, BENCH_BEFORE`, n, () => server.counts.refresh, BEFORE);
        await storm([vaults.get(label)!], label, n, () => server.counts.refresh);
      }
    }
    // The fleet: the same storm spread over the four runners, one lease in Redis between them.
    for (const n of [20, 100]) await storm(fleet.runners, fleetLabel, n, () => server.counts.refresh);

    // Memory: peak resident set of one process.
    if (existsSync('/usr/bin/time')) {
      console.log('\nMemory: peak RSS (median of 5, /usr/bin/time %M)');
      const rows: [string, string[], NodeJS.ProcessEnv][] = [
        ['node -e 0', [process.execPath, '-e', '0'], nodeBaseline.env],
        ...variants.map(({ label }): [string, string[], NodeJS.ProcessEnv] => [
          hotName(label),
          vaultCmd('token', 'acme'),
          vaults.get(label)!.env,
        ]),
        ...(BEFORE
          ? [variants[0]!, ...variants.slice(2)].map(({ label }): [string, string[], NodeJS.ProcessEnv] => [
              `BENCH_BEFORE: ${hotName(label.replace(', VAULT_ACCESS_CACHE=store', ''))}`,
              [process.execPath, BEFORE, 'token', 'acme'],
              vaults.get(label)!.env,
            ])
          : []),
      ];
      for (const [name, argv, env] of rows) {
        const samples = Array.from({ length: 5 }, () => peakRssKiB(argv, env)).filter(
          (x): x is number => x !== undefined,
        );
        console.log(
          `  ${name.padEnd(58)} ${samples.length ? `${(median(samples) / 1024).toFixed(1)} MiB` : 'not measured'}`,
        );
      }
    } else {
      console.log('\nMemory: /usr/bin/time is not installed; peak RSS not measured');
    }
  }
  console.log(
    `\nTargets (medians of this run; ratios against node -e 0 or bare openid-client from the same interleaved rounds):`,
  );
  for (const line of verdicts) console.log(line);
  console.log(
    `\nload average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
} finally {
  await fleet?.close();
  for (const v of sandboxes) v.cleanup();
  rmSync(dir, { recursive: true, force: true });
  await server.close();
}
