// `vault exec --token-file VAR`: a private file holding a token that is rewritten before it
// expires, read by the installed gcloud (CLOUDSDK_AUTH_ACCESS_TOKEN_FILE), and gone afterwards.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { after, before, test } from 'node:test';

import { groupsKilledAfterEach, runVault, VAULT_BIN, within, type Sandbox } from '../../support/cli.js';
import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { loggedIn } from '../../support/vault-sandbox.js';
import { gcloudEnv } from '../../support/integrations.js';

let server: TestServer;
let box: Sandbox;

before(async () => {
  // Short-lived tokens, so a test outlives one: the file is rewritten when half of it is left.
  server = await startTestServer({ accessTokenTtl: 8 });
  box = await loggedIn(server, { provider: { scopes: [] } });
});
// Each started vault runs in its own process group with its command.
const groups = groupsKilledAfterEach();
after(async () => {
  box?.cleanup();
  await server?.close();
});

test('gcloud reads a fresh token from the file after the first one expired; the file is private and gone afterwards', async () => {
  // The job: where the file is and how it is protected, gcloud's token, then (once the file was
  // rewritten and the first token has expired) gcloud's token again.
  const script = [
    'f="$CLOUDSDK_AUTH_ACCESS_TOKEN_FILE"',
    'printf "%s\\n" "$f" "${ACME_ACCESS_TOKEN-unset}"',
    'stat -c %a "$f" "$(dirname "$f")"',
    'first=$(cat "$f")',
    'gcloud auth print-access-token',
    'while [ "$(cat "$f")" = "$first" ]; do sleep 0.2; done',
    'sleep 5',
    'gcloud auth print-access-token',
  ].join('\n');
  const result = await runVault(
    ['exec', 'acme', '--token-file', 'CLOUDSDK_AUTH_ACCESS_TOKEN_FILE', '--', 'sh', '-c', script],
    { env: gcloudEnv(box), timeoutMs: 120_000 },
  );
  assert.equal(result.code, 0, result.stderr);
  const [path, snapshot, fileMode, dirMode, firstToken, secondToken] = result.stdout.trim().split('\n');
  assert.equal(snapshot, 'unset', 'no snapshot of the token under the env names would shadow the file');
  assert.equal(fileMode, '600');
  assert.equal(dirMode, '700');
  assert.ok(firstToken && secondToken && firstToken !== secondToken, 'gcloud got the same token twice');
  const issued = server.issuedTokens();
  assert.ok(
    issued.includes(firstToken) && issued.includes(secondToken),
    'gcloud printed tokens the server did not issue',
  );
  assert.equal(
    (await server.introspect(firstToken)).active,
    false,
    'the first token should have expired before the second gcloud run',
  );
  assert.ok(!existsSync(path!) && !existsSync(dirname(path!)), 'the token file or its directory outlived the command');
  assert.ok(!result.stderr.includes(firstToken) && !result.stderr.includes(secondToken));
});

/** Starts `vault exec acme --token-file T -- sh -c script`; resolves with the file's path once the child printed it. */
async function startWithFile(script: string) {
  const child = spawn(
    process.execPath,
    [VAULT_BIN, 'exec', 'acme', '--token-file', 'T', '--', 'sh', '-c', `echo "$T"; ${script}`],
    {
      env: box.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  groups.add(child);
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const path = await within(
    60_000,
    'vault exec to print the token file path',
    new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      child.once('exit', () => reject(new Error('exited before printing the path')));
    }),
  );
  return { child, exited: within(60_000, 'vault exec to end', exited), path };
}

test('vault ending on SIGTERM removes the file after its command', async () => {
  const job = await startWithFile('exec sleep 30');
  assert.ok(existsSync(job.path));
  job.child.kill('SIGTERM');
  const [code] = await job.exited;
  assert.equal(code, 128 + 15);
  assert.ok(!existsSync(dirname(job.path)), 'the token directory outlived vault');
});

test('a command killed by a signal still has its file removed', async () => {
  const job = await startWithFile('kill -KILL $$');
  const [code] = await job.exited;
  assert.equal(code, 128 + 9);
  assert.ok(!existsSync(dirname(job.path)), 'the token directory outlived the command');
});

test('a bad variable name is exit 2 before anything is written', async () => {
  const result = await runVault(['exec', 'acme', '--token-file', '1BAD', '--', 'true'], { env: box.env });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^error: invalid environment variable name "1BAD"/);
});
