// Storage faults seen through the CLI: corrupt and future-format entries (file store and
// keychain), wrong permissions and ownership, a full disk (a real tmpfs) and a file size limit,
// and a keychain locked between two calls or while a refresh is in flight. Each is reported with
// its location and exit 5, leaves the store as it was, and costs no login — except a store that
// fails after the server has rotated the refresh token, which is said in so many words.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { runCommand, type Sandbox, vault } from '../../support/cli.js';
import { plantEntry } from '../../support/cli-setup.js';
import { startKeyringSession, type KeyringSession } from '../../support/keyring-session.js';
import { STORAGE_FAULTS, type StorageFault } from './cases.js';
import {
  HANG_BOUND_MS,
  PROVIDER,
  TOKEN_PATH,
  argvWatch,
  assertLoginIntact,
  withLogin as loginCase,
  credentialsFile,
  keychainEntry,
  ok,
  start,
  storedRefreshToken,
  timed,
  type World,
} from '../../support/world.js';

const argv = argvWatch();
const RT_KEY = `rt:${PROVIDER}:default`;
const AT_KEY = `at:${PROVIDER}:default:*`;
const NOBODY = 65534;
const REFRESH = ['token', PROVIDER, '--force-refresh'];

/** stderr's one "error:" line (warnings and nothing else may come with it). */
function errorLine(stderr: string): string {
  const errors = stderr.split('\n').filter((l) => l.startsWith('error:'));
  assert.equal(errors.length, 1, stderr);
  return errors[0]!;
}

/** A world and a logged-in sandbox for one case, torn down afterwards. */
function withLogin(extra: NodeJS.ProcessEnv, body: (world: World, box: Sandbox) => Promise<void>): Promise<void> {
  return loginCase(argv, { extra }, body);
}

/** Where a bad refresh-token entry is planted, how vault names it, and what it reads back. */
interface EntryPlace {
  env: NodeJS.ProcessEnv;
  plant: (box: Sandbox, value: string) => void;
  name: (box: Sandbox) => string;
  /** What the place holds now, to compare with what it held after the planting. */
  contents: (box: Sandbox) => unknown;
}

const IN_FILE: EntryPlace = {
  env: {},
  plant: (box, value) => plantEntry(box, RT_KEY, value),
  name: (box) => `entry "${RT_KEY}" of ${credentialsFile(box)}`,
  contents: (box) => readFileSync(credentialsFile(box)),
};

/** The value written with the keyring API, under the sandbox's service. */
const IN_KEYCHAIN: EntryPlace = {
  env: { VAULT_STORE: 'keychain' },
  plant: (box, value) => keychainEntry(box, RT_KEY).setPassword(value),
  name: (box) => `keychain entry "${RT_KEY}" (service "${box.env.VAULT_KEYRING_SERVICE}")`,
  contents: (box) => keychainEntry(box, RT_KEY).getPassword(),
};

/** A bad refresh-token entry: exit 5 naming it, the entry unchanged, no refresh spent; a new login replaces it. */
function badEntry(place: EntryPlace, value: string, message: RegExp): () => Promise<void> {
  return () =>
    withLogin(place.env, async (world, box) => {
      place.plant(box, value);
      const planted = place.contents(box);
      const line = await refused(box, REFRESH);
      assert.ok(line.includes(place.name(box)), `the message does not name the entry: ${line}`);
      assert.match(line, message);
      assert.deepEqual(place.contents(box), planted, 'the bad entry was changed or dropped');
      assert.equal(world.server.counts.refresh, 0);
      await ok(box, ['login', PROVIDER]);
      await ok(box, REFRESH);
    });
}

/** `args` fails with exit 5; returns its one error line. */
async function refused(box: Sandbox, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const r = await vault(box, args, env);
  assert.equal(r.code, 5, r.stderr);
  return errorLine(r.stderr);
}

function assertNotSpent(world: World, what = 'the refresh token'): void {
  assert.equal(world.server.counts.refresh, 0, `${what} was spent although its successor could not be stored`);
}

/** Runs mount(8) or umount(8): the suite runs as root, as CI does. */
async function mount(command: 'mount' | 'umount', args: string[]): Promise<void> {
  const r = await runCommand(command, args, { env: { PATH: process.env.PATH } });
  assert.equal(r.code, 0, `${command} ${args.join(' ')} failed: ${r.stderr}`);
}

/** Fills the filesystem of `dir` to the last byte with one file; returns it. */
function fill(dir: string): string {
  const file = join(dir, 'filler');
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(4096, 0x5a);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    closeSync(fd);
  }
  return file;
}

/**
 * A login whose file store is moved onto a 64 KiB tmpfs, private to us, for `body` (given the
 * refresh token stored before the move and the store's new directory); unmounted afterwards.
 */
function withStoreOnTmpfs(body: (world: World, box: Sandbox, refreshToken: string, disk: string) => Promise<void>) {
  return () =>
    withLogin({}, async (world, box) => {
      const refreshToken = storedRefreshToken(box);
      const disk = join(box.dir, 'small-disk');
      mkdirSync(disk, { recursive: true });
      await mount('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', disk]);
      try {
        writeFileSync(join(disk, 'credentials.json'), readFileSync(credentialsFile(box)), { mode: 0o600 });
        rmSync(credentialsFile(box));
        box.env.VAULT_DATA_DIR = disk;
        await body(world, box, refreshToken, disk);
      } finally {
        await mount('umount', ['-l', disk]);
      }
    });
}

/** Reads one entry of a nested keyring session's keychain, in a process on that session's bus. */
async function nestedKeychainGet(address: string, service: string, key: string): Promise<string> {
  const script = `const k = require('@napi-rs/keyring'); process.stdout.write(new k.Entry(process.argv[1], process.argv[2], { linux: { store: 'secret-service' } }).getPassword() ?? '')`;
  const r = await runCommand(process.execPath, ['-e', script, service, key], {
    env: { PATH: process.env.PATH, DBUS_SESSION_BUS_ADDRESS: address },
  });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

/** A login on the keychain of a keyring session of its own, which `body` may lock. */
function withLockableKeychain(body: (world: World, box: Sandbox, session: KeyringSession) => Promise<void>) {
  return async () => {
    const session = await startKeyringSession();
    try {
      await withLogin({ VAULT_STORE: 'keychain', DBUS_SESSION_BUS_ADDRESS: session.address }, (world, box) =>
        body(world, box, session),
      );
    } finally {
      await session.stop();
    }
  };
}

const CORRUPT = '{"v":1,"refresh_tok';
const FROM_THE_FUTURE = JSON.stringify({ v: 2, refresh_token: 'from-the-future', obtained_at: 0 });
const NEWER = /newer vault \(format v2\): upgrade vault/;

const CASES: Record<StorageFault, () => Promise<void>> = {
  'corrupt refresh-token entry in the file store': badEntry(IN_FILE, CORRUPT, /corrupt \(not JSON\)/),
  'corrupt refresh-token entry in the keychain': badEntry(IN_KEYCHAIN, CORRUPT, /corrupt \(not JSON\)/),
  'refresh-token entry from a newer format in the file store': badEntry(IN_FILE, FROM_THE_FUTURE, NEWER),
  'refresh-token entry from a newer format in the keychain': badEntry(IN_KEYCHAIN, FROM_THE_FUTURE, NEWER),

  'corrupt cached access token in the file store': () =>
    withLogin({}, async (world, box) => {
      const refreshToken = storedRefreshToken(box);
      plantEntry(box, AT_KEY, 'not json at all');
      // The cache is disposable: the damage is reported with its location and a refresh replaces it.
      const r = await vault(box, ['token', PROVIDER]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stderr.includes(`warning: entry "${AT_KEY}" of ${credentialsFile(box)} is corrupt`), r.stderr);
      assert.equal(world.server.counts.refresh, 1);
      assert.notEqual(storedRefreshToken(box), refreshToken, 'the rotated refresh token was stored');
    }),

  'credentials file readable by others (0644)': () =>
    withLogin({}, async (world, box) => {
      const refreshToken = storedRefreshToken(box);
      chmodSync(credentialsFile(box), 0o644);
      const r = await ok(box, ['token', PROVIDER]);
      assert.equal(r.stderr, `warning: fixed permissions of ${credentialsFile(box)}: was 644, now 600\n`);
      assert.equal(statSync(credentialsFile(box)).mode & 0o777, 0o600);
      await assertLoginIntact(world, box, refreshToken);
    }),

  // Root passes every permission check of the kernel, but vault's own check compares owners, so
  // this runs as root too: the file is handed to `nobody`.
  'credentials file owned by another user': () =>
    withLogin({}, async (world, box) => {
      const before = readFileSync(credentialsFile(box));
      chownSync(credentialsFile(box), NOBODY, NOBODY);
      assert.match(
        await refused(box, REFRESH),
        new RegExp(`${credentialsFile(box)} belongs to another user \\(uid ${NOBODY}\\)`),
      );
      assert.deepEqual(readFileSync(credentialsFile(box)), before);
      assert.equal(statSync(credentialsFile(box)).uid, NOBODY);
      assert.equal(world.server.counts.refresh, 0);
    }),

  'disk full during a refresh (tmpfs)': withStoreOnTmpfs(async (world, box, refreshToken, disk) => {
    const before = readFileSync(credentialsFile(box));
    const filler = fill(disk);
    assert.match(
      await refused(box, REFRESH),
      /^error: cannot write .*credentials\.json: ENOSPC: no space left on device.*\(the previous contents are intact\)$/,
    );
    assertNotSpent(world);
    assert.deepEqual(readFileSync(credentialsFile(box)), before);
    assert.deepEqual(readdirSync(disk).sort(), ['credentials.json', 'filler', 'locks']);
    unlinkSync(filler);
    await assertLoginIntact(world, box, refreshToken);
  }),

  'data directory on a read-only filesystem during a refresh': withStoreOnTmpfs(
    async (world, box, refreshToken, disk) => {
      const before = readFileSync(credentialsFile(box));
      // First without the lock directory (a store copied in by hand), then with it.
      for (const locks of [false, true]) {
        if (locks) mkdirSync(join(disk, 'locks'), { mode: 0o700 });
        await mount('mount', ['-o', 'remount,ro', disk]);
        const line = await refused(box, REFRESH);
        assert.match(line, /EROFS/);
        assert.ok(line.includes(disk), 'the message does not name the data directory');
        if (!locks) await mount('mount', ['-o', 'remount,rw', disk]);
      }
      assertNotSpent(world);
      assert.deepEqual(readFileSync(credentialsFile(box)), before);
      await mount('mount', ['-o', 'remount,rw', disk]);
      await assertLoginIntact(world, box, refreshToken);
    },
  ),

  'disk full before a refresh with VAULT_<NAME>_REFRESH_TOKEN (tmpfs)': withStoreOnTmpfs(
    async (world, box, refreshToken, disk) => {
      writeFileSync(credentialsFile(box), `${JSON.stringify({ v: 1, entries: {} })}\n`, { mode: 0o600 });
      const ci = { VAULT_ACME_REFRESH_TOKEN: refreshToken };
      const filler = fill(disk);
      assert.match(await refused(box, ['token', PROVIDER], ci), /ENOSPC/);
      assertNotSpent(world, 'the CI refresh token');
      assert.equal((await world.server.introspect(refreshToken)).active, true);
      unlinkSync(filler);
      await ok(box, ['token', PROVIDER], ci);
      assert.equal(world.server.counts.refresh, 1);
    },
  ),

  'disk full during a new login over an old one (tmpfs)': withStoreOnTmpfs(async (world, box, refreshToken, disk) => {
    const before = readFileSync(credentialsFile(box));
    const filler = fill(disk);
    assert.match(
      await refused(box, ['login', PROVIDER]),
      /ENOSPC: no space left on device.*\(the previous contents are intact\)$/,
    );
    assert.deepEqual(readFileSync(credentialsFile(box)), before);
    unlinkSync(filler);
    await assertLoginIntact(world, box, refreshToken);
  }),

  // Under RLIMIT_FSIZE the write fails with EFBIG and the kernel sends SIGXFSZ; the signal-exit
  // handler that proper-lockfile installs re-raises it after the write failed and the temporary
  // file was removed, so the process ends by that signal instead of with exit 5.
  'file size limit during a refresh (RLIMIT_FSIZE)': () =>
    withLogin({}, async (world, box) => {
      const refreshToken = storedRefreshToken(box);
      const before = readFileSync(credentialsFile(box));
      const limited = start(REFRESH, box.env, [], ['prlimit', `--fsize=${before.length - 64}`]);
      const r = await limited.done;
      assert.ok(r.code === 5 || r.signal === 'SIGXFSZ', `ended with ${r.code ?? r.signal}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      assertNotSpent(world);
      assert.deepEqual(readFileSync(credentialsFile(box)), before, 'credentials.json changed');
      assert.deepEqual(
        readdirSync(box.env.VAULT_DATA_DIR!).sort(),
        ['credentials.json', 'locks'],
        'a temporary file was left behind',
      );
      await assertLoginIntact(world, box, refreshToken);
    }),

  'keychain locked between two calls': withLockableKeychain(async (world, box, session) => {
    const refreshToken = await nestedKeychainGet(session.address, box.env.VAULT_KEYRING_SERVICE!, RT_KEY);
    assert.match(refreshToken, /"refresh_token"/);
    await ok(box, ['token', PROVIDER]);
    await session.lock();
    const locked = await refused(box, REFRESH);
    assert.match(locked, /^error: the keychain is locked: unlock it first/);
    // The file store does not see the keychain's logins: advising it would split the login in two.
    assert.doesNotMatch(locked, /VAULT_STORE=file/);
    assert.equal(world.server.counts.refresh, 0, 'a refresh was attempted with a locked keychain');
    const token = (JSON.parse(refreshToken) as { refresh_token: string }).refresh_token;
    assert.equal((await world.server.introspect(token)).active, true, 'the stored refresh token is no longer honoured');
  }),

  // The one storage fault that costs a login: the server has rotated, and the new refresh token
  // cannot be kept. vault says so, with the command to run.
  'keychain locked while the refresh is in flight': withLockableKeychain(async (world, box, session) => {
    world.proxy.set(TOKEN_PATH, { kind: 'hold-response' });
    const running = start(REFRESH, box.env);
    await world.proxy.held();
    await session.lock();
    world.proxy.set(TOKEN_PATH, undefined);
    world.proxy.release();
    const { value: r, ms } = await timed(() => running.done);
    assert.ok(ms < HANG_BOUND_MS, `took ${Math.round(ms)} ms`);
    assert.equal(r.code, 5, r.stderr);
    assert.equal(r.stdout, '', 'a token was handed out although its refresh token could not be stored');
    assert.match(
      errorLine(r.stderr),
      /^error: the keychain is locked: .* — and acme has already rotated the refresh token, so this login is lost: run `vault login acme` once the store works again$/,
    );
    assert.equal(world.server.counts.refresh, 1);
  }),
};

describe('storage faults', { concurrency: 4 }, () => {
  for (const name of STORAGE_FAULTS) test(name, CASES[name]);
});

test('no issued token or code was ever in the argv of any process while the storage faults ran', () => argv.check());
