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

/**
 * `args` is refused with exit 5 and `advice` (which names `dir`), spends no refresh token and
 * changes no credential; after `fix` (what the advice says) the same command succeeds.
 */
async function refusedThenFixed(
  world: World,
  box: Sandbox,
  args: string[],
  dir: string,
  problem: string,
  advice: string,
  fix: () => void,
): Promise<void> {
  const store = readFileSync(credentialsFile(box));
  const refreshes = world.server.counts.refresh;
  const r = await vault(box, args);
  assert.equal(r.code, 5, r.stderr);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, `error: ${dir} ${problem}: ${advice}\n`);
  assert.equal(world.server.counts.refresh, refreshes, 'a refresh token was spent');
  assert.deepEqual(readFileSync(credentialsFile(box)), store);
  fix();
  await ok(box, args);
  await assertLoginIntact(world, box, storedRefreshToken(box));
}

const chmodAdvice = (dir: string) => `run \`chmod 700 ${dir}\``;
const chownAdvice = (dir: string) =>
  `refusing to use it; if it is yours, run \`sudo chown -R ${ME} ${dir}\`, else remove it`;

const CASES: Record<MultiUserCase, () => Promise<void>> = {
  'data directory writable by its group (0770), cached token': () =>
    withLogin(xdgLayout, async (world, box) => {
      const dir = dataDirOf(box);
      chmodSync(dir, 0o770);
      await refusedThenFixed(
        world,
        box,
        ['token', PROVIDER],
        dir,
        'is writable by other users (mode 770)',
        chmodAdvice(dir),
        () => chmodSync(dir, 0o700),
      );
    }),

  'data directory writable by everyone (0777), refresh': () =>
    withLogin(xdgLayout, async (world, box) => {
      const dir = dataDirOf(box);
      chmodSync(dir, 0o777);
      await refusedThenFixed(
        world,
        box,
        ['token', PROVIDER, '--force-refresh'],
        dir,
        'is writable by other users (mode 777)',
        chmodAdvice(dir),
        () => chmodSync(dir, 0o700),
      );
    }),

  'data directory owned by another user': () =>
    withLogin(xdgLayout, async (world, box) => {
      const dir = dataDirOf(box);
      chownSync(dir, NOBODY, NOBODY);
      await refusedThenFixed(
        world,
        box,
        ['token', PROVIDER],
        dir,
        `belongs to another user (uid ${NOBODY})`,
        chownAdvice(dir),
        () => chownSync(dir, ME, ME),
      );
    }),

  'lock directory writable by everyone (0777)': () =>
    withLogin(xdgLayout, async (world, box) => {
      const dir = lockDirOf(box);
      assert.ok(existsSync(dir), 'the login took no lock in the data directory');
      chmodSync(dir, 0o777);
      await refusedThenFixed(
        world,
        box,
        ['token', PROVIDER, '--force-refresh'],
        dir,
        'is writable by other users (mode 777)',
        chmodAdvice(dir),
        () => chmodSync(dir, 0o700),
      );
    }),

  'lock directory owned by another user': () =>
    withLogin(xdgLayout, async (world, box) => {
      const dir = lockDirOf(box);
      chownSync(dir, NOBODY, NOBODY);
      await refusedThenFixed(
        world,
        box,
        ['token', PROVIDER, '--force-refresh'],
        dir,
        `belongs to another user (uid ${NOBODY})`,
        chownAdvice(dir),
        () => rmSync(dir, { recursive: true }),
      );
    }),

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
        const locks = join(dataDirOf(box), 'locks');
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
