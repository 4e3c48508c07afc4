// git's credential protocol: the pure parser and formatter, fuzzed, and the helper command run
// in-process on arbitrary input.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';

import { answerGit } from '../../../../src/cli/git-helper.js';
import { openContext } from '../../../../src/cli/context.js';
import { exitStatus } from '../../../../src/cli/root.js';
import {
  LIMITS,
  allValues,
  credentialRequest,
  formatCredential,
  helperCommand,
  hostMatches,
  parseCredential,
  protocolAllowed,
  providerForHost,
  type Attribute,
} from '../../../../src/core/protocols/git-credential.js';
import { run } from '../../../support/integrations.js';
import { fakeDeps, systemClock } from '../../../support/fakes.js';

const dir = mkdtempSync(join(tmpdir(), 'vault-credential-'));
after(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'config'));
writeFileSync(
  join(dir, 'config', 'config.toml'),
  `[providers.acme]\nissuer = "http://127.0.0.1:9"\nclient_id = "vault-public"\ngit_hosts = ["git.example.test", "127.0.0.1:8080"]\n\n` +
    `[providers.lab]\nissuer = "http://127.0.0.1:9"\nclient_id = "vault-public"\ngit_hosts = ["lab.example.test"]\ngit_username = "x-token"\n`,
);
const ENV: NodeJS.ProcessEnv = {
  VAULT_CONFIG_DIR: join(dir, 'config'),
  VAULT_DATA_DIR: join(dir, 'data'),
  VAULT_STORE: 'file',
  GIT_TERMINAL_PROMPT: '0',
};

/** Runs `vault git-credential <operation>` in-process with `input` on stdin. */
async function helper(operation: string, input: string, env: NodeJS.ProcessEnv = ENV) {
  const { deps, stdout, stderr } = fakeDeps({ input, env, clock: systemClock });
  const code = exitStatus(await answerGit(await openContext(deps), { operation }));
  return { code, stdout: stdout(), stderr: stderr() };
}

const KEYS = [
  'protocol',
  'host',
  'path',
  'username',
  'password',
  'url',
  'capability[]',
  'wwwauth[]',
  'password_expiry_utc',
  'oauth_refresh_token',
  'authtype',
  'state[]',
  'continue',
  'ephemeral',
];
const anyText = fc.string({ unit: 'binary', maxLength: 80 });
const key = fc.oneof(fc.constantFrom(...KEYS), anyText);
const line = fc.oneof(
  fc.tuple(key, anyText).map(([k, v]) => `${k}=${v}`),
  anyText,
);
const message = fc
  .tuple(fc.array(line, { maxLength: 20 }), fc.constantFrom('', '\n', '\n\n', '\r\n\r\n'))
  .map(([lines, end]) => lines.join('\n') + end);

/** A line git would refuse: no `=`, an empty key, or a NUL. */
const badLine = fc.oneof(
  anyText.filter((s) => s !== '' && !s.includes('=') && !/[\n\r]/.test(s)),
  anyText.map((v) => `=${v}`),
  fc.tuple(key, anyText).map(([k, v]) => `${k}=${v}\0`),
);
const goodLine = fc
  .tuple(fc.constantFrom(...KEYS), anyText)
  .filter(([, v]) => !/[\n\r\0]/.test(v))
  .map(([k, v]) => `${k}=${v}`);
const malformed = fc
  .tuple(fc.array(goodLine, { maxLength: 5 }), badLine, fc.array(line, { maxLength: 5 }))
  .map(([before, bad, rest]) => [...before, bad, ...rest].join('\n') + '\n');

test('the parser never throws, whatever the input', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        message,
        anyText,
        fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('utf8')),
      ),
      (text) => {
        const attributes = parseCredential(text);
        if (attributes) credentialRequest(attributes);
      },
    ),
    { numRuns: 3000 },
  );
});

test('malformed input: the helper answers nothing, on stdout or stderr, and exits 0', async () => {
  await fc.assert(
    fc.asyncProperty(malformed, fc.constantFrom('get', 'erase', 'store'), async (text, operation) => {
      assert.equal(parseCredential(text), undefined);
      assert.deepEqual(await helper(operation, text), { code: 0, stdout: '', stderr: '' });
    }),
    { numRuns: 300 },
  );
  for (const text of [
    `host=${'a'.repeat(LIMITS.maxLineBytes + 1)}\n`,
    'k=v\n'.repeat(LIMITS.maxLines + 1),
    `k=${'v'.repeat(LIMITS.maxBytes)}`,
  ]) {
    assert.equal(parseCredential(text), undefined);
    assert.deepEqual(await helper('get', text), { code: 0, stdout: '', stderr: '' });
  }
});

test('arbitrary requests for hosts no provider serves get no answer', async () => {
  await fc.assert(
    fc.asyncProperty(message, async (text) => {
      const request = credentialRequest(parseCredential(text) ?? []);
      fc.pre(!['git.example.test', 'lab.example.test', '127.0.0.1:8080'].some((h) => request.host?.startsWith(h)));
      assert.deepEqual(await helper('get', text), { code: 0, stdout: '', stderr: '' });
    }),
    { numRuns: 300 },
  );
});

test('look-alikes of a served host (a label before or after it) get no answer: hosts match whole, never by suffix', async () => {
  const served = ['git.example.test', 'lab.example.test', '127.0.0.1:8080'];
  const label = fc.stringMatching(/^[a-z0-9-]{1,12}$/);
  const lookAlike = fc.oneof(
    fc.tuple(label, fc.constantFrom('', '.', '-'), fc.constantFrom(...served)).map(([p, sep, h]) => `${p}${sep}${h}`),
    fc.tuple(fc.constantFrom(...served), fc.constantFrom('', '.', '-'), label).map(([h, sep, s]) => `${h}${sep}${s}`),
  );
  await fc.assert(
    fc.asyncProperty(lookAlike, fc.boolean(), async (host, upper) => {
      const text = `protocol=https\nhost=${upper ? host.toUpperCase() : host}\n\n`;
      assert.deepEqual(await helper('get', text), { code: 0, stdout: '', stderr: '' });
    }),
    {
      numRuns: 300,
      examples: [
        ['evilgit.example.test', false],
        ['x.git.example.test', false],
        ['git.example.test.evil', false],
      ],
    },
  );
});

test('well-formed messages round-trip; nothing unsafe is ever written', () => {
  const safeKey = fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }).filter((k) => !/[=\n\r\0]/.test(k));
  const safeValue = fc.string({ unit: 'binary', maxLength: 80 }).filter((v) => !/[\n\r\0]/.test(v));
  fc.assert(
    fc.property(fc.array(fc.tuple(safeKey, safeValue), { maxLength: 40 }), (attributes: Attribute[]) => {
      const text = formatCredential(attributes);
      assert.ok(text !== undefined);
      assert.deepEqual(parseCredential(text), attributes);
      assert.deepEqual(parseCredential(`${text}\n`), attributes, 'a blank line ends the message');
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(anyText, anyText), { maxLength: 10 }), (attributes: Attribute[]) => {
      const text = formatCredential(attributes);
      // Either refused, or read back exactly: a value can never smuggle in another attribute.
      if (text !== undefined) assert.deepEqual(parseCredential(text), attributes);
    }),
    { numRuns: 2000 },
  );
});

test('what newer gits send is tolerated; CRLF, url= and multi-valued keys are read as git does', () => {
  const attributes = parseCredential(
    'capability[]=authtype\r\ncapability[]=state\r\nprotocol=https\r\nhost=Git.Example.Test\r\nwwwauth[]=Basic realm="x"\r\nwwwauth[]=Bearer realm="y", scope="a b"\r\nstate[]=foo:bar\r\nfuture_attribute=whatever\r\n\r\nignored=after the blank line\r\n',
  );
  assert.ok(attributes);
  assert.deepEqual(credentialRequest(attributes), { protocol: 'https', host: 'git.example.test' });
  assert.deepEqual(allValues(attributes, 'capability[]'), ['authtype', 'state']);
  assert.deepEqual(
    allValues(
      [
        ['wwwauth[]', 'a'],
        ['wwwauth[]', ''],
        ['wwwauth[]', 'b'],
      ],
      'wwwauth[]',
    ),
    ['b'],
    'an empty value clears the list',
  );
  assert.deepEqual(credentialRequest(parseCredential('url=https://alice@git.example.test:8443/org/repo.git\n')!), {
    protocol: 'https',
    host: 'git.example.test:8443',
    path: 'org/repo.git',
    username: 'alice',
  });
});

test('hosts map to providers: https anywhere, http only on loopback, default ports optional', () => {
  const providers = [
    { name: 'acme', git_hosts: ['git.example.test', '127.0.0.1:8080'] },
    { name: 'local', git_hosts: ['localhost'] },
    { name: 'second', git_hosts: ['git.example.test'] },
  ];
  assert.equal(providerForHost(providers, 'https', 'git.example.test')?.name, 'acme', 'the first provider wins');
  assert.equal(providerForHost(providers, 'https', 'git.example.test:443')?.name, 'acme');
  assert.equal(providerForHost(providers, 'https', 'git.example.test:8443'), undefined);
  assert.equal(providerForHost(providers, 'http', 'git.example.test'), undefined, 'plain http off loopback');
  assert.equal(providerForHost(providers, 'http', '127.0.0.1:8080')?.name, 'acme');
  assert.equal(providerForHost(providers, 'http', 'localhost:80')?.name, 'local');
  assert.equal(providerForHost(providers, 'ssh', 'git.example.test'), undefined);
  assert.equal(protocolAllowed('http', '[::1]:3000'), true);
  assert.equal(protocolAllowed('http', '127.0.0.1.example.test'), false);
  assert.equal(hostMatches('Git.Example.Test', 'git.example.test', 'https'), true);
});

test('get answers username and password (a pass-through token has no expiry); store and erase answer nothing', async () => {
  const env = { ...ENV, VAULT_ACME_ACCESS_TOKEN: 'pass-through-token', VAULT_LAB_ACCESS_TOKEN: 'lab-token' };
  const request =
    'capability[]=authtype\nprotocol=https\nhost=git.example.test\nwwwauth[]=Basic realm="git"\nsomething_new=1\n\n';
  const answer = (username: string, password: string) => `username=${username}\npassword=${password}\n`;
  const stored = 'protocol=https\nhost=git.example.test\nusername=oauth2\npassword=x\n';
  const exchanges: Array<[operation: string, input: string, stdout: string]> = [
    ['get', request, answer('oauth2', 'pass-through-token')],
    ['get', 'protocol=https\nhost=lab.example.test\n', answer('x-token', 'lab-token')],
    ['get', 'protocol=http\nhost=127.0.0.1:8080\n', answer('oauth2', 'pass-through-token')],
    ['get', 'protocol=http\nhost=git.example.test\n', ''],
    ['get', 'protocol=https\nhost=unknown.example.test\n', ''],
    ['store', stored, ''],
    ['erase', stored, ''],
    ['future-operation', request, ''],
  ];
  for (const [operation, input, stdout] of exchanges) {
    assert.deepEqual(await helper(operation, input, env), { code: 0, stdout, stderr: '' }, `${operation} ${input}`);
  }
  // A token with a line break would inject attributes into git's input: refused.
  const injected = await helper('get', request, { ...env, VAULT_ACME_ACCESS_TOKEN: 'x\npassword=evil' });
  assert.equal(injected.stdout, '');
  assert.notEqual(injected.code, 0);
});

test('without a login and GIT_TERMINAL_PROMPT=0, get prints a hint and no answer', async () => {
  await assert.rejects(
    helper('get', 'protocol=https\nhost=git.example.test\n'),
    /not logged in to acme — run `vault login acme`/,
  );
});

test("the helper command survives git's shell, whatever the paths contain", async () => {
  const odd = join(dir, `it's a "dir" $(x) \`y\``);
  mkdirSync(odd);
  const script = join(odd, 'args.js');
  writeFileSync(script, 'process.stdout.write(JSON.stringify(process.argv.slice(2)))');
  const value = helperCommand(process.execPath, script);
  assert.ok(value.startsWith('!'));
  // git runs a `!` helper as `sh -c '<value without !> <operation>'`.
  const result = await run('sh', ['-c', `${value.slice(1)} get`], { env: { PATH: process.env.PATH } });
  assert.equal(result.stdout, '["git-credential","get"]', result.stderr);
});
