// Secret scan: an end-to-end sequence with --debug and VAULT_DEBUG=1, and then a search of every
// stderr, every file the CLI wrote outside the store, and the browser's argv for any token, code
// or secret the server issued or the client holds.
import assert from 'node:assert/strict';
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, test } from 'node:test';

import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { sandbox, type RunResult, type Sandbox, vault } from '../../support/cli.js';
import { FETCH_BROWSER } from '../../support/fetch-browser.js';
import { assertNoSecret, confidentialProvider, fileEntries } from '../../support/lifecycle.js';
import { providerAddArgs } from '../../support/vault-sandbox.js';

let server: TestServer;
let sb: Sandbox;
let argvLog: string;
const stderrs: { args: string[]; result: RunResult }[] = [];

before(async () => {
  server = await startTestServer({ accessTokenTtl: 30 });
  sb = sandbox({ VAULT_STORE: 'file' });
  // A browser that records the argv it was given, then completes the login.
  argvLog = join(sb.dir, 'browser-argv.log');
  const wrapper = join(sb.dir, 'browser.sh');
  writeFileSync(
    wrapper,
    `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a" >> '${argvLog}'; done\nexec ${FETCH_BROWSER} "$@"\n`,
  );
  chmodSync(wrapper, 0o700);
  sb.env.VAULT_BROWSER = `'${wrapper}'`;
});
after(async () => {
  await server.close();
  sb.cleanup();
});

async function step(args: string[], expected: number, input?: string, flag?: boolean): Promise<RunResult> {
  // Half the steps ask for debug output with the flag, half with the variable, unless told.
  const useFlag = flag ?? stderrs.length % 2 === 0;
  const result = await vault(sb, useFlag ? ['--debug', ...args] : args, useFlag ? {} : { VAULT_DEBUG: '1' }, input);
  stderrs.push({ args, result });
  assert.equal(result.code, expected, `vault ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
}

test("no secret in stderr, debug output, files outside the store, or the browser's argv", async () => {
  const secret = server.confidentialClientSecret;
  await step(
    providerAddArgs(server, confidentialProvider(server, { extra: ['--git-host', 'git.example.test'] })),
    0,
    secret,
  );
  await step(['login', 'acme'], 0);
  await step(['token', 'acme'], 0);
  // The commands that hand the token to another program, each with the flag and the variable
  // (30-second tokens: each of them refreshes first). exec's child shares vault's stderr and
  // writes nothing, so whatever reaches it comes from vault.
  for (const flag of [true, false]) {
    await step(['exec', 'acme', '--', 'sh', '-c', 'test -n "$ACME_ACCESS_TOKEN"'], 0, undefined, flag);
    await step(['env', 'acme'], 0, undefined, flag);
    const git = await step(['git-credential', 'get'], 0, 'protocol=https\nhost=git.example.test\n\n', flag);
    assert.match(git.stdout, /^password=\S{16,}$/m, 'git-credential answered a password');
    await step(['kube-credential', 'acme'], 0, undefined, flag);
  }
  await step(['token', 'acme', '--force-refresh', '--json'], 0);
  await step(['token', 'acme', '--scope', 'openid', '--header'], 0);
  await step(['status'], 0);
  await step(['status', 'acme', '--json'], 0);
  // A refresh the server refuses: the grant was revoked behind vault's back.
  const refreshToken = fileEntries(sb)['rt:acme:default']!.refresh_token as string;
  await server.revokeGrantOf(refreshToken);
  const refused = await step(['token', 'acme', '--force-refresh'], 3);
  assert.match(refused.stderr, /invalid_grant/);
  await step(['logout', 'acme'], 0);
  await step(['login', 'acme', '-a', 'work'], 0);
  await step(['logout', 'acme', '-a', 'work', '--no-revoke'], 0);

  const secrets = [...server.issuedTokens(), secret];
  assert.ok(
    server.counts.authorizationCode === 2 && server.counts.refresh >= 2,
    'the sequence exercised logins and refreshes',
  );
  const debugLines = stderrs.map((s) => s.result.stderr).join('\n');
  assert.match(debugLines, /\[debug \+\d+ms\] HTTP POST \S+\/token → 200/, 'debug output was on');
  assert.match(debugLines, /store: deleted rt:acme:default/);
  assert.match(debugLines, /lock acme\.default: acquired/);
  for (const { args, result } of stderrs) {
    assertNoSecret(result.stderr, secrets, `stderr of vault ${args.join(' ')}`);
    assert.doesNotMatch(result.stderr, /code_verifier=(?!\*)/, `code_verifier in stderr of vault ${args.join(' ')}`);
    if (args[0] === 'status') assertNoSecret(result.stdout, secrets, `stdout of vault ${args.join(' ')}`);
  }

  const store = join(sb.env.VAULT_DATA_DIR!, 'credentials.json');
  const written = filesUnder(sb.dir).filter((f) => f !== store && f !== argvLog);
  assert.ok(
    written.some((f) => f.endsWith('config.toml')),
    `files: ${written.map((f) => relative(sb.dir, f)).join(', ')}`,
  );
  for (const file of written) assertNoSecret(readFileSync(file, 'latin1'), secrets, relative(sb.dir, file));

  const urls = readFileSync(argvLog, 'utf8').trim().split('\n');
  assert.equal(urls.length, 2, 'the browser got exactly one argument per login');
  for (const url of urls) {
    // The listener's one-time launch URL, never the authorization URL (state, PKCE challenge) itself.
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/[\w-]{43}$/);
    assertNoSecret(url, secrets, "the browser's argv");
  }
});
