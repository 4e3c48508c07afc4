// HTTPS_PROXY / HTTP_PROXY / NO_PROXY (and lower case) through a real forward proxy, Debian's
// tinyproxy: every kind of request vault makes reaches the authorization server through the
// proxy's CONNECT tunnel, NO_PROXY bypasses it, and proxy credentials are never printed.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { runVault, sandbox, type Sandbox } from '../../support/cli.js';
import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { startTinyproxy, type Tinyproxy } from '../../support/tinyproxy.js';
import { startVault } from '../../support/login.js';
import { selfSignedCertificate } from '../../support/tls.js';
import { providerAddArgs } from '../../support/vault-sandbox.js';

let server: TestServer;
let proxy: Tinyproxy;
const cleanups: (() => unknown)[] = [];

before(async () => {
  server = await startTestServer({ accessTokenTtl: 600 });
  proxy = await startTinyproxy();
});
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await proxy?.close();
  await server?.close();
});

function box(env: NodeJS.ProcessEnv): Sandbox {
  const sb = sandbox({ VAULT_STORE: 'file', ...env });
  cleanups.push(() => sb.cleanup());
  return sb;
}

/** How many tunnels to `target` (host:port) the proxy has opened so far. */
function tunnels(through: Tinyproxy, target: string): number {
  return through.connects().filter((t) => t === target).length;
}

/** Runs vault and checks it succeeded and reached the server through a new tunnel. */
async function viaProxy(args: string[], sb: Sandbox, through = proxy, target = `127.0.0.1:${server.port}`) {
  const before = tunnels(through, target);
  const result = await runVault(args, { env: sb.env });
  assert.equal(result.code, 0, result.stderr);
  assert.ok(tunnels(through, target) > before, `vault ${args.join(' ')} did not go through the proxy`);
  return result;
}

test('discovery, device authorization, token, userinfo, refresh and revocation all go through HTTP_PROXY', async () => {
  const sb = box({ HTTP_PROXY: proxy.url });
  const target = `127.0.0.1:${server.port}`;
  await viaProxy(providerAddArgs(server, { scopes: ['openid', 'email'] }), sb);

  const before = tunnels(proxy, target);
  const login = startVault(['--debug', 'login', 'acme', '--device'], sb.env);
  const [, code] = await login.waitForStderr(/enter the code:\n\n {2}(\S+)\n/);
  await server.approveDevice(code!);
  const result = await login.exited;
  assert.equal(result.code, 0, result.stderr);
  // The device authorization, the token polls and the UserInfo request (the email is not in the ID token).
  for (const path of ['/device/auth', '/token', '/me'])
    assert.match(result.stderr, new RegExp(`HTTP (GET|POST) ${server.issuer}${path} → 200`));
  assert.match(result.stderr, /Logged in to acme as alice@example\.test/);
  assert.ok(tunnels(proxy, target) > before, 'the device login did not go through the proxy');

  await viaProxy(['token', 'acme', '--force-refresh'], sb);
  const logout = await viaProxy(['logout', 'acme'], sb);
  assert.match(logout.stderr, /Revoked/);
  assert.equal(server.counts.revocations, 1);
});

test('lower-case http_proxy, and no_proxy / NO_PROXY bypass it for the hosts they name', async () => {
  const target = `127.0.0.1:${server.port}`;
  const add = ['provider', 'add', 'acme', '--issuer', server.issuer, '--client-id', server.publicClientId];
  await viaProxy(add, box({ http_proxy: proxy.url }));
  // An entry for another port of the same host does not match.
  await viaProxy(add, box({ http_proxy: proxy.url, no_proxy: '127.0.0.1:1' }));
  for (const env of [
    { http_proxy: proxy.url, no_proxy: 'example.test,127.0.0.1' },
    { HTTP_PROXY: proxy.url, NO_PROXY: `127.0.0.1:${server.port}` },
  ]) {
    const before = tunnels(proxy, target);
    const result = await runVault(add, { env: box(env).env });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(tunnels(proxy, target), before, `${JSON.stringify(env)}: went through the proxy`);
  }
});

test('proxy credentials work and are never printed, not even with --debug or when refused', async () => {
  const password = 'proxy-secret-pw-4711';
  const guarded = await startTinyproxy({ user: 'vaultuser', password });
  cleanups.push(() => guarded.close());
  const add = ['--debug', 'provider', 'add', 'acme', '--issuer', server.issuer, '--client-id', server.publicClientId];
  const ok = await viaProxy(add, box({ HTTPS_PROXY: guarded.url, HTTP_PROXY: guarded.url }), guarded);
  assert.ok(!ok.stderr.includes(password), 'the proxy password was printed');
  assert.match(ok.stderr, /proxy: https via http:\/\/\*\*\*:\*\*\*@127\.0\.0\.1:\d+\/ \(HTTPS_PROXY\)/);

  const wrong = 'wrong-proxy-pw-0815';
  const refused = await runVault(add, {
    env: box({ HTTP_PROXY: `http://vaultuser:${wrong}@127.0.0.1:${guarded.port}` }).env,
  });
  // Wrong proxy credentials do not fix themselves: a configuration error (exit 2), not a temporary one.
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(
    refused.stderr,
    /error: cannot reach http:\/\/127\.0\.0\.1:\d+ for discovery: proxy http:\/\/\*\*\*:\*\*\*@127\.0\.0\.1:\d+\/ \(HTTP_PROXY\) refused the connection: HTTP 40[17] \(check the user and password in the proxy URL\)\n/,
  );
  assert.ok(!refused.stderr.includes(wrong), 'the proxy password was printed');

  const down = await runVault(add.slice(1), { env: box({ HTTP_PROXY: 'http://127.0.0.1:1' }).env });
  assert.equal(down.code, 4, down.stderr);
  assert.match(
    down.stderr,
    /connection refused \(ECONNREFUSED\) through proxy http:\/\/127\.0\.0\.1:1\/ \(HTTP_PROXY\)/,
  );
  const socks = await runVault(add.slice(1), { env: box({ HTTPS_PROXY: 'socks5://127.0.0.1:1080' }).env });
  assert.equal(socks.code, 2, socks.stderr);
  assert.match(socks.stderr, /^error: HTTPS_PROXY: socks5 proxies are not supported/);
});

test('an https:// issuer is reached through a CONNECT tunnel of HTTPS_PROXY', async () => {
  const sb = box({});
  // A self-signed certificate for 127.0.0.1, trusted by vault through NODE_EXTRA_CA_CERTS.
  const { key, cert } = selfSignedCertificate();
  const certFile = join(sb.dir, 'cert.pem');
  writeFileSync(certFile, cert);
  let requests = 0;
  const tls: Server = createServer({ key, cert }, (_req, res) => {
    requests++;
    const issuer = `https://127.0.0.1:${(tls.address() as AddressInfo).port}`;
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        issuer,
        authorization_endpoint: `${issuer}/auth`,
        token_endpoint: `${issuer}/token`,
        response_types_supported: ['code'],
      }),
    );
  });
  tls.listen(0, '127.0.0.1');
  await once(tls, 'listening');
  cleanups.push(() => tls.close());
  const port = (tls.address() as AddressInfo).port;
  sb.env.HTTPS_PROXY = proxy.url;
  sb.env.NODE_EXTRA_CA_CERTS = certFile;
  await viaProxy(
    ['provider', 'add', 'secure', '--issuer', `https://127.0.0.1:${port}`, '--client-id', 'cli'],
    sb,
    proxy,
    `127.0.0.1:${port}`,
  );
  assert.equal(requests, 1);
});
