// `vault login` with the RFC 8252 loopback flow against the real oidc-provider, with the fetch
// browser (or none) standing in for the user: clients, refusals, and how the wait ends.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { authorizeWithFetch, DENY_BROWSER, FETCH_BROWSER } from '../../support/fetch-browser.js';
import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { runVault, sandbox, type Sandbox } from '../../support/cli.js';
import { addProvider } from '../../support/vault-sandbox.js';
import {
  callbackPort,
  fileStoreEntries,
  portRefuses,
  printedUrl,
  onTerminal,
  rawRequest,
  startVault,
  recordedUrl,
  urlRecorder,
} from '../../support/login.js';
import { curlAsOtherUser } from '../../support/other-user.js';
import { watchCommandLines } from '../../support/world.js';

let server: TestServer;
/** devInteractions' real login and consent pages, whose Cancel link answers access_denied. */
let pages: TestServer;
const sandboxes: Sandbox[] = [];

before(async () => {
  [server, pages] = await Promise.all([startTestServer(), startTestServer({ autoLogin: false })]);
});
after(async () => {
  await Promise.all([server.close(), pages.close()]);
  for (const sb of sandboxes) sb.cleanup();
});

function box(browser?: string): Sandbox {
  const sb = sandbox({ VAULT_STORE: 'file', ...(browser && { VAULT_BROWSER: browser }) });
  sandboxes.push(sb);
  return sb;
}

async function assertNotLoggedIn(sb: Sandbox, name = 'acme'): Promise<void> {
  const token = await runVault(['token', name], { env: sb.env });
  assert.equal(token.code, 3, token.stderr);
  assert.match(token.stderr, new RegExp(`not logged in to ${name} — run \`vault login ${name}\``));
  assert.deepEqual(
    Object.keys(fileStoreEntries(sb)).filter((k) => !k.startsWith('cs:')),
    [],
  );
}

test('public client: PKCE, state and nonce in the URL; tokens stored; the listener closes', async () => {
  // The launcher's own output must not reach vault's stdout, which belongs to data.
  const sb = box(`echo launcher chatter; ${FETCH_BROWSER}`);
  await addProvider(sb, server, { scopes: [] });
  const vault = startVault(['login', 'acme'], sb.env);
  const url = await printedUrl(vault);
  const result = await vault.exited;
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /Logged in to acme as alice\.\n$/);
  assert.doesNotMatch(result.stderr, /Waiting for/, 'no status line when stderr is not a terminal');

  const params = url.searchParams;
  assert.equal(url.origin + url.pathname, `${server.issuer}/auth`);
  assert.equal(params.get('client_id'), server.publicClientId);
  assert.equal(params.get('response_type'), 'code');
  assert.equal(params.get('code_challenge_method'), 'S256');
  assert.match(params.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
  assert.match(params.get('state') ?? '', /^[A-Za-z0-9_-]{22,}$/);
  assert.match(params.get('nonce') ?? '', /^[A-Za-z0-9_-]{22,}$/);
  // --issuer without --scope: openid, plus offline_access because the server lists it.
  assert.equal(params.get('scope'), 'openid offline_access');
  // OIDC Core §11: offline_access goes with prompt=consent, or the server may drop it.
  assert.equal(params.get('prompt'), 'consent');
  const port = callbackPort(url);
  assert.equal(params.get('redirect_uri'), `http://127.0.0.1:${port}/callback`);
  assert.equal(await portRefuses(port), true);

  const entries = fileStoreEntries(sb);
  const login = JSON.parse(entries['rt:acme:default']!) as Record<string, unknown>;
  assert.equal(typeof login.refresh_token, 'string');
  assert.equal(login.identity, 'alice');
  assert.equal(login.scope, 'openid offline_access');
  const access = JSON.parse(entries['at:acme:default:*']!) as {
    access_token: string;
    expires_at: number;
    issued_at: number;
  };
  // The server's 5 s lifetime, counted from the token response (a little before it was stored).
  assert.ok(access.expires_at - access.issued_at <= 5000 && access.expires_at - access.issued_at > 4000);
  for (const secret of [login.refresh_token as string, access.access_token]) assert.ok(!result.stderr.includes(secret));

  const token = await runVault(['token', 'acme'], { env: sb.env });
  assert.equal(token.code, 0, token.stderr);
  assert.equal(token.stdout, `${access.access_token}\n`);
  assert.equal((await server.introspect(access.access_token)).active, true);
});

test('confidential client: the secret from the store, sent the way the server advertises', async () => {
  const post = await startTestServer({ confidentialClientAuthMethod: 'client_secret_post' });
  try {
    // Each server advertises and accepts only one secret-based method, so success proves the choice.
    for (const target of [server, post]) {
      const sb = box(FETCH_BROWSER);
      await addProvider(sb, target, {
        clientId: target.confidentialClientId,
        scopes: [],
        secret: target.confidentialClientSecret,
      });
      const before = target.counts.authorizationCode;
      const result = await runVault(['login', 'acme'], { env: sb.env });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, '');
      assert.equal(target.counts.authorizationCode, before + 1);
      assert.ok(!result.stderr.includes(target.confidentialClientSecret));
      assert.ok(
        !readFileSync(join(sb.env.VAULT_CONFIG_DIR!, 'config.toml'), 'utf8').includes(target.confidentialClientSecret),
      );
      const token = await runVault(['token', 'acme', '--force-refresh'], { env: sb.env });
      assert.equal(token.code, 0, token.stderr);
      assert.equal((await target.introspect(token.stdout.trim())).active, true);
    }
  } finally {
    await post.close();
  }
});

test('confidential client with a wrong secret: exit 1 naming invalid_client, nothing stored', async () => {
  const sb = box(FETCH_BROWSER);
  await addProvider(sb, server, { clientId: server.confidentialClientId, scopes: [], secret: 'not-the-secret' });
  const result = await runVault(['login', 'acme'], { env: sb.env });
  assert.equal(result.code, 1, result.stderr);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /error: login for acme failed: invalid_client/);
  assert.ok(!result.stderr.includes('not-the-secret'));
  await assertNotLoggedIn(sb);
});

test('access_denied at the provider: exit 1 with the error, nothing stored', async () => {
  const sb = box(DENY_BROWSER);
  await addProvider(sb, pages, { scopes: [] });
  const result = await runVault(['login', 'acme'], { env: sb.env });
  assert.equal(result.code, 1, result.stderr);
  assert.equal(result.stdout, '');
  assert.match(
    result.stderr,
    /error: login to acme failed: the provider answered access_denied \(End-User aborted interaction\)/,
  );
  await assertNotLoggedIn(sb);
});

test('a denied re-login leaves the previous login intact', async () => {
  const sb = box(FETCH_BROWSER);
  await addProvider(sb, pages, { scopes: [] });
  const first = await runVault(['login', 'acme'], { env: sb.env });
  assert.equal(first.code, 0, first.stderr);
  const stored = fileStoreEntries(sb);

  const denied = await runVault(['login', 'acme'], { env: { ...sb.env, VAULT_BROWSER: DENY_BROWSER } });
  assert.equal(denied.code, 1, denied.stderr);
  assert.match(denied.stderr, /access_denied/);
  assert.deepEqual(fileStoreEntries(sb), stored);

  const token = await runVault(['token', 'acme', '--force-refresh'], { env: sb.env });
  assert.equal(token.code, 0, token.stderr);
  assert.equal((await pages.introspect(token.stdout.trim())).active, true);
});

test('a client without the refresh_token grant: exit 1 naming offline_access, nothing stored', async () => {
  const sb = box(FETCH_BROWSER);
  await addProvider(sb, server, { clientId: server.noRefreshClientId, scopes: [] });
  const before = server.counts.authorizationCode;
  const result = await runVault(['login', 'acme'], { env: sb.env });
  assert.equal(result.code, 1, result.stderr);
  assert.equal(server.counts.authorizationCode, before + 1);
  assert.match(
    result.stderr,
    /error: login to acme returned no refresh token, and its access token expires: the server did not grant `offline_access`; allow the refresh_token grant for this client at the provider\n/,
  );
  await assertNotLoggedIn(sb);
});

test('a callback whose iss is not the issuer is refused (RFC 9207), nothing stored', async () => {
  const sb = box();
  await addProvider(sb, server, { scopes: [] });
  const vault = startVault(['login', 'acme', '--no-browser'], sb.env);
  const callback = await authorizeWithFetch((await printedUrl(vault)).href);
  callback.searchParams.set('iss', 'http://127.0.0.1:1');
  const answer = await fetch(callback);
  assert.equal(answer.status, 200);
  await answer.body?.cancel();
  const result = await vault.exited;
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /error: login for acme failed: .*"iss"/);
  await assertNotLoggedIn(sb);
});

test('requests for another Host, or with a URL too long, are refused and the login keeps waiting', async () => {
  const sb = box();
  await addProvider(sb, server, { scopes: [] });
  const vault = startVault(['login', 'acme', '--no-browser'], sb.env);
  const url = await printedUrl(vault);
  const port = callbackPort(url);
  const callback = await authorizeWithFetch(url.href);
  const path = callback.pathname + callback.search;

  // A DNS-rebinding page reaches 127.0.0.1 under its own name: even the right callback is refused.
  for (const host of ['evil.test', `localhost:${port}`, `127.0.0.1:${port + 1}`]) {
    const answer = await rawRequest(port, { path, host });
    assert.equal(answer.status, 400, host);
  }
  assert.equal((await rawRequest(port, { path: `/callback?state=x&pad=${'a'.repeat(9000)}` })).status, 414);
  assert.equal(vault.child.exitCode, null);

  const answer = await rawRequest(port, { path });
  assert.equal(answer.status, 200);
  assert.match(answer.body, /You can close this tab and return to the terminal\./);
  const result = await vault.exited;
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, '');
});

test('--timeout ends a login nobody finishes: exit 1, the port is closed, nothing stored', async () => {
  const sb = box();
  await addProvider(sb, server, { scopes: [] });
  const vault = startVault(['login', 'acme', '--no-browser', '--timeout', '2'], sb.env);
  const port = callbackPort(await printedUrl(vault));
  const result = await vault.exited;
  assert.equal(result.code, 1, result.stderr);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /error: login timed out after 2s waiting for the browser/);
  assert.equal(await portRefuses(port), true);
  await assertNotLoggedIn(sb);
});

for (const [signal, code, message] of [
  ['SIGINT', 130, 'login cancelled'],
  ['SIGTERM', 143, 'login terminated'],
] as const) {
  test(`${signal} while waiting: exit ${code}, the port is closed, nothing stored`, async () => {
    const sb = box();
    await addProvider(sb, server, { scopes: [] });
    const vault = startVault(['login', 'acme', '--no-browser'], sb.env);
    const port = callbackPort(await printedUrl(vault));
    vault.child.kill(signal);
    const result = await vault.exited;
    assert.equal(result.code, code, result.stderr);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, new RegExp(`error: ${message}`));
    assert.equal(await portRefuses(port), true);
    await assertNotLoggedIn(sb);
  });
}

test('--port: the redirect uses it; a port in use is a clear error', async () => {
  const sb = box(FETCH_BROWSER);
  await addProvider(sb, server, { scopes: [] });
  const busy: Server = createServer().listen(0, '127.0.0.1');
  await once(busy, 'listening');
  const { port } = busy.address() as AddressInfo;
  try {
    const refused = await runVault(['login', 'acme', '--port', String(port)], { env: sb.env });
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(
      refused.stderr,
      new RegExp(`error: port ${port} on 127\\.0\\.0\\.1 is already in use: choose another --port, or omit it`),
    );
    assert.doesNotMatch(refused.stderr, /Open this URL/);
    await assertNotLoggedIn(sb);
  } finally {
    busy.close();
    await once(busy, 'close');
  }
  // The port is free now.
  const vault = startVault(['login', 'acme', '--port', String(port)], sb.env);
  assert.equal(callbackPort(await printedUrl(vault)), port);
  const result = await vault.exited;
  assert.equal(result.code, 0, result.stderr);

  const bad = await runVault(['login', 'acme', '--port', '70000'], { env: sb.env });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /error: --port expects a port number from 0 to 65535, got "70000"/);
});

test('--no-browser prints the URL and does not run VAULT_BROWSER', async () => {
  const sb = box();
  const recorded = join(sb.dir, 'launched');
  sb.env.VAULT_BROWSER = urlRecorder(sb.dir, recorded);
  await addProvider(sb, server, { scopes: [] });
  const result = await runVault(['login', 'acme', '--no-browser', '--timeout', '1'], { env: sb.env });
  assert.equal(result.code, 1, result.stderr);
  assert.equal(result.stdout, '');
  assert.match(
    result.stderr,
    /Open this URL in a browser to log in to acme:\n\n {2}http:\/\/127\.0\.0\.1:\d+\/auth\?\S+\n/,
  );
  assert.throws(() => readFileSync(recorded), { code: 'ENOENT' });
});

test('a browser that cannot be launched still leaves the URL to open by hand', async () => {
  const sb = box(join('/nonexistent', 'browser'));
  await addProvider(sb, server, { scopes: [] });
  const vault = startVault(['login', 'acme'], sb.env);
  const url = await printedUrl(vault);
  await vault.waitForStderr(/The browser command exited with status 127; open the URL above yourself\.\n/);
  const callback = await authorizeWithFetch(url.href);
  await (await fetch(callback)).body?.cancel();
  const result = await vault.exited;
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, '');
});

test('on a terminal: one status line while waiting, cleared when the login is done', async () => {
  const sb = box(FETCH_BROWSER);
  await addProvider(sb, server, { scopes: [] });
  const term = onTerminal(['login', 'acme'], { ...sb.env, TERM: 'dumb' });
  assert.equal(await term.exited, 0, term.screen());
  const screen = term.screen();
  assert.equal(screen.split('Waiting for the browser… Ctrl-C to cancel').length, 2, screen);
  assert.match(screen, /Waiting for the browser… Ctrl-C to cancel\x1b\[2KLogged in to acme as alice\.\n$/);
});

test('the listener is bound to 127.0.0.1 only: 127.0.0.2 on the same port is refused', async () => {
  const sb = box();
  await addProvider(sb, server, { scopes: [] });
  const vault = startVault(['login', 'acme', '--no-browser'], sb.env);
  const port = callbackPort(await printedUrl(vault));
  const connects = (host: string) =>
    new Promise<string>((resolve) => {
      const socket = connect(port, host);
      socket.once('connect', () => (socket.destroy(), resolve('connected')));
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
  assert.equal(await connects('127.0.0.1'), 'connected');
  assert.equal(await connects('127.0.0.2'), 'ECONNREFUSED');
  vault.child.kill('SIGINT');
  assert.equal((await vault.exited).code, 130);
});

test('the browser is started on a one-time loopback URL: the authorization URL is in no argv, the redirect works once, for this user only', async () => {
  const sb = box();
  // A browser that records the URL it was given and stays up with it in its argv until released.
  const launched = join(sb.dir, 'launched');
  const release = join(sb.dir, 'release');
  const pidFile = join(sb.dir, 'browser.pid');
  const script = join(sb.dir, 'browser.sh');
  writeFileSync(
    script,
    [
      '#!/bin/sh',
      `echo $$ > '${pidFile}'`,
      `printf '%s\\n' "$1" > '${launched}.tmp' && mv '${launched}.tmp' '${launched}'`,
      `i=0; while [ ! -e '${release}' ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done`,
      '',
    ].join('\n'),
  );
  chmodSync(script, 0o700);
  sb.env.VAULT_BROWSER = `'${script}'`;
  await addProvider(sb, server, { scopes: [] });

  const argv = watchCommandLines();
  const vault = startVault(['login', 'acme'], sb.env);
  try {
    // stderr still shows the authorization URL first (a failed launch leaves it to open by hand).
    const printed = await printedUrl(vault);
    const launch = await recordedUrl(launched, vault);
    const port = callbackPort(printed);
    assert.match(launch.href, new RegExp(`^http://127\\.0\\.0\\.1:${port}/[\\w-]{43}$`));
    const path = launch.pathname;

    // Another Unix user who found the launch URL, and a relayed request, get nothing.
    const theirs = await curlAsOtherUser(launch.href);
    assert.equal(theirs.status, 403);
    assert.ok(!theirs.body.includes(printed.searchParams.get('state')!), 'the state was served to another user');
    for (const header of ['via', 'forwarded', 'x-forwarded-for', 'x-real-ip']) {
      const relayed = await rawRequest(port, { path, headers: { [header]: '1.1 proxy' } });
      assert.equal(relayed.status, 403, header);
      assert.equal(relayed.location, undefined, header);
    }
    // The user's own browser: one redirect to the authorization URL, then nothing.
    const first = await rawRequest(port, { path });
    assert.equal(first.status, 302);
    assert.equal(first.location, printed.href);
    const second = await rawRequest(port, { path });
    assert.equal(second.status, 404);
    assert.equal(second.location, undefined);

    const callback = await authorizeWithFetch(printed.href);
    assert.equal((await fetch(callback, { redirect: 'manual' })).status, 200);
    // The browser has stayed up through the whole exchange; it holds vault's stderr (the launcher
    // inherits it), so vault's output only ends once the browser is gone.
    writeFileSync(release, '');
    const result = await vault.exited;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /Logged in to acme as alice\.\n$/);

    const lines = [...argv.stop()].join('\n');
    assert.ok(lines.includes(launch.href), 'the sampler never saw the browser command');
    for (const [what, secret] of [
      ['the authorization URL', printed.href],
      ['its state', printed.searchParams.get('state')!],
      ['its code_challenge', printed.searchParams.get('code_challenge')!],
    ] as const)
      assert.ok(!lines.includes(secret), `${what} was in a process's argv`);
  } finally {
    argv.stop();
    writeFileSync(release, '');
    vault.child.kill('SIGKILL');
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
    } catch {
      // Released and gone already, or never started.
    }
  }
});
