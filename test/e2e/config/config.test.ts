// `vault provider ...` and config.toml, as a user sees them: what `add` writes and `show`/`list`
// read back, what presets fill in, and that every bad input is a one-line usage error (exit 2)
// that names the culprit and leaves the existing config.toml byte for byte as it was.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runVault, sandbox, type RunResult, type Sandbox } from '../../support/cli.js';
import { parseConfig, validateProvider } from '../../../src/core/config/parse-config.js';
import { UsageError } from '../../../src/core/errors.js';
import { KeyringStore } from '../../../src/infra/stores/keyring-store.js';
import { exitCodeFor } from '../../../src/cli/root.js';

const ISSUER = 'http://127.0.0.1:9000';

function configToml(box: Sandbox): string {
  return join(box.env.VAULT_CONFIG_DIR!, 'config.toml');
}

/** smol-toml builds null-prototype objects: compare their data, not their prototypes. */
function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown;
}

/** Runs `fn` in a fresh sandbox that is removed afterwards. */
async function inSandbox<T>(fn: (box: Sandbox) => Promise<T>, extra: NodeJS.ProcessEnv = {}): Promise<T> {
  const box = sandbox(extra);
  try {
    return await fn(box);
  } finally {
    box.cleanup();
  }
}

async function vault(
  box: Sandbox,
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return runVault(args, {
    env: { ...box.env, ...options.env },
    ...(options.input !== undefined && { input: options.input }),
  });
}

/** Runs a command that must succeed, and returns its stdout. */
async function ok(
  box: Sandbox,
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  const r = await vault(box, args, options);
  assert.equal(r.code, 0, `vault ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

async function showJson(box: Sandbox, name: string): Promise<Record<string, unknown>> {
  const out = await ok(box, ['provider', 'show', name, '--json']);
  assert.equal(out.trimEnd().split('\n').length, 1, 'show --json is one JSON document on one line');
  return JSON.parse(out) as Record<string, unknown>;
}

/** An argv written as a user types it: the words here have no space inside. */
function words(line: string): string[] {
  return line.split(' ');
}

/** stderr is exactly one line, starting with "error:"; returns it. */
function oneLineError(r: RunResult): string {
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^error: /);
  return lines[0]!;
}

describe('provider add / show / list / remove', { concurrency: 4 }, () => {
  test('show --json gives back every field add was given, and add prints nothing on stdout', () =>
    inSandbox(async (box) => {
      const r = await vault(
        box,
        words(
          `provider add acme --issuer ${ISSUER} --client-id vault-cli --offline --scope openid --scope offline_access ` +
            '--param audience=https://api.acme.test --env-name ACME_TOKEN --env-name API_TOKEN ' +
            '--git-host git.acme.test --git-username bot',
        ),
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /Added provider acme/);
      assert.doesNotMatch(r.stderr, /Next:/, 'the next step is for a terminal, not for CI logs');
      assert.deepEqual(await showJson(box, 'acme'), {
        name: 'acme',
        issuer: ISSUER,
        client_id: 'vault-cli',
        scopes: ['openid', 'offline_access'],
        params: { audience: 'https://api.acme.test' },
        env_names: ['ACME_TOKEN', 'API_TOKEN'],
        git_hosts: ['git.acme.test'],
        git_username: 'bot',
        rotates_refresh_tokens: true,
        client_secret_stored: false,
      });
      // The file itself is README's documented shape, readable by the parser the CLI uses.
      const parsed = parseConfig(readFileSync(configToml(box), 'utf8'), configToml(box));
      assert.deepEqual(plain(parsed.providers.acme?.params), { audience: 'https://api.acme.test' });
    }));

  test('a minimal provider shows the defaults: env name <NAME>_ACCESS_TOKEN, git username oauth2, rotating refresh tokens', () =>
    inSandbox(async (box) => {
      await ok(box, ['provider', 'add', 'acme', '--issuer', ISSUER, '--client-id', 'x', '--offline']);
      assert.deepEqual(await showJson(box, 'acme'), {
        name: 'acme',
        issuer: ISSUER,
        client_id: 'x',
        env_names: ['ACME_ACCESS_TOKEN'],
        git_username: 'oauth2',
        rotates_refresh_tokens: true,
        client_secret_stored: false,
      });
    }));

  test('the default env name upper-cases the provider name and turns - into _', () =>
    inSandbox(async (box) => {
      await ok(box, ['provider', 'add', 'my-api-2', '--issuer', ISSUER, '--client-id', 'x', '--offline']);
      await ok(box, ['provider', 'add', 'snake_case', '--issuer', ISSUER, '--client-id', 'x', '--offline']);
      assert.deepEqual((await showJson(box, 'my-api-2')).env_names, ['MY_API_2_ACCESS_TOKEN']);
      assert.deepEqual((await showJson(box, 'snake_case')).env_names, ['SNAKE_CASE_ACCESS_TOKEN']);
    }));

  test('--preset google fills access_type=offline, prompt=consent, scopes openid email profile, GOOGLE_OAUTH_ACCESS_TOKEN CLOUDSDK_AUTH_ACCESS_TOKEN', () =>
    inSandbox(async (box) => {
      await ok(box, words('provider add google --preset google --client-id 123.apps.googleusercontent.com'));
      const shown = await showJson(box, 'google');
      assert.equal(shown.preset, 'google');
      assert.equal(shown.client_id, '123.apps.googleusercontent.com');
      assert.deepEqual(shown.params, { access_type: 'offline', prompt: 'consent' });
      assert.deepEqual(shown.scopes, ['openid', 'email', 'profile']);
      assert.deepEqual(shown.env_names, ['GOOGLE_OAUTH_ACCESS_TOKEN', 'CLOUDSDK_AUTH_ACCESS_TOKEN']);
      assert.equal(shown.token_endpoint, 'https://oauth2.googleapis.com/token');
      assert.equal(shown.authorization_endpoint, 'https://accounts.google.com/o/oauth2/v2/auth');
      assert.equal(shown.rotates_refresh_tokens, false, 'Google does not rotate refresh tokens');
      assert.match(readFileSync(configToml(box), 'utf8'), /^rotates_refresh_tokens = false$/m);
    }));

  test('rotates_refresh_tokens: set by `provider add` and `provider set`, shown by show --json, anything but true or false refused', () =>
    inSandbox(async (box) => {
      await ok(
        box,
        words(`provider add acme --issuer ${ISSUER} --client-id x --offline --rotates-refresh-tokens false`),
      );
      assert.equal((await showJson(box, 'acme')).rotates_refresh_tokens, false);
      const set = await vault(box, words('provider set acme --rotates-refresh-tokens true'));
      assert.equal(set.code, 0, set.stderr);
      assert.match(set.stderr, /Updated provider acme.*: rotates_refresh_tokens\./);
      assert.equal((await showJson(box, 'acme')).rotates_refresh_tokens, true);
      assert.match(readFileSync(configToml(box), 'utf8'), /^rotates_refresh_tokens = true$/m);
      const before = readFileSync(configToml(box), 'utf8');
      const bad = await vault(box, words('provider set acme --rotates-refresh-tokens no'));
      assert.equal(bad.code, 2);
      assert.match(
        bad.stderr,
        /^error: option '--rotates-refresh-tokens <bool>' argument 'no' is invalid.*true, false/,
      );
      assert.equal(readFileSync(configToml(box), 'utf8'), before);
    }));

  test('--preset github fills env names GH_TOKEN GITHUB_TOKEN and git host github.com', () =>
    inSandbox(async (box) => {
      await ok(box, ['provider', 'add', 'github', '--preset', 'github', '--client-id', 'Iv1.abc123']);
      const shown = await showJson(box, 'github');
      assert.deepEqual(shown.env_names, ['GH_TOKEN', 'GITHUB_TOKEN']);
      assert.deepEqual(shown.git_hosts, ['github.com']);
      assert.equal(shown.git_username, 'oauth2');
      assert.equal(shown.token_endpoint, 'https://github.com/login/oauth/access_token');
    }));

  test('flags override what a preset fills in; preset values not overridden stay', () =>
    inSandbox(async (box) => {
      await ok(
        box,
        words(
          'provider add gcp --preset google --client-id x ' +
            '--scope openid --scope https://www.googleapis.com/auth/cloud-platform ' +
            '--param prompt=select_account --env-name CLOUDSDK_AUTH_ACCESS_TOKEN',
        ),
      );
      const gcp = await showJson(box, 'gcp');
      assert.deepEqual(gcp.scopes, ['openid', 'https://www.googleapis.com/auth/cloud-platform']);
      assert.deepEqual(gcp.params, { access_type: 'offline', prompt: 'select_account' });
      assert.deepEqual(gcp.env_names, ['CLOUDSDK_AUTH_ACCESS_TOKEN']);

      await ok(
        box,
        words(
          'provider add ghe --preset github --client-id x ' +
            '--authorization-endpoint https://ghe.example.com/login/oauth/authorize ' +
            '--token-endpoint https://ghe.example.com/login/oauth/access_token ' +
            '--git-host ghe.example.com --env-name GH_ENTERPRISE_TOKEN --git-username x-access-token',
        ),
      );
      const ghe = await showJson(box, 'ghe');
      assert.equal(ghe.authorization_endpoint, 'https://ghe.example.com/login/oauth/authorize');
      assert.equal(ghe.token_endpoint, 'https://ghe.example.com/login/oauth/access_token');
      assert.deepEqual(ghe.git_hosts, ['ghe.example.com']);
      assert.deepEqual(ghe.env_names, ['GH_ENTERPRISE_TOKEN']);
      assert.equal(ghe.git_username, 'x-access-token');
      assert.deepEqual(ghe.scopes, ['repo', 'read:org', 'gist']);
    }));

  test('add --replace over an existing provider replaces it whole and says "Replaced"', () =>
    inSandbox(async (box) => {
      await ok(box, ['provider', 'add', 'acme', '--issuer', ISSUER, '--client-id', 'old', '--offline', '--scope', 'a']);
      const r = await vault(
        box,
        words('provider add acme --issuer https://login.acme.test --client-id new --offline --replace'),
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /Replaced provider acme/);
      const shown = await showJson(box, 'acme');
      assert.equal(shown.client_id, 'new');
      assert.equal(shown.issuer, 'https://login.acme.test');
      assert.equal(shown.scopes, undefined);
    }));

  test('list --json is one document listing every provider, sorted by name', () =>
    inSandbox(async (box) => {
      assert.deepEqual(JSON.parse(await ok(box, ['provider', 'list', '--json'])), { providers: [] });
      await ok(box, ['provider', 'add', 'zeta', '--issuer', ISSUER, '--client-id', 'z', '--offline']);
      await ok(box, ['provider', 'add', 'alpha', '--preset', 'github', '--client-id', 'a']);
      const out = await ok(box, ['provider', 'list', '--json']);
      const listed = JSON.parse(out) as { providers: Array<Record<string, unknown>> };
      assert.deepEqual(
        listed.providers.map((p) => p.name),
        ['alpha', 'zeta'],
      );
      assert.deepEqual(listed.providers[1], { name: 'zeta', issuer: ISSUER, client_id: 'z' });
      assert.equal(listed.providers[0]!.preset, 'github');
      assert.equal(listed.providers[0]!.client_id, 'a');
    }));

  test('remove drops the provider and its client secret; show then says it is unknown (exit 2)', () =>
    inSandbox(
      async (box) => {
        await ok(
          box,
          ['provider', 'add', 'acme', '--issuer', ISSUER, '--client-id', 'x', '--offline', '--client-secret-stdin'],
          { input: 'to-be-removed' },
        );
        await ok(box, ['provider', 'add', 'keep', '--issuer', ISSUER, '--client-id', 'y', '--offline']);
        const credentials = join(box.env.VAULT_DATA_DIR!, 'credentials.json');
        assert.match(readFileSync(credentials, 'utf8'), /cs:acme/);

        const r = await vault(box, ['provider', 'remove', 'acme']);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /Removed provider acme/);
        assert.ok(!readFileSync(credentials, 'utf8').includes('to-be-removed'), 'the client secret survived remove');
        const listed = JSON.parse(await ok(box, ['provider', 'list', '--json'])) as {
          providers: Array<{ name: string }>;
        };
        assert.deepEqual(
          listed.providers.map((p) => p.name),
          ['keep'],
        );

        const show = await vault(box, ['provider', 'show', 'acme']);
        assert.equal(show.code, 2);
        assert.match(oneLineError(show), /unknown provider "acme"/);
        const again = await vault(box, ['provider', 'remove', 'acme']);
        assert.equal(again.code, 2);
        assert.match(oneLineError(again), /unknown provider "acme"/);
      },
      { VAULT_STORE: 'file' },
    ));

  test('remove refuses while logins are stored (they must be revoked first), and changes nothing', () =>
    inSandbox(
      async (box) => {
        await ok(box, ['provider', 'add', 'acme', '--issuer', ISSUER, '--client-id', 'x', '--offline']);
        const login = JSON.stringify({ v: 1, refresh_token: 'rt', scope: '', obtained_at: 1 });
        const credentials = join(box.env.VAULT_DATA_DIR!, 'credentials.json');
        writeFileSync(credentials, JSON.stringify({ v: 1, entries: { 'rt:acme:work': login } }), { mode: 0o600 });
        const before = readFileSync(configToml(box));
        const r = await vault(box, ['provider', 'remove', 'acme']);
        assert.equal(r.code, 2, r.stderr);
        assert.match(oneLineError(r), /work.*vault logout acme/);
        assert.deepEqual(readFileSync(configToml(box)), before);
      },
      { VAULT_STORE: 'file' },
    ));

  test('http:// is accepted on loopback: 127.0.0.5, localhost and [::1]', () =>
    inSandbox(async (box) => {
      for (const [name, issuer] of [
        ['v4', 'http://127.0.0.5:8080'],
        ['host', 'http://localhost:8080'],
        ['v6', 'http://[::1]:8080'],
      ] as const) {
        await ok(box, ['provider', 'add', name, '--issuer', issuer, '--client-id', 'x', '--offline']);
        assert.equal((await showJson(box, name)).issuer, issuer);
      }
    }));
});

/** One bad input: it must exit 2 with a one-line message, leaving config.toml untouched. */
interface BadCase {
  name: string;
  /** config.toml before the command; default: a valid file made by `vault provider add existing`. */
  config?: string;
  args: string[];
  /** Each must match the one-line message. */
  expect: RegExp[];
  /** Text that must not appear anywhere in the output. */
  secret?: string;
}

const OTHER = ['provider', 'add', 'other', '--issuer', 'https://login.other.test', '--client-id', 'x', '--offline'];
const VALID_ACME = '[providers.acme]\nissuer = "https://login.acme.test"\nclient_id = "x"\n';
const FILE = /config\.toml/;

const BAD_CASES: BadCase[] = [
  {
    name: 'malformed TOML',
    config: '[providers.acme\nissuer = "https://a.test"\n',
    args: OTHER,
    expect: [FILE, /malformed TOML at line \d+/],
  },
  {
    name: 'malformed TOML also stops `provider list`',
    config: 'providers = {\n',
    args: ['provider', 'list'],
    expect: [FILE, /malformed TOML/],
  },
  {
    name: 'wrong type: scopes = "x"',
    config: `${VALID_ACME}scopes = "x"\n`,
    args: OTHER,
    expect: [FILE, /providers\.acme\.scopes: expected a list/],
  },
  {
    name: 'wrong type: params of numbers',
    config: `${VALID_ACME}params = { max_age = 5 }\n`,
    args: OTHER,
    expect: [FILE, /providers\.acme\.params/],
  },
  {
    name: 'wrong value: rotation_grace = -5',
    config: `${VALID_ACME}rotation_grace = -5\n`,
    args: OTHER,
    expect: [FILE, /providers\.acme\.rotation_grace: expected a number of seconds from 0 to 86400/],
  },
  {
    name: 'unknown key (a client secret pasted into the config is named, not echoed)',
    config: `${VALID_ACME}client_secret = "pasted-secret-value"\n`,
    args: OTHER,
    expect: [FILE, /providers\.acme\.client_secret: unknown key/],
    secret: 'pasted-secret-value',
  },
  {
    name: 'unknown key near a known one: did you mean',
    config: `${VALID_ACME}scope = ["openid"]\n`,
    args: OTHER,
    expect: [FILE, /providers\.acme\.scope: unknown key \(did you mean scopes\?\)/],
  },
  {
    name: 'unknown top-level table',
    config: `[settings]\ncolour = true\n${VALID_ACME}`,
    args: OTHER,
    expect: [FILE, /settings: unknown key/],
  },
  {
    name: 'invalid provider name in the file',
    config: '[providers.Acme]\nissuer = "https://a.test"\nclient_id = "x"\n',
    args: OTHER,
    expect: [FILE, /providers\.Acme: invalid provider name/],
  },
  {
    name: 'non-loopback http issuer in the file',
    config: '[providers.acme]\nissuer = "http://login.acme.test"\nclient_id = "x"\n',
    args: OTHER,
    expect: [FILE, /providers\.acme\.issuer: http:\/\/ is allowed only for loopback/],
  },
  {
    name: 'missing client_id in the file',
    config: '[providers.acme]\nissuer = "https://a.test"\n',
    args: OTHER,
    expect: [FILE, /providers\.acme\.client_id: missing/],
  },
  {
    name: 'unknown preset',
    args: ['provider', 'add', 'acme', '--preset', 'gitlabz', '--client-id', 'x'],
    expect: [/unknown preset "gitlabz"/, /google, github, gitlab, microsoft/],
  },
  ...['Bad', 'a/b', 'a;rm', '_x', 'a'.repeat(64), 'a b'].map((bad) => ({
    name: `invalid provider name ${JSON.stringify(bad)}`,
    args: ['provider', 'add', bad, '--issuer', 'https://a.test', '--client-id', 'x', '--offline'],
    expect: [new RegExp(`invalid provider name ${JSON.stringify(bad).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`)],
  })),
  {
    name: 'invalid provider name for show',
    args: ['provider', 'show', '../etc'],
    expect: [/invalid provider name "\.\.\/etc"/],
  },
  ...[
    'http://login.acme.test',
    'http://10.0.0.1:8080',
    'http://127.0.0.1.nip.io',
    'http://localhost.evil.test',
    'http://128.0.0.1',
  ].map((issuer) => ({
    name: `non-loopback http issuer ${issuer}`,
    args: ['provider', 'add', 'acme', '--issuer', issuer, '--client-id', 'x', '--offline'],
    expect: [
      /issuer: http:\/\/ is allowed only for loopback hosts/,
      new RegExp(issuer.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')),
    ],
  })),
  {
    name: 'non-loopback http token endpoint',
    args: words(
      'provider add acme --authorization-endpoint https://a.test/auth --token-endpoint http://a.test/token --client-id x',
    ),
    expect: [/token_endpoint: http:\/\/ is allowed only for loopback/],
  },
  {
    name: 'issuer that is not a URL',
    args: ['provider', 'add', 'acme', '--issuer', 'login.acme.test', '--client-id', 'x', '--offline'],
    expect: [/issuer: not a valid URL/],
  },
  {
    name: 'missing --client-id',
    args: ['provider', 'add', 'acme', '--issuer', 'https://a.test', '--offline'],
    expect: [/--client-id is required/],
  },
  {
    name: 'neither preset, issuer nor endpoints',
    args: ['provider', 'add', 'acme', '--client-id', 'x'],
    expect: [/--preset.*--issuer/],
  },
  ...['1X', 'A-B', 'A B'].map((env) => ({
    name: `invalid env name ${JSON.stringify(env)}`,
    args: ['provider', 'add', 'acme', '--issuer', 'https://a.test', '--client-id', 'x', '--offline', '--env-name', env],
    expect: [/env_names/, new RegExp(`invalid environment variable name "${env}"`)],
  })),
  ...['audience', '=value'].map((param) => ({
    name: `--param ${JSON.stringify(param)} without KEY=`,
    args: ['provider', 'add', 'acme', '--issuer', 'https://a.test', '--client-id', 'x', '--offline', '--param', param],
    expect: [new RegExp(`--param expects KEY=VALUE, got "${param}"`)],
  })),
  {
    name: 'invalid git host',
    args: words('provider add acme --issuer https://a.test --client-id x --offline --git-host https://git.acme.test'),
    expect: [/invalid git host/],
  },
  {
    name: 'scope with white space in the file',
    config: `${VALID_ACME}scopes = ["openid email"]\n`,
    args: OTHER,
    expect: [FILE, /providers\.acme\.scopes: "openid email" contains white space/],
  },
];

describe('bad input: exit 2, one line naming the culprit, config.toml unchanged', { concurrency: 4 }, () => {
  // The existing config.toml of the flag cases: written once by `vault provider add`, as a user's would be.
  let existing: string;
  before(() =>
    inSandbox(async (box) => {
      await ok(box, ['provider', 'add', 'existing', '--preset', 'github', '--client-id', 'keep-me']);
      existing = readFileSync(configToml(box), 'utf8');
    }),
  );

  for (const c of BAD_CASES) {
    test(c.name, () =>
      inSandbox(async (box) => {
        mkdirSync(box.env.VAULT_CONFIG_DIR!, { recursive: true });
        writeFileSync(configToml(box), c.config ?? existing);
        const before = readFileSync(configToml(box));
        const r = await vault(box, c.args);
        assert.equal(r.code, 2, `exit ${r.code}; stderr:\n${r.stderr}`);
        assert.equal(r.stdout, '');
        const line = oneLineError(r);
        for (const re of c.expect) assert.match(line, re);
        if (c.config !== undefined)
          assert.ok(line.includes(configToml(box)), `the message does not name ${configToml(box)}: ${line}`);
        if (c.secret) assert.ok(!r.stderr.includes(c.secret), 'a secret from the config file was echoed');
        assert.deepEqual(readFileSync(configToml(box)), before, 'config.toml changed');
        assert.deepEqual(readdirSync(box.env.VAULT_CONFIG_DIR!), ['config.toml'], 'stray files next to config.toml');
      }),
    );
  }
});

describe('the client secret is kept in the store, never in config.toml or any output', () => {
  test('--client-secret-stdin (file store, --debug): only credentials.json holds it', () =>
    inSandbox(
      async (box) => {
        const secret = `stdin-secret-${process.pid}-Zq9`;
        const r = await vault(
          box,
          words(`--debug provider add acme --issuer ${ISSUER} --client-id x --offline --client-secret-stdin`),
          {
            input: `${secret}\n`,
          },
        );
        assert.equal(r.code, 0, r.stderr);
        assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), 'the secret was printed');
        assert.ok(!readFileSync(configToml(box), 'utf8').includes(secret), 'the secret is in config.toml');
        const creds = JSON.parse(readFileSync(join(box.env.VAULT_DATA_DIR!, 'credentials.json'), 'utf8')) as {
          entries: Record<string, string>;
        };
        // The trailing newline of `echo secret |` is not part of the secret.
        assert.deepEqual(JSON.parse(creds.entries['cs:acme']!), { v: 1, client_secret: secret });
        for (const args of [
          ['provider', 'show', 'acme', '--json'],
          ['provider', 'show', 'acme'],
          ['provider', 'list', '--json'],
        ]) {
          const shown = await vault(box, ['--debug', ...args]);
          assert.equal(shown.code, 0, shown.stderr);
          assert.ok(
            !shown.stdout.includes(secret) && !shown.stderr.includes(secret),
            `vault ${args.join(' ')} printed the secret`,
          );
        }
      },
      { VAULT_STORE: 'file' },
    ));

  test('VAULT_CLIENT_SECRET (keychain, --debug): stored in the keychain, nowhere in files or output', () =>
    inSandbox(async (box) => {
      assert.ok(box.env.DBUS_SESSION_BUS_ADDRESS, 'run under scripts/with-keyring.sh');
      const secret = `env-secret-${process.pid}-Xy7`;
      const r = await vault(
        box,
        ['--debug', 'provider', 'add', 'acme', '--issuer', ISSUER, '--client-id', 'x', '--offline'],
        {
          env: { VAULT_CLIENT_SECRET: secret },
        },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), 'the secret was printed');
      assert.match(r.stderr, /^Stored a client secret for acme from VAULT_CLIENT_SECRET in OS keychain/m);
      assert.ok(!readFileSync(configToml(box), 'utf8').includes(secret), 'the secret is in config.toml');
      assert.ok(!existsSync(join(box.env.VAULT_DATA_DIR!, 'credentials.json')), 'the secret went to the file store');
      const keychain = new KeyringStore(box.env.VAULT_KEYRING_SERVICE!);
      try {
        assert.deepEqual(JSON.parse((await keychain.get('cs:acme')) ?? 'null'), { v: 1, client_secret: secret });
      } finally {
        await keychain.delete('cs:acme');
      }
    }));
});

describe('concurrent provider add', () => {
  test('8 processes adding 8 different providers at once: all 8 land and the file parses', () =>
    inSandbox(async (box) => {
      const names = Array.from({ length: 8 }, (_, i) => `p${i}`);
      const results = await Promise.all(
        names.map((n) =>
          vault(box, ['provider', 'add', n, '--issuer', ISSUER, '--client-id', `client-${n}`, '--offline']),
        ),
      );
      for (const r of results) assert.equal(r.code, 0, r.stderr);
      const parsed = parseConfig(readFileSync(configToml(box), 'utf8'), configToml(box));
      assert.deepEqual(Object.keys(parsed.providers).sort(), names);
      for (const n of names) assert.equal(parsed.providers[n]!.client_id, `client-${n}`);
      const listed = JSON.parse(await ok(box, ['provider', 'list', '--json'])) as {
        providers: Array<{ name: string }>;
      };
      assert.deepEqual(
        listed.providers.map((p) => p.name),
        names,
      );
      assert.deepEqual(readdirSync(box.env.VAULT_CONFIG_DIR!), ['config.toml']);
    }));
});

describe('issuer discovery at add', () => {
  let server: Server;
  let base: string;
  const answers = new Map<string, unknown>();

  before(async () => {
    server = createServer((req, res) => {
      const body = answers.get(req.url ?? '');
      res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body ?? { error: 'not found' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    answers.set('/hello/.well-known/openid-configuration', { hello: 1 });
    answers.set('/good/.well-known/openid-configuration', {
      issuer: `${base}/good`,
      authorization_endpoint: `${base}/good/auth`,
      token_endpoint: `${base}/good/token`,
    });
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('an issuer that answers with real metadata is added', () =>
    inSandbox(async (box) => {
      await ok(box, ['provider', 'add', 'acme', '--issuer', `${base}/good`, '--client-id', 'x']);
      assert.equal((await showJson(box, 'acme')).issuer, `${base}/good`);
    }));

  test('an issuer answering 200 with JSON that is not metadata: exit 2, nothing written', () =>
    inSandbox(async (box) => {
      const r = await vault(box, ['provider', 'add', 'acme', '--issuer', `${base}/hello`, '--client-id', 'x']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(oneLineError(r), /did not answer with authorization server metadata/);
      assert.ok(!existsSync(configToml(box)), 'config.toml was written');
    }));

  test('an unreachable issuer (closed port): exit 4, nothing written; --offline adds it anyway', () =>
    inSandbox(async (box) => {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      const issuer = `http://127.0.0.1:${port}`;
      const r = await vault(box, ['provider', 'add', 'acme', '--issuer', issuer, '--client-id', 'x']);
      assert.equal(r.code, 4, r.stderr);
      assert.match(oneLineError(r), new RegExp(`cannot reach ${issuer}`));
      assert.ok(!existsSync(configToml(box)), 'config.toml was written');
      await ok(box, ['provider', 'add', 'acme', '--issuer', issuer, '--client-id', 'x', '--offline']);
    }));
});

describe('parseConfig / validateProvider messages', () => {
  const file = '/home/u/.config/vault/config.toml';

  /** parseConfig(text) throws a UsageError (exit 2) whose message is exactly `message` or matches it. */
  function refuses(text: string, message: string | RegExp): void {
    assert.throws(
      () => parseConfig(text, file),
      (error: unknown) => {
        assert.ok(error instanceof UsageError, `expected a UsageError, got ${String(error)}`);
        assert.equal(exitCodeFor(error.kind), 2);
        if (typeof message === 'string') assert.equal(error.message, message);
        else assert.match(error.message, message);
        return true;
      },
    );
  }

  test('a valid file parses into its providers; an empty file has none', () => {
    assert.deepEqual(parseConfig('', file), { providers: {} });
    const parsed = parseConfig(
      `${VALID_ACME}scopes = ["openid"]\nparams = { audience = "api" }\n[providers.gh]\nauthorization_endpoint = "https://gh.test/a"\ntoken_endpoint = "https://gh.test/t"\nclient_id = "y"\n`,
      file,
    );
    assert.deepEqual(plain(parsed.providers), {
      acme: { issuer: 'https://login.acme.test', client_id: 'x', scopes: ['openid'], params: { audience: 'api' } },
      gh: { authorization_endpoint: 'https://gh.test/a', token_endpoint: 'https://gh.test/t', client_id: 'y' },
    });
  });

  test('malformed TOML names the file, line and column', () => {
    refuses(
      '[providers.acme]\nissuer = \n',
      new RegExp(`^${file.replace(/[./]/g, '\\$&')}: malformed TOML at line 2, column \\d+: .+`),
    );
  });

  test('structure errors name file and key path', () => {
    refuses('colour = true\n', `${file}: colour: unknown key`);
    refuses('providers = 1\n', `${file}: providers: expected a table`);
    refuses('providers.acme = 3\n', `${file}: providers.acme: expected a table`);
    refuses(
      '[providers."a;rm"]\nclient_id = "x"\n',
      new RegExp(`^${file.replace(/[./]/g, '\\$&')}: providers\\.a;rm: invalid provider name "a;rm"`),
    );
    refuses(`${VALID_ACME}colour = "blue"\n`, `${file}: providers.acme.colour: unknown key`);
    refuses(`${VALID_ACME}client-secret = "s"\n`, `${file}: providers.acme.client-secret: unknown key`);
    refuses(
      `${VALID_ACME}git_host = ["h"]\n`,
      `${file}: providers.acme.git_host: unknown key (did you mean git_hosts?)`,
    );
    refuses(
      `${VALID_ACME}token-endpoint = "https://a.test/t"\n`,
      /token-endpoint: unknown key \(did you mean token_endpoint\?\)$/,
    );
    refuses('provider.acme.client_id = "x"\n', `${file}: provider: unknown key (did you mean providers?)`);
  });

  test('type errors name the key and the expected type', () => {
    refuses(`${VALID_ACME}scopes = "openid"\n`, `${file}: providers.acme.scopes: expected a list of non-empty strings`);
    refuses(
      `${VALID_ACME}env_names = [""]\n`,
      `${file}: providers.acme.env_names: expected a list of non-empty strings`,
    );
    refuses(
      `${VALID_ACME}git_hosts = [1]\n`,
      `${file}: providers.acme.git_hosts: expected a list of non-empty strings`,
    );
    refuses(`${VALID_ACME}params = { a = 1 }\n`, `${file}: providers.acme.params: expected a table of strings`);
    refuses(`${VALID_ACME}params = ["a"]\n`, `${file}: providers.acme.params: expected a table of strings`);
    refuses(
      `${VALID_ACME}rotates_refresh_tokens = "no"\n`,
      `${file}: providers.acme.rotates_refresh_tokens: expected true or false`,
    );
    refuses(
      '[providers.acme]\nissuer = "https://a.test"\nclient_id = ""\n',
      `${file}: providers.acme.client_id: expected a non-empty string`,
    );
    refuses(
      '[providers.acme]\nissuer = 5\nclient_id = "x"\n',
      `${file}: providers.acme.issuer: expected a non-empty string`,
    );
  });

  test('value errors name the key and the value', () => {
    refuses(
      '[providers.acme]\nissuer = "https://a.test"\n',
      `${file}: providers.acme.client_id: missing (every provider needs the client id registered there)`,
    );
    refuses(
      '[providers.acme]\nclient_id = "x"\n',
      `${file}: providers.acme: needs an issuer, or both authorization_endpoint and token_endpoint`,
    );
    refuses(
      '[providers.acme]\nclient_id = "x"\nauthorization_endpoint = "https://a.test/auth"\n',
      `${file}: providers.acme: needs an issuer, or both authorization_endpoint and token_endpoint`,
    );
    refuses(
      '[providers.acme]\nclient_id = "x"\nissuer = "http://a.test"\n',
      `${file}: providers.acme.issuer: http:// is allowed only for loopback hosts; use https:// (http://a.test)`,
    );
    refuses(
      '[providers.acme]\nclient_id = "x"\nissuer = "ftp://a.test"\n',
      `${file}: providers.acme.issuer: unsupported scheme ftp: (ftp://a.test)`,
    );
    refuses(
      '[providers.acme]\nclient_id = "x"\nissuer = "a.test"\n',
      `${file}: providers.acme.issuer: not a valid URL (a.test)`,
    );
    refuses(
      `${VALID_ACME}jwks_uri = "http://keys.test/jwks"\n`,
      `${file}: providers.acme.jwks_uri: http:// is allowed only for loopback hosts; use https:// (http://keys.test/jwks)`,
    );
    refuses(
      `${VALID_ACME}env_names = ["A-B"]\n`,
      /^.*: providers\.acme\.env_names: invalid environment variable name "A-B"/,
    );
    refuses(
      `${VALID_ACME}git_hosts = ["https://git.test"]\n`,
      /^.*: providers\.acme\.git_hosts: invalid git host "https:\/\/git\.test"/,
    );
    refuses(
      `${VALID_ACME}scopes = ["openid email"]\n`,
      `${file}: providers.acme.scopes: "openid email" contains white space; list each scope separately`,
    );
  });

  test('loopback http is accepted in every endpoint: 127.0.0.0/8, localhost, [::1]', () => {
    for (const host of ['127.0.0.1', '127.0.0.5', '127.255.255.254', 'localhost', 'LOCALHOST', '[::1]']) {
      const cfg = validateProvider(
        'acme',
        { issuer: `http://${host}:9000`, token_endpoint: `http://${host}/t`, client_id: 'x' },
        'provider acme',
      );
      assert.equal(cfg.issuer, `http://${host}:9000`);
    }
  });

  test('validateProvider prefixes every message with where the table came from', () => {
    const where = 'provider acme';
    const cases: Array<[unknown, string]> = [
      ['not a table', `${where}: expected a table`],
      [['a'], `${where}: expected a table`],
      [{ issuer: 'https://a.test', client_id: 'x', secret: 's' }, `${where}.secret: unknown key`],
      [
        { issuer: 'https://a.test' },
        `${where}.client_id: missing (every provider needs the client id registered there)`,
      ],
      [
        { issuer: 'http://example.com', client_id: 'x' },
        `${where}.issuer: http:// is allowed only for loopback hosts; use https:// (http://example.com)`,
      ],
      [
        { issuer: 'https://a.test', client_id: 'x', env_names: ['1X'] },
        `${where}.env_names: invalid environment variable name "1X": use letters, digits and '_', not starting with a digit`,
      ],
    ];
    for (const [raw, message] of cases) {
      assert.throws(
        () => validateProvider('acme', raw, where),
        (e: unknown) => e instanceof UsageError && e.message === message,
        message,
      );
    }
    assert.throws(
      () => validateProvider('Bad', { issuer: 'https://a.test', client_id: 'x' }, 'provider Bad'),
      /invalid provider name "Bad"/,
    );
  });
});
