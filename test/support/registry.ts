// Debian's docker-registry (the distribution registry) on loopback, behind a front that lets a
// request through only with HTTP Basic credentials whose password is an access token the test
// authorization server calls active (RFC 7662 introspection) — as a registry that takes OAuth
// tokens (gcr.io, ghcr.io) does. And a one-layer OCI image to push into it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { closedPort } from './vault-sandbox.js';
import type { TestServer } from './oidc-server.js';

export interface Registry {
  /** `127.0.0.1:PORT` of the checking front. */
  host: string;
  /** Each request's credentials: the user name, and whether the issuer called the password active. */
  seen: { username: string; password: string; active: boolean }[];
  close(): Promise<void>;
}

export async function startRegistry(issuer: TestServer, username: string): Promise<Registry> {
  const dir = mkdtempSync(join(tmpdir(), 'vault-registry-'));
  const port = await closedPort();
  writeFileSync(
    join(dir, 'config.yml'),
    [
      'version: 0.1',
      'log:',
      '  level: error',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '',
    ].join('\n'),
  );
  const backend: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  backend.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d));
  for (let i = 0; ; i++) {
    const up = await fetch(`http://127.0.0.1:${port}/v2/`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (i > 200 || backend.exitCode !== null) throw new Error(`docker-registry did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }

  const seen: Registry['seen'] = [];
  const sockets = new Set<Socket>();
  const front = createServer((req, res) => {
    void (async () => {
      const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const [user, password] = basic ? splitOnce(Buffer.from(basic, 'base64').toString('utf8')) : ['', ''];
      const active = password !== '' && (await issuer.introspect(password)).active;
      if (basic) seen.push({ username: user, password, active });
      if (!active || user !== username) {
        req.resume();
        res.writeHead(401, {
          'www-authenticate': 'Basic realm="vault-test-registry"',
          'content-type': 'application/json',
          'docker-distribution-api-version': 'registry/2.0',
        });
        res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
        return;
      }
      // The Host header goes through as it is: the registry builds upload Locations from it.
      const upstream = request(
        { host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    })();
  });
  front.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  front.listen(0, '127.0.0.1');
  await once(front, 'listening');
  return {
    host: `127.0.0.1:${(front.address() as AddressInfo).port}`,
    seen,
    async close() {
      front.close();
      for (const s of sockets) s.destroy();
      backend.kill('SIGTERM');
      if (backend.exitCode === null) await once(backend, 'exit');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function splitOnce(text: string): [string, string] {
  const colon = text.indexOf(':');
  return colon === -1 ? [text, ''] : [text.slice(0, colon), text.slice(colon + 1)];
}

/** A minimal tar archive (POSIX ustar) holding one file. */
function tarOf(name: string, content: string): Buffer {
  const body = Buffer.from(content);
  const header = Buffer.alloc(512);
  const field = (value: string, offset: number, length: number) => header.write(value, offset, length, 'ascii');
  field(name, 0, 100);
  field('0000644\0', 100, 8);
  field('0000000\0', 108, 8);
  field('0000000\0', 116, 8);
  field(`${body.length.toString(8).padStart(11, '0')}\0`, 124, 12);
  field('00000000000\0', 136, 12);
  field('        ', 148, 8);
  field('0', 156, 1);
  field('ustar\0', 257, 6);
  field('00', 263, 2);
  let sum = 0;
  for (const byte of header) sum += byte;
  field(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  const padding = Buffer.alloc((512 - (body.length % 512)) % 512);
  return Buffer.concat([header, body, padding, Buffer.alloc(1024)]);
}

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** Writes a one-layer OCI image layout to `dir` (tag `latest`), for `skopeo copy oci:DIR:latest …`. */
export function writeOciImage(dir: string): void {
  const tar = tarOf('hello.txt', 'hello from vault\n');
  const layer = gzipSync(tar);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [sha256(tar)] },
      config: {},
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(layer), size: layer.length }],
    }),
  );
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const blob of [layer, config, manifest])
    writeFileSync(join(dir, 'blobs', 'sha256', sha256(blob).slice('sha256:'.length)), blob);
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: sha256(manifest),
          size: manifest.length,
          annotations: { 'org.opencontainers.image.ref.name': 'latest' },
        },
      ],
    }),
  );
}
