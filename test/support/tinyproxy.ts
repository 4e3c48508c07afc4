// Debian's tinyproxy as a real forward proxy for tests: its own config and log in a temporary
// directory, on a free loopback port, in the foreground (`-d`) so the test owns the process.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Tinyproxy {
  port: number;
  /** http://[user:password@]127.0.0.1:PORT */
  url: string;
  /** The `CONNECT host:port` requests the proxy has logged so far. */
  connects(): string[];
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Starts tinyproxy; with `auth`, it demands those proxy credentials (BasicAuth). */
export async function startTinyproxy(auth?: { user: string; password: string }): Promise<Tinyproxy> {
  const dir = mkdtempSync(join(tmpdir(), 'vault-tinyproxy-'));
  const log = join(dir, 'tinyproxy.log');
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const conf = [
      `Port ${port}`,
      'Listen 127.0.0.1',
      'Allow 127.0.0.1',
      `LogFile "${log}"`,
      'LogLevel Connect',
      'Timeout 30',
      'MaxClients 20',
    ];
    if (auth) conf.push(`BasicAuth ${auth.user} ${auth.password}`);
    writeFileSync(join(dir, 'tinyproxy.conf'), `${conf.join('\n')}\n`);
    const child: ChildProcess = spawn('tinyproxy', ['-d', '-c', join(dir, 'tinyproxy.conf')], { stdio: 'ignore' });
    const exited = once(child, 'exit');
    let up = false;
    for (let i = 0; i < 100 && child.exitCode === null && !(up = await accepts(port)); i++)
      await new Promise((r) => setTimeout(r, 50));
    if (!up) {
      child.kill('SIGKILL');
      await exited;
      // Another process took the port between the probe and tinyproxy's bind: try another.
      if (attempt < 3) continue;
      throw new Error(`tinyproxy did not start: ${readLog(log)}`);
    }
    const credentials = auth ? `${auth.user}:${auth.password}@` : '';
    return {
      port,
      url: `http://${credentials}127.0.0.1:${port}`,
      connects: () =>
        [...readLog(log).matchAll(/Request \(file descriptor \d+\): CONNECT (\S+) HTTP/g)].map((m) => m[1]!),
      async close() {
        if (child.exitCode === null) {
          child.kill('SIGTERM');
          await exited;
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
