// A runner paused (SIGSTOP) while it holds the fleet's lease, past the lease's lifetime: another
// runner takes the lease over and refreshes; the paused one, once resumed, finds its lease lost
// right before the grant and hands out the other's token instead of spending the refresh token.
import { after, before, test } from 'node:test';

import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { pausedLeaseHolder, startFleet, type Fleet } from '../../support/fleet.js';

let server: TestServer;
let fleet: Fleet;
before(async () => {
  server = await startTestServer({ accessTokenTtl: 300 });
  fleet = await startFleet(server, { runners: 2 });
});
after(async () => {
  await fleet?.close();
  await server?.close();
});

test('a lease holder paused past its lease does not spend the refresh token', (t) =>
  pausedLeaseHolder(t, server, fleet.runners[0]!, fleet.runners[1]!));
