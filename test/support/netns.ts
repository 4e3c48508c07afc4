// Runners on separate network hosts: each one a network namespace joined to the root namespace by
// a veth pair on a private bridge, with nothing but that link (no route elsewhere), so what the
// runners share travels over it. vault refuses http:// issuers off loopback (by design), so each
// namespace gets a forwarder on its own 127.0.0.1:<issuer port> to the root namespace's bridge
// address: the issuer URL, and so every `iss` check, is the same on every runner.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const FORWARDER = fileURLToPath(new URL('./tcp-forward.mjs', import.meta.url));

/** Why the suite cannot run here, or false: namespaces need root and iproute2's `ip netns`. */
export const netnsSkip: string | false =
  process.getuid?.() === 0 && spawnSync('ip', ['netns', 'list']).status === 0
    ? false
    : 'needs root for network namespaces';

export interface Netns {
  name: string;
  address: string;
  /** The command prefix that runs a program inside it (the environment passes through). */
  wrap: string[];
}

export interface Network {
  /** The root namespace's address on the bridge: what the runners reach Redis at. */
  hostAddress: string;
  namespaces: Netns[];
  /** Creates the bridge, the namespaces and their veth pairs. */
  up(): void;
  /** Makes the root namespace's 127.0.0.1:`port` (the issuer) answer at 127.0.0.1:`port` in every namespace. */
  forward(port: number): Promise<void>;
  /** Removes everything `up` and `forward` created, whatever state a failure left it in. */
  close(): void;
}

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
}

/** The 32-bit value of a dotted IPv4 address. */
function toInt(address: string): number {
  return address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

/**
 * A 10.x.y.0/24 that no route of this machine touches, starting from one derived from the pid so
 * that concurrent runs (each with its own pid) start apart.
 */
function freeSubnet(): string {
  const routes = JSON.parse(
    spawnSync('ip', ['-j', '-4', 'route', 'show', 'table', 'all'], { encoding: 'utf8' }).stdout,
  ) as {
    dst: string;
  }[];
  const taken = routes
    .filter((r) => r.dst !== 'default')
    .map((r) => {
      const [address, bits = '32'] = r.dst.split('/');
      const size = 2 ** (32 - Number(bits));
      const start = Math.floor(toInt(address!) / size) * size;
      return [start, start + size] as const;
    });
  for (let i = 0; i < 32768; i++) {
    const n = (process.pid + i) % 32768;
    const subnet = `10.${128 + (n >> 8)}.${n & 255}`;
    const start = toInt(`${subnet}.0`);
    if (!taken.some(([a, b]) => a < start + 256 && start < b)) return subnet;
  }
  throw new Error('no free 10.x.y.0/24 for the test network');
}

/** `count` namespaces, named after this process (so concurrent runs never share one). */
export function network(count: number): Network {
  const id = `${process.pid}`;
  const bridge = `vfb${id}`;
  let subnet = '';
  const namespaces: Netns[] = Array.from({ length: count }, (_, i) => ({
    name: `vault-fleet-${id}-${i}`,
    address: '',
    wrap: ['ip', 'netns', 'exec', `vault-fleet-${id}-${i}`],
  }));
  const forwarders: ChildProcess[] = [];

  const startForwarder = async (wrap: string[], listen: string, target: string, port: number) => {
    const [file, ...prefix] = [...wrap, process.execPath];
    const child = spawn(file!, [...prefix, FORWARDER, listen, String(port), target, String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    forwarders.push(child);
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const collect = (d: Buffer) => {
        log += d.toString();
        if (log.includes('listening')) resolve();
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      child.on('exit', (code) => reject(new Error(`forwarder ${listen}:${port} exited with ${code}: ${log}`)));
    });
  };

  const net: Network = {
    hostAddress: '',
    namespaces,
    up() {
      subnet = freeSubnet();
      net.hostAddress = `${subnet}.1`;
      ip('link', 'add', bridge, 'type', 'bridge');
      ip('addr', 'add', `${net.hostAddress}/24`, 'dev', bridge);
      ip('link', 'set', bridge, 'up');
      namespaces.forEach((ns, i) => {
        ns.address = `${subnet}.${i + 2}`;
        const [outside, inside] = [`vfh${id}x${i}`, `vfc${id}x${i}`];
        ip('netns', 'add', ns.name);
        ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
        ip('link', 'set', outside, 'master', bridge);
        ip('link', 'set', outside, 'up');
        ip('link', 'set', inside, 'netns', ns.name);
        ip('-n', ns.name, 'addr', 'add', `${ns.address}/24`, 'dev', inside);
        ip('-n', ns.name, 'link', 'set', inside, 'up');
        ip('-n', ns.name, 'link', 'set', 'lo', 'up');
      });
    },
    async forward(port) {
      await startForwarder([], net.hostAddress, '127.0.0.1', port);
      for (const ns of namespaces) await startForwarder(ns.wrap, '127.0.0.1', net.hostAddress, port);
    },
    close() {
      for (const f of forwarders) f.kill('SIGKILL');
      namespaces.forEach((ns, i) => {
        // Deleting one end of a veth pair deletes both, even while a process keeps the namespace alive.
        spawnSync('ip', ['link', 'del', `vfh${id}x${i}`], { stdio: 'ignore' });
        spawnSync('ip', ['netns', 'del', ns.name], { stdio: 'ignore' });
      });
      spawnSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
    },
  };
  return net;
}
