import { readFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Loopback trust for every local HTTP listener vault runs (the login callback, the metadata
 * endpoints). 127.0.0.1 is reachable by every user of the machine and by anything a local proxy
 * relays, so listening there is not enough:
 * - on Linux, each connection must come from a socket owned by vault's own uid. The kernel lists
 *   every TCP socket of the network namespace in /proc/net/tcp and /proc/net/tcp6 with its owner's
 *   uid; the peer's socket is the row whose local address is the peer's address and port and whose
 *   remote address is ours. No row (the peer is already gone, or /proc is unreadable) is a refusal:
 *   a check that cannot be made fails closed. Elsewhere no such table exists and the check is skipped
 *   (docs/reliability.md, "Loopback trust").
 * - a request that carries a relay header (`Via`, `Forwarded`, `X-Forwarded-*`, `X-Real-IP`) came
 *   through a proxy, whose own socket may well be the user's while the client behind it is not.
 * The owner is looked up once per connection, when it is accepted, not per request; connections
 * accepted together share one read of the table (the kernel walks every socket to print it).
 */
export interface LoopbackGuard {
  /** Why this request must not be served (said in --debug, never to the client), or undefined. */
  refusal(req: IncomingMessage): Promise<string | undefined>;
}

/** Hooks `server`'s connections; call before it listens. */
export function guardLoopback(server: Server, debug: (message: string) => void = () => {}): LoopbackGuard {
  const verdicts = new WeakMap<Socket, Promise<string | undefined>>();
  const myUid = process.getuid?.();
  const owner = batchedOwnerLookup();
  server.on('connection', (socket: Socket) => {
    const verdict = ownerRefusal(socket, myUid, owner).then((why) => {
      if (why) debug(`loopback: connection from port ${socket.remotePort} refused: ${why}`);
      return why;
    });
    verdicts.set(socket, verdict);
  });
  return {
    async refusal(req) {
      // A socket never seen on 'connection' has no verdict: refused like an unknown owner.
      const verdict = verdicts.get(req.socket);
      const why = verdict ? await verdict : 'connection not checked';
      return why ?? relayRefusal(req);
    },
  };
}

async function ownerRefusal(
  socket: Socket,
  myUid: number | undefined,
  owner: OwnerLookup,
): Promise<string | undefined> {
  if (process.platform !== 'linux' || myUid === undefined) return undefined;
  const { remoteAddress, remotePort, localAddress, localPort } = socket;
  if (!remoteAddress || !remotePort || !localAddress || !localPort) return 'the peer has no address';
  const uid = await owner({ address: remoteAddress, port: remotePort }, { address: localAddress, port: localPort });
  if (uid === undefined) return 'the owner of the peer socket cannot be found';
  if (uid !== myUid) return `the peer socket belongs to uid ${uid}`;
  return undefined;
}

export type OwnerLookup = (peer: Endpoint, us: Endpoint) => Promise<number | undefined>;

/**
 * Owner lookups answered in batches: the first waits for the current turn of the event loop to
 * end, so a burst of connections is answered from one read of each table; lookups asked meanwhile
 * wait for the next read (their sockets may be newer than the one in progress).
 */
export function batchedOwnerLookup(
  readTable: (file: string) => Promise<string> = (file) => readFile(file, 'latin1'),
): OwnerLookup {
  let queue: { peer: Endpoint; us: Endpoint; resolve: (uid: number | undefined) => void }[] = [];
  let running = false;
  const drain = async () => {
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      const texts = new Map<string, Promise<string>>();
      const read = (file: string) => {
        let text = texts.get(file);
        if (!text) texts.set(file, (text = readTable(file).catch(() => '')));
        return text;
      };
      for (const ask of batch) ask.resolve(await peerUid(ask.peer, ask.us, read));
    }
    running = false;
  };
  return (peer, us) =>
    new Promise((resolve) => {
      queue.push({ peer, us, resolve });
      if (!running) {
        running = true;
        setImmediate(() => void drain());
      }
    });
}

/** The header names a proxy adds when it relays a request (RFC 9110 §7.6.3 Via, RFC 7239 Forwarded, the de-facto rest). */
export function relayRefusal(req: Pick<IncomingMessage, 'headers'>): string | undefined {
  for (const name of Object.keys(req.headers)) {
    if (name === 'via' || name === 'forwarded' || name === 'x-real-ip' || name.startsWith('x-forwarded'))
      return `relayed request (${name} header)`;
  }
  return undefined;
}

export interface Endpoint {
  address: string;
  port: number;
}

interface Table {
  file: string;
  hex: (address: string) => string | undefined;
}

/** IPv4 sockets; IPv6 ones, and IPv4 peers on dual-stack sockets (as ::ffff:a.b.c.d). */
const TABLES: Table[] = [
  { file: '/proc/net/tcp', hex: (address) => hexIPv4(address) },
  { file: '/proc/net/tcp6', hex: (address) => hexIPv6(address) },
];

/** The local and remote address columns the peer's row has in `table`, if the addresses fit it. */
function rowKey(table: Table, peer: Endpoint, us: Endpoint): { local: string; remote: string } | undefined {
  const local = table.hex(peer.address);
  const remote = table.hex(us.address);
  if (local === undefined || remote === undefined) return undefined;
  return { local: `${local}:${hexPort(peer.port)}`, remote: `${remote}:${hexPort(us.port)}` };
}

/** Columns (proc(5)): `sl local_address rem_address st … uid …`; the uid is the 8th. */
function uidIn(text: string, key: { local: string; remote: string }): number | undefined {
  for (let at = text.indexOf(key.local); at >= 0; at = text.indexOf(key.local, at + key.local.length)) {
    const start = text.lastIndexOf('\n', at) + 1;
    const end = text.indexOf('\n', at);
    const fields = text
      .slice(start, end < 0 ? undefined : end)
      .trim()
      .split(/\s+/);
    if (fields[1] !== key.local || fields[2] !== key.remote) continue;
    const uid = Number(fields[7]);
    if (Number.isInteger(uid)) return uid;
  }
  return undefined;
}

/**
 * The uid owning the TCP socket whose local end is `peer` and remote end is `us`, or undefined
 * when no table has such a row. Addresses are hex 32-bit words in host byte order, ports 4 hex digits.
 */
export async function peerUid(
  peer: Endpoint,
  us: Endpoint,
  read: (file: string) => Promise<string>,
): Promise<number | undefined> {
  for (const table of TABLES) {
    const key = rowKey(table, peer, us);
    const uid = key && uidIn(await read(table.file), key);
    if (uid !== undefined) return uid;
  }
  return undefined;
}

const LITTLE = endianness() === 'LE';

function hexPort(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, '0');
}

/** Four bytes as the kernel prints one 32-bit word: in host byte order. */
function word(bytes: number[]): string {
  const ordered = LITTLE ? [...bytes].reverse() : bytes;
  return ordered.map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join('');
}

function ipv4Bytes(address: string): number[] | undefined {
  const v4 = /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.(\d+)$/i.exec(address);
  if (!v4) return undefined;
  const bytes = v4.slice(1).map(Number);
  return bytes.every((b) => b <= 255) ? bytes : undefined;
}

function hexIPv4(address: string): string | undefined {
  const bytes = ipv4Bytes(address);
  return bytes && word(bytes);
}

function hexIPv6(address: string): string | undefined {
  const v4 = ipv4Bytes(address);
  const bytes = v4 ? [...new Array<number>(10).fill(0), 0xff, 0xff, ...v4] : ipv6Bytes(address);
  if (!bytes) return undefined;
  return [0, 4, 8, 12].map((i) => word(bytes.slice(i, i + 4))).join('');
}

function ipv6Bytes(address: string): number[] | undefined {
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const fill = 8 - head.length - tail.length;
  if (fill < 0 || (halves.length === 1 && fill !== 0)) return undefined;
  const all = [...head, ...new Array<string>(fill).fill('0'), ...tail];
  if (!all.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return undefined;
  return all.flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
}
