// A refresh-lock holder paused past its lock's lifetime: the rotation-safety case that a stopped
// laptop, a CPU-starved CI runner or a SIGSTOP produces, for the local lock and the fleet's lease.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';

import { stoppedAt } from './cli.js';
import type { TestServer } from './oidc-server.js';
import { expire, type Vault } from './vault-sandbox.js';

/**
 * `holder` paused (SIGSTOP) after discovery, the last step before its refresh grant, while `other`
 * takes the lock over (it went stale) and refreshes. Once resumed, the holder finds its lock lost,
 * starts over and hands out other's token instead of spending the rotated refresh token, which a
 * server with reuse detection answers by revoking the login (RFC 9700 §4.14.2). `env` is added to
 * the holder's environment; `wrap` runs it under a command prefix. Resolves the token both printed.
 */
export async function pausedHolderStartsOver(
  t: TestContext,
  server: TestServer,
  holder: Vault & { wrap?: string[] },
  other: Vault,
  env: NodeJS.ProcessEnv = {},
): Promise<string> {
  await expire(holder);
  const refreshes = server.counts.refresh;
  const revoked = server.counts.grantRevoked;
  const { child, seen, exited } = await stoppedAt(
    t,
    { ...holder.env, ...env },
    'HTTP GET .*openid-configuration',
    holder.wrap,
  );

  const took = await other.run(['token', 'acme']);
  assert.equal(took.code, 0, took.stderr);
  assert.equal(server.counts.refresh, refreshes + 1);

  child.kill('SIGCONT');
  const [code] = await exited;
  assert.equal(code, 0, seen.err);
  assert.equal(seen.out, took.stdout, 'the resumed holder hands out the token the other process obtained');
  assert.match(seen.err, /lock: lost while paused; starting over/);
  assert.doesNotMatch(seen.err, /refresh: acme/, 'no refresh grant was sent with the spent refresh token');
  assert.equal(server.counts.refresh, refreshes + 1);
  assert.equal(server.counts.grantRevoked, revoked, 'reuse detection never fired');
  return took.stdout;
}
