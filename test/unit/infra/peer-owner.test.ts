// The owner of a loopback peer, read from the kernel's real /proc/net/tcp and tcp6 for real
// sockets: IPv4, IPv6 and an IPv4 peer on a dual-stack socket (another user's sockets are in
// test/e2e: the hardening listener cases and the --gce endpoint).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { endianness } from 'node:os';
import { test } from 'node:test';

import { readFile } from 'node:fs/promises';

import { batchedOwnerLookup, peerUid, relayRefusal } from '../../../src/infra/peer-owner.js';

/** A connection from `client` to a server on `listen`; resolves with both ends. */
async function pair(listen: string, client: string): Promise<{ accepted: Socket; close(): Promise<void> }> {
  const server = createServer();
  server.listen(0, listen);
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const socket = connect((server.address() as AddressInfo).port, client);
  await once(socket, 'connect');
  const [end] = await accepted;
  return {
    accepted: end,
    async close() {
      socket.destroy();
      end.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

function ownerOf(accepted: Socket): Promise<number | undefined> {
  return peerUid(
    { address: accepted.remoteAddress!, port: accepted.remotePort! },
    { address: accepted.localAddress!, port: accepted.localPort! },
    (file) => readFile(file, 'latin1'),
  );
}

for (const [what, listen, client] of [
  ['IPv4', '127.0.0.1', '127.0.0.1'],
  ['IPv6', '::1', '::1'],
  ['an IPv4 peer on a dual-stack listener', '::', '::ffff:127.0.0.1'],
] as const) {
  test(`${what}: the peer socket's owner is this process's uid`, { skip: process.platform !== 'linux' }, async () => {
    const connection = await pair(listen, client);
    try {
      assert.equal(await ownerOf(connection.accepted), process.getuid!());
    } finally {
      await connection.close();
    }
  });
}

test(
  'a burst of connections is answered from one read of the table, each with its owner',
  { skip: process.platform !== 'linux' },
  async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const accepted: Socket[] = [];
    server.on('connection', (s: Socket) => accepted.push(s));
    const clients = Array.from({ length: 50 }, () => connect(port, '127.0.0.1'));
    try {
      await Promise.all(clients.map((c) => once(c, 'connect')));
      while (accepted.length < clients.length) await new Promise((r) => setImmediate(r));
      const reads: string[] = [];
      const owner = batchedOwnerLookup(async (file) => {
        reads.push(file);
        return readFile(file, 'latin1');
      });
      const uids = await Promise.all(
        accepted.map((s) =>
          owner({ address: s.remoteAddress!, port: s.remotePort! }, { address: s.localAddress!, port: s.localPort! }),
        ),
      );
      assert.deepEqual(new Set(uids), new Set([process.getuid!()]));
      assert.deepEqual(reads, ['/proc/net/tcp']);
      // A port no socket has: the IPv6 table is read too, and there is no owner (the listener refuses).
      assert.equal(await owner({ address: '127.0.0.1', port: 1 }, { address: '127.0.0.1', port: port }), undefined);
      assert.deepEqual(reads, ['/proc/net/tcp', '/proc/net/tcp', '/proc/net/tcp6']);
    } finally {
      for (const c of clients) c.destroy();
      server.close();
      for (const s of accepted) s.destroy();
    }
  },
);

test('the rows are matched on both ends, the uid from the 8th column', { skip: endianness() !== 'LE' }, async () => {
  const table = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    // The listener's accepted socket: local 127.0.0.1:8080, remote 127.0.0.1:40000 (not the peer's row).
    '   0: 0100007F:1F90 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 1 1 0',
    // The peer: local 127.0.0.1:40000, remote 127.0.0.1:8080, uid 1001.
    '   1: 0100007F:9C40 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1001        0 2 1 0',
    '',
  ].join('\n');
  const read = async (file: string) => (file === '/proc/net/tcp' ? table : '');
  const peer = { address: '127.0.0.1', port: 40000 };
  const listener = { address: '127.0.0.1', port: 8080 };
  assert.equal(await peerUid(peer, listener, read), 1001);
  assert.equal(await peerUid(peer, { address: '127.0.0.1', port: 8081 }, read), undefined);
  assert.equal(await peerUid({ address: '127.0.0.1', port: 40001 }, listener, read), undefined);
});

test('relay headers: Via, Forwarded, any X-Forwarded-*, X-Real-IP', () => {
  for (const name of ['via', 'forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-anything', 'x-real-ip'])
    assert.match(relayRefusal({ headers: { [name]: 'x' } }) ?? '', new RegExp(name));
  assert.equal(
    relayRefusal({ headers: { host: '127.0.0.1:1', 'metadata-flavor': 'Google', 'x-real': 'x' } }),
    undefined,
  );
});
