// Multi-user safety: the data and lock directories are per user, and one that others can write
// to, or that belongs to someone else, is refused (exit 5) with the command that fixes it —
// before anything is read from it or a refresh token is spent. Following the advice works.
// Runs as root (as CI does): the kernel lets root through, vault's own checks do not.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MULTI_USER, type MultiUserCase } from './cases.js';
import { vault, type Sandbox } from '../../support/cli.js';
import {
  PROVIDER,
  argvWatch,
  assertLoginIntact,
  withLogin as loginCase,
  credentialsFile,
  dataDirOf,
  ok,
  storedRefreshToken,
  type World,
} from '../../support/world.js';

const argv = argvWatch();
const NOBODY = 65534;
const ME = process.getuid!();

/** The XDG layout a user without VAULT_DATA_DIR has: data and locks in $XDG_DATA_HOME/vault. */
function xdgLayout(box: Sandbox): void {
  delete box.env.VAULT_DATA_DIR;
  box.env.XDG_DATA_HOME = join(box.dir, 'xdg-data');
}

function lockDirOf(box: Sandbox): string {
  return join(dataDirOf(box), 'locks');
}

function withLogin(
  adjust: ((box: Sandbox) => void) | undefined,
  body: (world: World, box: Sandbox) => Promise<void>,
): Promise<void> {
  return loginCase(argv, { adjust }, body);
}

type DirOf = (box: Sandbox) => string;

/** How one directory is spoilt, what vault says about it, and what following that advice does. */
interface Refusal {
  spoil: (dir: string) => void;
  error: (dir: string) => string;
  fix: (dir: string) => void;
}

/**
 * After `spoil`, `args` is refused with exit 5 and the one-line `error` (which names the
 * directory), spends no refresh token and changes no credential; after `fix` (what the advice
 * says) the same command succeeds.
 */
function refusedThenFixed(dirOf: DirOf, args: string[], { spoil, error, fix }: Refusal): () => Promise<void> {
  return () =>
    withLogin(xdgLayout, async (world, box) => {
      const dir = dirOf(box);
      assert.ok(existsSync(dir), `the login left no ${dir}`);
      spoil(dir);
      const store = readFileSync(credentialsFile(box));
      const refreshes = world.server.counts.refresh;
      const r = await vault(box, args);
      assert.equal(r.code, 5, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr, `error: ${error(dir)}\n`);
      assert.equal(world.server.counts.refresh, refreshes, 'a refresh token was spent');
      assert.deepEqual(readFileSync(credentialsFile(box)), store);
      fix(dir);
      await ok(box, args);
      await assertLoginIntact(world, box, storedRefreshToken(box));
    });
}

/** The directory made writable by others (`mode`): the advice is the chmod that undoes it. */
const writableByOthers = (dirOf: DirOf, mode: number, args: string[]) =>
  refusedThenFixed(dirOf, args, {
    spoil: (dir) => chmodSync(dir, mode),
    error: (dir) => `${dir} is writable by other users (mode ${mode.toString(8)}): run \`chmod 700 ${dir}\``,
    fix: (dir) => chmodSync(dir, 0o700),
  });

/** The directory given to another user; `fix` is what its real owner does with the advice. */
const ownedByAnother = (dirOf: DirOf, args: string[], fix: (dir: string) => void) =>
  refusedThenFixed(dirOf, args, {
    spoil: (dir) => chownSync(dir, NOBODY, NOBODY),
    error: (dir) =>
      `${dir} belongs to another user (uid ${NOBODY}): ` +
      `refusing to use it; if it is yours, run \`sudo chown -R ${ME} ${dir}\`, else remove it`,
    fix,
  });

const CACHED = ['token', PROVIDER];
const REFRESH = ['token', PROVIDER, '--force-refresh'];

const CASES: Record<MultiUserCase, () => Promise<void>> = {
  'data directory writable by its group (0770), cached token': writableByOthers(dataDirOf, 0o770, CACHED),
  'data directory writable by everyone (0777), refresh': writableByOthers(dataDirOf, 0o777, REFRESH),
  'data directory owned by another user': ownedByAnother(dataDirOf, CACHED, (dir) => chownSync(dir, ME, ME)),
  'lock directory writable by everyone (0777)': writableByOthers(lockDirOf, 0o777, REFRESH),
  'lock directory owned by another user': ownedByAnother(lockDirOf, REFRESH, (dir) => rmSync(dir, { recursive: true })),

  // XDG_RUNTIME_DIR pointing at a shared sticky directory: another user can create vault/ there
  // first. vault takes no locks there (nor anywhere but the data directory), so it never looks.
  'runtime directory shared like /tmp, vault/ planted in it by another user: not used': () =>
    withLogin(xdgLayout, async (world, box) => {
      const shared = join(box.dir, 'shared-tmp');
      mkdirSync(shared);
      chmodSync(shared, 0o1777);
      const planted = join(shared, 'vault');
      mkdirSync(planted, { mode: 0o755 });
      chownSync(planted, NOBODY, NOBODY);
      box.env.XDG_RUNTIME_DIR = shared;
      await assertLoginIntact(world, box, storedRefreshToken(box));
      assert.deepEqual(readdirSync(shared), ['vault']);
      assert.deepEqual(readdirSync(planted), [], 'vault used the planted directory');
      assert.equal(statSync(planted).uid, NOBODY);
    }),

  'locks without XDG_RUNTIME_DIR: in the per-user data directory, nothing in TMPDIR': () =>
    withLogin(
      (box) => {
        xdgLayout(box);
        delete box.env.XDG_RUNTIME_DIR;
      },
      async (world, box) => {
        // Set after the login: the test's browser (tsx) keeps a cache in TMPDIR, vault does not.
        box.env.TMPDIR = join(box.dir, 'tmp');
        mkdirSync(box.env.TMPDIR, { mode: 0o700 });
        await assertLoginIntact(world, box, storedRefreshToken(box));
        const locks = lockDirOf(box);
        const st = statSync(locks);
        assert.equal(st.uid, ME);
        assert.equal(st.mode & 0o777, 0o700);
        assert.deepEqual(readdirSync(box.env.TMPDIR!), [], 'vault left something in TMPDIR');
        assert.deepEqual(readdirSync(join(box.dir, 'runtime')), [], 'vault used a runtime directory it was not given');
      },
    ),
};

describe('multi-user safety of the data and lock directories', { concurrency: 4 }, () => {
  for (const name of MULTI_USER) test(name, CASES[name]);
});

test('no issued token or code was ever in the argv of any process while these cases ran', () => argv.check());
