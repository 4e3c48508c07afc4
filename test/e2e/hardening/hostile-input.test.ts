// Hostile configuration and input. Property-based (fast-check): the config parser only ever
// throws UsageError and never accepts plain http to a host that is not loopback; the callback
// listener accepts exactly the requests that carry the login's state, and answers all others.
// Through the CLI: provider and account names with path separators or shell metacharacters, and
// env names that are not identifiers, are refused with exit 2 and create nothing anywhere.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { BlockList, connect, isIPv4 } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'smol-toml';
import { UsageError } from '../../../src/core/errors.js';
import { listenForCallback } from '../../../src/infra/loopback.js';
import { checkAccountName, checkEnvName, checkProviderName } from '../../../src/core/config/names.js';
import { checkEndpointUrl } from '../../../src/core/config/providers.js';
import { parseConfig } from '../../../src/core/config/parse-config.js';
import { ROOT, runVault, sandbox, type Sandbox } from '../../support/cli.js';
import { addOfflineProvider, offlineProviderArgs } from '../../support/cli-setup.js';
import { BAD_ENV_NAMES, HOSTILE_NAMES, PROPERTY_RUNS } from './cases.js';
import { filesUnder } from '../../support/world.js';

const FILE = '/home/u/.config/vault/config.toml';
const URL_KEYS = [
  'issuer',
  'authorization_endpoint',
  'token_endpoint',
  'revocation_endpoint',
  'device_authorization_endpoint',
  'userinfo_endpoint',
  'jwks_uri',
];

// An oracle independent of vault's isLoopbackHost: what the WHATWG URL parser makes of the host,
// checked against the loopback networks with Node's own address matching.
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
function reallyLoopback(url: URL): boolean {
  const host = url.hostname;
  if (host === 'localhost') return true;
  if (host.startsWith('[')) return LOOPBACK.check(host.slice(1, -1), 'ipv6');
  return isIPv4(host) && LOOPBACK.check(host, 'ipv4');
}

/** Accepted ⇒ https, or http to a host that really is loopback. */
function assertSafeEndpoint(value: string): void {
  const url = new URL(value);
  if (url.protocol === 'https:') return;
  assert.equal(url.protocol, 'http:', `accepted scheme ${url.protocol} in ${value}`);
  assert.ok(reallyLoopback(url), `accepted plain http to a host that is not loopback: ${value}`);
}

const trickyHost = fc.oneof(
  fc.domain(),
  fc.ipV4(),
  fc.ipV6().map((h) => `[${h}]`),
  fc.ipV4().map((ip) => `127.0.0.1.${ip}`),
  fc.domain().map((d) => `127.0.0.1.${d}`),
  fc.domain().map((d) => `localhost.${d}`),
  fc.domain().map((d) => `127.0.0.1@${d}`),
  fc.domain().map((d) => `${d}#@127.0.0.1`),
  fc.domain().map((d) => `${d}\\@127.0.0.1`),
  fc.constantFrom(
    'localhost',
    'LOCALHOST',
    'localhost.',
    '127.1',
    '0x7f.1',
    '2130706433',
    '017700000001',
    '[::1]',
    '[0:0:0:0:0:0:0:1]',
    '[::ffff:127.0.0.1]',
    '[::ffff:7f00:1]',
    '0.0.0.0',
    '[::]',
    '127.0.0.1:80@evil.test',
    'evil.test%2f@127.0.0.1',
    '127。0。0。1',
  ),
);
const endpoint = fc.oneof(
  fc
    .tuple(fc.constantFrom('http', 'https', 'HTTP', 'ftp', 'file', 'javascript'), trickyHost, fc.webPath())
    .map(([s, h, p]) => `${s}://${h}${p}`),
  fc.webUrl(),
  fc.string(),
);

const anyValue = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.array(fc.string(), { maxLength: 3 }));
const providerTable = fc.record(
  {
    issuer: fc.oneof(endpoint, anyValue),
    authorization_endpoint: endpoint,
    token_endpoint: endpoint,
    revocation_endpoint: endpoint,
    device_authorization_endpoint: endpoint,
    jwks_uri: endpoint,
    client_id: fc.oneof(fc.string(), fc.integer()),
    scopes: fc.oneof(fc.array(fc.string(), { maxLength: 4 }), anyValue),
    env_names: fc.array(fc.oneof(fc.string(), fc.constantFrom(...BAD_ENV_NAMES, 'GOOD_NAME')), { maxLength: 3 }),
    git_hosts: fc.array(fc.oneof(fc.domain(), fc.string()), { maxLength: 2 }),
    params: fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer()), { maxKeys: 3 }),
    preset: fc.string(),
    unexpected: anyValue,
  },
  { requiredKeys: [] },
);
const providerName = fc.oneof(
  fc.string(),
  fc.constantFrom(...HOSTILE_NAMES),
  fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,10}$/),
);

describe('config parser, property-based', () => {
  test(`parseConfig on ${PROPERTY_RUNS['parseConfig on arbitrary text']} arbitrary texts throws nothing but UsageError`, () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary' }),
          fc.string({
            unit: fc.constantFrom('[', ']', '=', '"', '.', '\n', 'a', 'providers', ' ', '{', '}', ',', '#'),
          }),
        ),
        (text) => {
          try {
            parseConfig(text, FILE);
          } catch (error) {
            assert.ok(error instanceof UsageError, `threw ${(error as Error)?.name}: ${(error as Error)?.message}`);
            assert.ok(error.message.startsWith(`${FILE}: `), `the message does not name the file: ${error.message}`);
          }
        },
      ),
      { numRuns: PROPERTY_RUNS['parseConfig on arbitrary text'] },
    );
  });

  test(`parseConfig on ${PROPERTY_RUNS['parseConfig on generated provider tables']} generated provider tables: UsageError, or only safe endpoints, names and env names`, () => {
    let accepted = 0;
    fc.assert(
      fc.property(
        fc.dictionary(providerName, providerTable, { maxKeys: 3 }),
        fc.option(fc.nat(2000)),
        (providers, cut) => {
          let text = stringify({ providers });
          if (cut !== null) text = text.slice(0, cut);
          let config;
          try {
            config = parseConfig(text, FILE);
          } catch (error) {
            assert.ok(error instanceof UsageError, `threw ${(error as Error)?.name}: ${(error as Error)?.message}`);
            return;
          }
          accepted++;
          for (const [name, p] of Object.entries(config.providers)) {
            assert.match(name, /^[a-z0-9][a-z0-9_-]{0,62}$/);
            for (const key of URL_KEYS) {
              const value = (p as unknown as Record<string, unknown>)[key];
              if (value !== undefined) assertSafeEndpoint(value as string);
            }
            for (const env of p.env_names ?? []) assert.match(env, /^[A-Za-z_][A-Za-z0-9_]*$/);
            for (const s of p.scopes ?? []) assert.doesNotMatch(s, /\s/);
          }
        },
      ),
      { numRuns: PROPERTY_RUNS['parseConfig on generated provider tables'] },
    );
    assert.ok(accepted > 0, 'no generated configuration was valid: the property checked nothing');
  });

  test(`${PROPERTY_RUNS['endpoint URLs with tricky hosts']} endpoint URLs with tricky hosts: plain http is accepted only when the host really is loopback`, () => {
    let loopbackAccepted = 0;
    fc.assert(
      fc.property(endpoint, (value) => {
        if (checkEndpointUrl(value) !== undefined) return;
        assertSafeEndpoint(value);
        if (new URL(value).protocol === 'http:') loopbackAccepted++;
      }),
      { numRuns: PROPERTY_RUNS['endpoint URLs with tricky hosts'] },
    );
    assert.ok(loopbackAccepted > 0, 'no loopback http URL was generated');
  });

  test(`${PROPERTY_RUNS['provider, account and env names']} names: what is accepted is one safe path component, free of shell syntax`, () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom(...HOSTILE_NAMES, ...BAD_ENV_NAMES)),
        (name) => {
          for (const check of [checkProviderName, checkAccountName]) {
            try {
              check(name);
            } catch (error) {
              assert.ok(error instanceof UsageError);
              continue;
            }
            assert.ok(name !== '.' && name !== '..' && !name.startsWith('-'), `accepted ${JSON.stringify(name)}`);
            assert.doesNotMatch(name, /[/\\\s;&|$`'"<>(){}*?[\]!#~%^=:]/, `accepted ${JSON.stringify(name)}`);
          }
          try {
            checkEnvName(name);
          } catch (error) {
            assert.ok(error instanceof UsageError);
            return;
          }
          assert.match(name, /^[A-Za-z_][A-Za-z0-9_]*$/, `accepted env name ${JSON.stringify(name)}`);
        },
      ),
      { numRuns: PROPERTY_RUNS['provider, account and env names'] },
    );
  });
});

/** Sends one raw request and returns the status line's code (0 when the connection closed without one). */
function send(port: number, request: string): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(request));
    let data = '';
    socket.setEncoding('latin1').on('data', (d: string) => (data += d));
    socket.on('error', () => {});
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0)));
  });
}

const queryPart = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', 'Z', '0', '-', '_', '.', '~', '%', '2', '0', '+', '&', '=', '#', '?', '/') }),
  fc.webQueryParameters(),
);

describe('callback listener, property-based', () => {
  test(`${PROPERTY_RUNS['requests at the callback listener']} generated requests: the login ends exactly for GET /callback with its own state and Host`, async () => {
    const state = 'S3cr3t-St4te_value-0123456789';
    let ends = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'GET', 'GET', 'POST', 'HEAD', 'PUT', 'OPTIONS'),
        fc.constantFrom(
          '/callback',
          '/callback',
          '/callback/',
          '/Callback',
          '/',
          '/callback%2f',
          '//callback',
          '/x/../callback',
        ),
        fc.oneof(fc.constant('right'), fc.constant('right'), fc.constant('none'), fc.constant('twice'), queryPart),
        queryPart,
        fc.constantFrom('right', 'right', 'other', 'none'),
        async (method, path, stateKind, extra, hostKind) => {
          const listener = await listenForCallback({ port: 0, expectedState: state, debug: () => {} });
          let ended = false;
          void listener.callback.then(() => (ended = true));
          try {
            const stateParam =
              stateKind === 'right'
                ? `state=${state}`
                : stateKind === 'none'
                  ? ''
                  : stateKind === 'twice'
                    ? `state=x&state=${state}`
                    : `state=${stateKind}`;
            const target = `${path}?code=c0de&${stateParam}&${extra}`;
            const host =
              hostKind === 'right'
                ? `Host: 127.0.0.1:${listener.port}\r\n`
                : hostKind === 'other'
                  ? 'Host: attacker.example\r\n'
                  : '';
            const status = await send(
              listener.port,
              `${method} ${target} HTTP/1.1\r\n${host}Connection: close\r\n\r\n`,
            );

            let parsed: URL | undefined;
            try {
              parsed = new URL(target, `http://127.0.0.1:${listener.port}`);
            } catch {
              parsed = undefined;
            }
            const shouldEnd =
              method === 'GET' &&
              hostKind === 'right' &&
              parsed?.pathname === '/callback' &&
              parsed.searchParams.get('state') === state;
            assert.equal(ended, shouldEnd, `${method} ${target} (${hostKind} host) → ${status}, login ended: ${ended}`);
            assert.ok([200, 400, 404, 414].includes(status), `${method} ${target} got ${status}`);
            assert.equal(status === 200, shouldEnd);
            if (ended) ends++;
          } finally {
            await listener.close();
          }
        },
      ),
      { numRuns: PROPERTY_RUNS['requests at the callback listener'] },
    );
    assert.ok(ends > 0, 'no generated request carried the right state: the property checked only refusals');
  });
});

/** Every path in the sandbox, and whether anything appeared outside it. */
function snapshot(box: Sandbox): string {
  return filesUnder(box.dir).sort().join('\n');
}

function assertNothingEscaped(): void {
  for (const dir of [ROOT, process.cwd(), tmpdir(), dirname(tmpdir())]) {
    for (const name of ['PWNED', 'evil']) assert.ok(!existsSync(join(dir, name)), `${join(dir, name)} was created`);
  }
}

describe('hostile names through the CLI: exit 2, nothing created', () => {
  test(`${HOSTILE_NAMES.length} provider and account names, each as provider add, login and token -a`, async () => {
    const box = sandbox({ VAULT_STORE: 'file', VAULT_BROWSER: 'touch PWNED' });
    try {
      await addOfflineProvider(box);
      const config = readFileSync(join(box.env.VAULT_CONFIG_DIR!, 'config.toml'));
      const before = snapshot(box);
      const runs = HOSTILE_NAMES.flatMap((name) => [
        offlineProviderArgs(name),
        ['login', name],
        ['token', 'acme', '-a', name],
      ]);
      const results = await Promise.all(runs.map((args) => runVault(args, { env: box.env })));
      results.forEach((r, i) => {
        assert.equal(r.code, 2, `vault ${JSON.stringify(runs[i])} exited ${r.code}: ${r.stderr}`);
        assert.equal(r.stdout, '');
      });
      const fromEnv = await runVault(['token', 'acme'], { env: { ...box.env, VAULT_ACCOUNT: '../../evil' } });
      assert.equal(fromEnv.code, 2, fromEnv.stderr);
      assert.match(fromEnv.stderr, /invalid account name "..\/..\/evil"/);
      assert.deepEqual(readFileSync(join(box.env.VAULT_CONFIG_DIR!, 'config.toml')), config);
      assert.equal(snapshot(box), before, 'files appeared in the sandbox');
      assert.deepEqual(
        readdirSync(box.env.VAULT_DATA_DIR!).filter((f) => f !== 'locks'),
        [],
      );
      assertNothingEscaped();
    } finally {
      box.cleanup();
    }
  });

  test(`${BAD_ENV_NAMES.length} env names that are not identifiers, from flags and from config.toml`, async () => {
    const box = sandbox({ VAULT_STORE: 'file' });
    try {
      const results = await Promise.all(
        BAD_ENV_NAMES.map((name) => runVault(offlineProviderArgs('acme', '--env-name', name), { env: box.env })),
      );
      results.forEach((r, i) => {
        assert.equal(r.code, 2, `--env-name ${JSON.stringify(BAD_ENV_NAMES[i])} exited ${r.code}: ${r.stderr}`);
        assert.match(r.stderr, /invalid environment variable name/);
      });
      assert.deepEqual(readdirSync(box.env.VAULT_CONFIG_DIR!), [], 'config.toml was written');

      const file = join(box.env.VAULT_CONFIG_DIR!, 'config.toml');
      for (const name of BAD_ENV_NAMES) {
        writeFileSync(
          file,
          stringify({ providers: { acme: { issuer: 'http://127.0.0.1:9', client_id: 'c', env_names: [name] } } }),
        );
        const r = await runVault(['token', 'acme'], { env: box.env });
        assert.equal(r.code, 2, `env_names = [${JSON.stringify(name)}] exited ${r.code}: ${r.stderr}`);
        assert.match(r.stderr, /providers\.acme\.env_names: invalid environment variable name/);
      }
      assertNothingEscaped();
    } finally {
      box.cleanup();
    }
  });
});
