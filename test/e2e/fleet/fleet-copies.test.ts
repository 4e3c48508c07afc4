// Fleet runners answer a valid access token without loading the Redis client: from a copy sealed
// with VAULT_STORE_KEY (in the runtime directory, else a private directory under the data
// directory), answered only while Redis says its lease's fencing generation is current. Proven by
// running the call from a copy of the package that holds bin/ and the cached-token bundle only
// (no node_modules, so no Redis client and no keyring binding).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { cachedTokenPackage, runVault } from '../../support/cli.js';
import { startFleet, type Fleet, type Runner } from '../../support/fleet.js';
import { expire, login } from '../../support/vault-sandbox.js';

let server: TestServer;
let fleet: Fleet;
let bare: string;
before(async () => {
  server = await startTestServer({ accessTokenTtl: 300 });
  // README's ACL user: the generation check must pass its ACL too.
  fleet = await startFleet(server, { aclUser: true, runners: 3 });
  bare = cachedTokenPackage('vault-fleet-copies-');
});
after(async () => {
  rmSync(bare, { recursive: true, force: true });
  await fleet?.close();
  await server?.close();
});

/** A runner without a runtime directory, as CI containers run. */
function noRuntime(r: Runner): NodeJS.ProcessEnv {
  return { ...r.env, XDG_RUNTIME_DIR: undefined };
}

/** `vault token acme` from the bundle alone: answers only from the runner's copy. */
function fromCopy(r: Runner, env = noRuntime(r)) {
  return runVault(['token', 'acme'], { env, bin: join(bare, 'bin', 'vault.js') });
}

function fullCli(r: Runner, args: string[], env = noRuntime(r)) {
  return runVault(args, { env });
}

function copies(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

describe('a runner-local sealed copy of the access token', () => {
  test('kept in a private directory under the data directory without a runtime directory, sealed, and answered without the Redis client', async () => {
    const [a] = fleet.runners;
    assert.notEqual((await fromCopy(a!)).code, 0, 'no copy yet: the bundle alone cannot answer');
    const first = await fullCli(a!, ['token', 'acme']);
    assert.equal(first.code, 0, first.stderr);
    const dir = join(a!.env.VAULT_DATA_DIR!, 'fleet');
    const [file, ...more] = copies(dir);
    assert.ok(file && more.length === 0, `one copy: ${copies(dir).join(', ')}`);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, file)).mode & 0o777, 0o600);
    assert.ok(!readFileSync(join(dir, file), 'utf8').includes(first.stdout.trim()), 'the copy is not sealed');
    const fast = await fromCopy(a!);
    assert.equal(fast.code, 0, fast.stderr);
    assert.equal(fast.stdout, first.stdout);

    // With a runtime directory, the copy lives there.
    const withRuntime = await fullCli(a!, ['token', 'acme'], a!.env);
    assert.equal(withRuntime.code, 0, withRuntime.stderr);
    assert.equal(copies(join(a!.env.XDG_RUNTIME_DIR!, 'vault', 'fleet')).length, 1);
    assert.equal((await fromCopy(a!, a!.env)).stdout, first.stdout);

    // Another VAULT_STORE_KEY opens nothing.
    const otherKey = await fromCopy(a!, { ...noRuntime(a!), VAULT_STORE_KEY: Buffer.alloc(32, 7).toString('base64') });
    assert.notEqual(otherKey.code, 0);
    assert.equal(otherKey.stdout, '');
  });

  test('a refresh on another runner, a logout there and a re-login each end the copy', async () => {
    const [a, b] = fleet.runners;
    const warm = async () => {
      const r = await fullCli(a!, ['token', 'acme']);
      assert.equal(r.code, 0, r.stderr);
      const fast = await fromCopy(a!);
      assert.equal(fast.stdout, r.stdout, 'the copy answers');
      return r.stdout;
    };

    const before = await warm();
    const refreshed = await fullCli(b!, ['token', 'acme', '--force-refresh']);
    assert.equal(refreshed.code, 0, refreshed.stderr);
    assert.notEqual(refreshed.stdout, before);
    assert.equal((await fromCopy(a!)).stdout, '', 'a copy from before the refresh was answered');
    assert.equal((await fullCli(a!, ['token', 'acme'])).stdout, refreshed.stdout);

    await warm();
    const out = await fullCli(b!, ['logout', 'acme']);
    assert.equal(out.code, 0, out.stderr);
    assert.equal((await fromCopy(a!)).stdout, '', 'a copy was answered after a logout on another runner');
    assert.equal((await fullCli(a!, ['token', 'acme'])).code, 3);

    await login(b!);
    const again = await warm();
    await login(b!);
    assert.equal((await fromCopy(a!)).stdout, '', 'a copy from before a re-login was answered');
    assert.notEqual((await fullCli(a!, ['token', 'acme'])).stdout, again);
  });

  test('a copy is never answered past its token: an expiry goes to the full CLI, which refreshes once', async () => {
    const [a] = fleet.runners;
    const warm = await fullCli(a!, ['token', 'acme']);
    assert.equal((await fromCopy(a!)).stdout, warm.stdout);
    await expire(a!);
    assert.equal((await fromCopy(a!)).stdout, '');
    const counts = { ...server.counts };
    const refreshed = await fullCli(a!, ['token', 'acme']);
    assert.equal(refreshed.code, 0, refreshed.stderr);
    assert.notEqual(refreshed.stdout, warm.stdout);
    assert.equal(server.counts.refresh - counts.refresh, 1);
  });
});
