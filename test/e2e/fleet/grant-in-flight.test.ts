// A refresh grant whose answer takes longer than the lease's stretch (12 leases: 12 s here): the
// holder keeps renewing its lease through the whole grant, so a second runner asking meanwhile
// waits for the holder's result instead of taking the lease and spending the refresh token that
// the provider has already rotated (which would revoke the login).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { runVault } from '../../support/cli.js';
import { expire } from '../../support/vault-sandbox.js';
import { fleetBehindProxy } from '../../support/fleet.js';

// Longer than the lease a holder takes when its grant may be sent (redis-store.ts CRITICAL_LEASES
// of VAULT_REDIS_LEASE=1), shorter than a grant's answer is awaited.
const HOLD_MS = 20_000;

const world = fleetBehindProxy({ runners: 2 });

test('a grant answered after the lease’s stretch: the lease is renewed throughout, the second runner waits and spends nothing', async () => {
  const { server, proxy, fleet } = world;
  const [a, b] = fleet.runners;
  await expire(a!);
  const counts = { ...server.counts };
  // Both wait as long as a grant may take (VAULT_HTTP_TIMEOUT), with a short lease renewed often.
  const env = { VAULT_HTTP_TIMEOUT: '120', VAULT_REDIS_LEASE: '1' };
  proxy.set('/token', { kind: 'hold-response' });
  const holder = runVault(['token', 'acme'], { env: { ...a!.env, ...env }, timeoutMs: 200_000 });
  await proxy.held();
  assert.equal(server.counts.refresh - counts.refresh, 1, 'the provider has rotated the refresh token');

  const waiter = runVault(['token', 'acme'], { env: { ...b!.env, ...env }, timeoutMs: 200_000 });
  // Not a timed assertion: the answer must stay in flight past the stretch for the renewals to matter.
  await sleep(HOLD_MS);
  proxy.set('/token', undefined);
  proxy.release();
  const [h, w] = await Promise.all([holder, waiter]);

  assert.equal(h.code, 0, `${h.signal ?? ''} ${h.stderr}`);
  assert.equal(w.code, 0, `${w.signal ?? ''} ${w.stderr}`);
  assert.equal(w.stdout, h.stdout, 'the waiter hands out the holder’s token');
  assert.equal(server.counts.refresh - counts.refresh, 1, 'one refresh grant: the waiter never sent one');
  assert.equal(server.counts.grantErrors, counts.grantErrors, 'no refresh token was reused');
  assert.equal(server.counts.grantRevoked, counts.grantRevoked, 'nothing revoked');
  assert.equal((await server.introspect(h.stdout.trim())).active, true);
});
