// `vault serve --gce`: the metadata paths it serves, and the requests it refuses (wrong method,
// missing Metadata-Flavor, a Host other than the exported one, X-Forwarded-For), probed over raw HTTP.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';

import {
  groupsKilledAfterEach,
  runVault,
  startVaultUntil,
  within,
  type Sandbox,
  type StartedVault,
} from '../../support/cli.js';
import { ACCOUNT, startTestServer, type TestServer } from '../../support/oidc-server.js';
import { closedPort, loggedIn } from '../../support/vault-sandbox.js';
import { entries } from '../../support/world.js';
import { OTHER_USER, curlAsOtherUser, otherUser } from '../../support/other-user.js';
import { startTinyproxy } from '../../support/tinyproxy.js';

const SCOPES = ['--scope', 'openid', '--scope', 'offline_access', '--scope', 'email', '--scope', 'api:read'];
let server: TestServer;
let box: Sandbox;
let serve: Served;

interface Served extends StartedVault {
  host: string;
  exports: string;
}

/** Starts `vault serve acme --gce` and resolves once it printed its three exports. */
async function startServe(env: NodeJS.ProcessEnv, flags: string[] = [], groups?: Set<ChildProcess>): Promise<Served> {
  const started = await startVaultUntil(
    ['serve', 'acme', '--gce', ...flags],
    { env, groups },
    (out) => out.split('\n').length > 3,
  );
  const exports = started.stdout();
  const host = /^export GCE_METADATA_HOST='(127\.0\.0\.1:\d+)'$/m.exec(exports)?.[1];
  assert.ok(host, exports);
  return { ...started, host, exports };
}

interface Answer {
  status: number;
  flavor: string | undefined;
  type: string | undefined;
  body: string;
}

/** One raw request: any method, any Host, extra headers; Metadata-Flavor: Google unless `flavor` is false. */
function get(
  path: string,
  options: { method?: string; host?: string; headers?: Record<string, string>; flavor?: boolean; to?: string } = {},
): Promise<Answer> {
  const [address, port] = (options.to ?? serve.host).split(':');
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: address,
        port: Number(port),
        method: options.method ?? 'GET',
        path,
        headers: {
          host: options.host ?? serve.host,
          ...(options.flavor !== false && { 'metadata-flavor': 'Google' }),
          ...options.headers,
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            flavor: res.headers['metadata-flavor'] as string | undefined,
            type: res.headers['content-type'],
            body,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const TOKEN = '/computeMetadata/v1/instance/service-accounts/default/token';

/** The refresh token in a sandbox's file store. */
function storedRefreshToken(sandbox: Sandbox): string {
  const login = JSON.parse(entries(sandbox)['rt:acme:default']!) as { refresh_token: string };
  return login.refresh_token;
}

before(async () => {
  server = await startTestServer({ accessTokenTtl: 600 });
  // The confidential client, its secret given to vault in the environment: not to be served.
  box = await loggedIn(server, {
    provider: {
      scopes: [],
      extra: [...SCOPES, '--client-id', server.confidentialClientId, '--param', 'project_number=42'],
    },
    env: { VAULT_CLIENT_SECRET: server.confidentialClientSecret },
  });
  serve = await startServe(box.env);
});
after(async () => {
  serve?.child.kill('SIGKILL');
  box?.cleanup();
  await server?.close();
});

test('serve prints the three variables, for 127.0.0.1 only', async () => {
  assert.equal(
    serve.exports,
    [
      `export GCE_METADATA_HOST='${serve.host}'`,
      `export GCE_METADATA_IP='${serve.host}'`,
      `export GCE_METADATA_ROOT='${serve.host}'`,
      '',
    ].join('\n'),
  );
  const port = Number(serve.host.split(':')[1]);
  // Listening on 127.0.0.1 alone: another loopback address of this machine finds nothing there.
  const other = connect(port, '127.0.0.2');
  try {
    // A listener on every interface would accept this: the test fails then, it does not wait.
    const outcome = await within(
      10_000,
      'the connection to 127.0.0.2 to be refused',
      new Promise<string | undefined>((resolve) => {
        other.once('connect', () => resolve('connected'));
        other.once('error', (error: NodeJS.ErrnoException) => resolve(error.code));
      }),
    );
    assert.equal(outcome, 'ECONNREFUSED');
  } finally {
    other.destroy();
  }
});

test('the token: the one `vault token` gives, as the metadata server writes it', async () => {
  const answer = await get(TOKEN);
  assert.equal(answer.status, 200);
  assert.equal(answer.flavor, 'Google');
  assert.equal(answer.type, 'application/json');
  const body = JSON.parse(answer.body) as { access_token: string; expires_in: number; token_type: string };
  assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'token_type']);
  assert.equal(body.token_type, 'Bearer');
  assert.ok(body.expires_in > 500 && body.expires_in <= 600, String(body.expires_in));
  const cached = await runVault(['token', 'acme'], { env: box.env });
  assert.ok(body.access_token === cached.stdout.trim(), "not the login's cached token");
  const byEmail = JSON.parse(
    (await get(`/computeMetadata/v1/instance/service-accounts/${ACCOUNT.email}/token`)).body,
  ) as { access_token: string };
  assert.ok(byEmail.access_token === body.access_token, 'the email alias gives another token');
  // Scopes the login lacks cannot be had: the login's token, and the API decides.
  const other = JSON.parse((await get(`${TOKEN}?scopes=https://www.googleapis.com/auth/cloud-platform`)).body) as {
    access_token: string;
  };
  assert.ok(other.access_token === body.access_token);
});

test('scopes within the grant get a downscoped token, cached as `vault token --scope` caches it', async () => {
  const before = server.counts.refresh;
  const first = JSON.parse((await get(`${TOKEN}?scopes=api:read,email`)).body) as { access_token: string };
  const again = JSON.parse((await get(`${TOKEN}?scopes=email,api:read`)).body) as { access_token: string };
  assert.equal(server.counts.refresh, before + 1, 'one refresh grant for the narrower scopes, then the cache');
  assert.ok(first.access_token === again.access_token);
  assert.equal((await server.introspect(first.access_token)).scope, 'email api:read');
  const cached = await runVault(['token', 'acme', '--scope', 'email', '--scope', 'api:read'], { env: box.env });
  assert.ok(cached.stdout.trim() === first.access_token, 'not cached under the scope set');
  assert.equal(server.counts.refresh, before + 1);
});

test('the paths gcloud and the libraries read', async () => {
  const v1 = '/computeMetadata/v1/';
  const expect = async (path: string, status: number, body?: string) => {
    const answer = await get(v1 + path);
    assert.equal(answer.status, status, path);
    assert.equal(answer.flavor, 'Google', path);
    if (body !== undefined) assert.equal(answer.body, body, path);
    return answer;
  };
  await expect('instance', 200);
  await expect('instance/', 200);
  await expect('instance/service-accounts/', 200, `default/\n${ACCOUNT.email}/\n`);
  await expect('instance/service-accounts/default/email', 200, ACCOUNT.email);
  await expect('instance/service-accounts/default/scopes', 200, 'openid\noffline_access\nemail\napi:read\n');
  const info = await expect(`instance/service-accounts/${ACCOUNT.email}/?recursive=true`, 200);
  assert.equal(info.type, 'application/json');
  assert.deepEqual(JSON.parse(info.body), {
    aliases: ['default'],
    email: ACCOUNT.email,
    scopes: ['openid', 'offline_access', 'email', 'api:read'],
  });
  await expect('project/numeric-project-id', 200, '42');
  await expect('project/project-id', 404);
  await expect('universe/universe-domain', 200, 'googleapis.com');
  await expect('instance/service-accounts/default/identity?audience=x', 404);
  await expect('instance/service-accounts/someone@else.test/token', 404);
  await expect('instance/zone', 404);
  const root = await get('/', { flavor: false });
  assert.equal(root.status, 200);
  assert.equal(root.flavor, 'Google');
});

// Each refusal: 403, marked as a metadata answer, and no token in it.
const REFUSALS: [string, [string, () => Promise<Answer>][]][] = [
  [
    'a request without Metadata-Flavor: Google',
    [
      ['no header', () => get(TOKEN, { flavor: false })],
      ['another value', () => get(TOKEN, { flavor: false, headers: { 'metadata-flavor': 'google' } })],
    ],
  ],
  // DNS rebinding: a page at attacker.test whose name now resolves to 127.0.0.1.
  [
    'a Host other than the exported 127.0.0.1:PORT',
    [
      ['attacker.test', () => get(TOKEN, { host: `attacker.test:${serve.host.split(':')[1]}` })],
      ['localhost', () => get(TOKEN, { host: `localhost:${serve.host.split(':')[1]}` })],
      ['no port', () => get(TOKEN, { host: '127.0.0.1' })],
      ['on /', () => get('/', { flavor: false, host: `attacker.test:${serve.host.split(':')[1]}` })],
    ],
  ],
  [
    'a request with X-Forwarded-For',
    [['X-Forwarded-For', () => get(TOKEN, { headers: { 'x-forwarded-for': '203.0.113.9' } })]],
  ],
  [
    'a method other than GET',
    [
      ['POST', () => get(TOKEN, { method: 'POST' })],
      ['PUT', () => get(TOKEN, { method: 'PUT' })],
      ['HEAD', () => get(TOKEN, { method: 'HEAD' })],
    ],
  ],
];
for (const [what, cases] of REFUSALS) {
  test(`refused with 403, nothing served: ${what}`, async () => {
    const cached = (await runVault(['token', 'acme'], { env: box.env })).stdout.trim();
    for (const [how, send] of cases) {
      const answer = await send();
      assert.equal(answer.status, 403, how);
      assert.equal(answer.flavor, 'Google', how);
      assert.ok(!answer.body.includes(cached) && !answer.body.includes('access_token'), `${how}: a token was served`);
    }
  });
}

test('no refresh token or client secret is reachable through any path', async () => {
  const refreshToken = storedRefreshToken(box);
  const v1 = '/computeMetadata/v1/';
  const paths = [
    '/',
    v1,
    `${v1}instance/?recursive=true`,
    `${v1}?recursive=true`,
    `${v1}instance/service-accounts/default/?recursive=true`,
    `${v1}instance/service-accounts/default/token`,
    `${v1}instance/service-accounts/default/token?scopes=offline_access`,
    `${v1}instance/attributes/?recursive=true`,
    `${v1}project/?recursive=true`,
  ];
  for (const path of paths) {
    const { body } = await get(path);
    for (const secret of [refreshToken, server.confidentialClientSecret])
      assert.ok(!body.includes(secret), `${path} serves a secret`);
  }
});

// Started per test, each `vault serve` is killed after its test whatever the outcome.
const groups = groupsKilledAfterEach();

test('a refresh that fails answers 503 and says why on stderr; SIGTERM ends serve with 143', async () => {
  const failing = await loggedIn(server, { provider: { scopes: [], extra: SCOPES } });
  try {
    const served = await startServe(failing.env, [], groups);
    const refreshToken = storedRefreshToken(failing);
    await server.revokeGrantOf(refreshToken);
    // Scopes not asked for yet: nothing cached, so this takes a refresh grant, which the server refuses.
    const answer = await get(`${TOKEN}?scopes=email`, { to: served.host, host: served.host });
    assert.equal(answer.status, 503);
    assert.equal(answer.flavor, 'Google');
    served.child.kill('SIGTERM');
    const [code, signal] = await within(30_000, 'serve to end on SIGTERM', served.exited);
    assert.equal(code, 143, `${signal} ${served.stderr()}`);
    assert.match(
      served.stderr(),
      /warning: metadata endpoint: no token for \/computeMetadata\/v1\/instance\/service-accounts\/default\/token: .*vault login acme/,
    );
    assert.ok(!served.stderr().includes(refreshToken));
  } finally {
    failing.cleanup();
  }
});

test('serve --port N listens there; a port in use is exit 1 naming the fix; serve without --gce is exit 2', async () => {
  const port = await closedPort();
  const fixed = await startServe(box.env, ['--port', String(port)], groups);
  try {
    assert.equal(fixed.host, `127.0.0.1:${port}`);
    assert.equal((await get('/', { flavor: false, to: fixed.host, host: fixed.host })).status, 200);
    const taken = await runVault(['serve', 'acme', '--gce', '--port', String(port)], { env: box.env });
    assert.equal(taken.code, 1);
    assert.match(
      taken.stderr,
      /^error: cannot listen on port \d+ on 127\.0\.0\.1: it is already in use: choose another --port/,
    );
  } finally {
    fixed.child.kill('SIGINT');
    assert.equal((await within(30_000, 'serve to end on SIGINT', fixed.exited))[0], 130);
  }
  const bare = await runVault(['serve', 'acme'], { env: box.env });
  assert.equal(bare.code, 2);
  assert.match(bare.stderr, /--gce/);
});

// Loopback trust: 127.0.0.1 is open to every user of the machine and to anything a local proxy
// relays; the endpoint serves the processes of the user who started it, no one else.
test("another Unix user's request gets 403 and no token; the user's own request is served", async () => {
  const uid = await otherUser();
  assert.notEqual(uid, process.getuid!());
  const cached = (await runVault(['token', 'acme'], { env: box.env })).stdout.trim();
  const before = server.counts.refresh;
  for (const path of [TOKEN, `${TOKEN}?scopes=email`, '/computeMetadata/v1/instance/service-accounts/default/email']) {
    const theirs = await curlAsOtherUser(`http://${serve.host}${path}`, { 'Metadata-Flavor': 'Google' });
    assert.equal(theirs.status, 403, path);
    assert.ok(!theirs.body.includes(cached) && !theirs.body.includes('access_token'), `${path}: a token was served`);
    assert.ok(!theirs.body.includes(ACCOUNT.email), `${path}: the identity was served`);
  }
  assert.equal(server.counts.refresh, before, "the other user's requests started a refresh");
  const mine = await get(TOKEN);
  assert.equal(mine.status, 200);
  assert.ok((JSON.parse(mine.body) as { access_token: string }).access_token === cached);
});

test('a request relayed by a local proxy (tinyproxy adds Via) gets 403 and no token', async () => {
  const proxy = await startTinyproxy();
  try {
    const cached = (await runVault(['token', 'acme'], { env: box.env })).stdout.trim();
    // A plain-HTTP proxy request: tinyproxy connects to the endpoint itself, as this same user.
    const relayed = await get(`http://${serve.host}${TOKEN}`, { to: `127.0.0.1:${proxy.port}` });
    assert.equal(relayed.status, 403);
    assert.ok(!relayed.body.includes(cached) && !relayed.body.includes('access_token'), 'a token was served');
    // Every relay header refuses on its own, from the user's own socket.
    for (const name of ['via', 'forwarded', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip']) {
      const answer = await get(TOKEN, { headers: { [name]: '1.1 proxy' } });
      assert.equal(answer.status, 403, name);
    }
    assert.equal((await get(TOKEN)).status, 200);
  } finally {
    await proxy.close();
  }
});

test('exec --gce: the command is served, another Unix user asking the same endpoint gets 403', async () => {
  await otherUser();
  const curl = `curl -s --noproxy '*' --max-time 20 -w '\\n%{http_code}\\n' -H 'Metadata-Flavor: Google' "http://$GCE_METADATA_HOST${TOKEN}"`;
  const script = [
    `echo "theirs:"; su -s /bin/sh ${OTHER_USER} -c "cd / && ${curl.replace(/"/g, '\\"')}"`,
    `echo "mine:"; ${curl}`,
  ].join('\n');
  const result = await runVault(['exec', 'acme', '--gce', '--', 'sh', '-c', script], { env: box.env });
  assert.equal(result.code, 0, result.stderr);
  const cached = (await runVault(['token', 'acme'], { env: box.env })).stdout.trim();
  const [theirs, mine] = result.stdout.split('mine:\n') as [string, string];
  assert.match(theirs, /\n403\n$/);
  assert.ok(!theirs.includes(cached) && !theirs.includes('access_token'), 'a token was served to the other user');
  assert.match(mine, /\n200\n$/);
  assert.ok(mine.includes(cached), 'the command was not served the token');
});
