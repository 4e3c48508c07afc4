// `vault exec`: the token reaches the child through its environment only; exit codes, signals
// and stdin pass through.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, test } from 'node:test';

import { childEnv, exitCodeOf } from '../../../src/core/protocols/exec-env.js';
import {
  groupsKilledAfterEach,
  runVault,
  startVaultUntil,
  VAULT_BIN,
  within,
  type Sandbox,
} from '../../support/cli.js';
import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { addProvider, loggedIn } from '../../support/vault-sandbox.js';
import { assertSameSecret } from '../../support/integrations.js';

let server: TestServer;
let box: Sandbox;
let token: string;

before(async () => {
  server = await startTestServer({ accessTokenTtl: 600 });
  box = await loggedIn(server, { provider: { scopes: [] } });
  const printed = await runVault(['token', 'acme'], { env: box.env });
  assert.equal(printed.code, 0, printed.stderr);
  token = printed.stdout.trim();
});
// Each started vault runs in its own process group with its command.
const groups = groupsKilledAfterEach();
after(async () => {
  box?.cleanup();
  await server?.close();
});

test('the child environment: names set, providers recorded once, the parent untouched', () => {
  const parent = { PATH: '/bin', VAULT_EXEC_PROVIDERS: 'github', KEEP: 'x' };
  const env = childEnv(parent, { provider: 'acme', names: ['A', 'B'], token: 't' });
  assert.deepEqual(env, { PATH: '/bin', VAULT_EXEC_PROVIDERS: 'github,acme', KEEP: 'x', A: 't', B: 't' });
  assert.deepEqual(parent, { PATH: '/bin', VAULT_EXEC_PROVIDERS: 'github', KEEP: 'x' });
  assert.equal(childEnv(env, { provider: 'acme', names: ['A'], token: 'u' }).VAULT_EXEC_PROVIDERS, 'github,acme');
  const ci = childEnv(
    { PATH: '/bin', VAULT_ACME_REFRESH_TOKEN: 'r', VAULT_CLIENT_SECRET: 's', VAULT_STORE: 'file' },
    { provider: 'acme', names: ['A'], token: 't' },
  );
  assert.deepEqual(
    ci,
    { PATH: '/bin', VAULT_STORE: 'file', A: 't', VAULT_EXEC_PROVIDERS: 'acme' },
    'no refresh token or client secret reaches the command',
  );
  assert.equal(exitCodeOf(0, null, { SIGTERM: 15 }), 0);
  assert.equal(exitCodeOf(null, 'SIGTERM', { SIGTERM: 15 }), 143);
});

/**
 * Starts `vault exec acme -- sh -c script` and resolves once the child printed "ready". A session
 * of its own: no controlling terminal, whatever terminal runs the tests.
 */
function startExec(script: string) {
  return startVaultUntil(['exec', 'acme', '--', 'sh', '-c', script], { env: box.env, groups }, (out) =>
    out.includes('ready\n'),
  );
}

test('exit codes pass through', async () => {
  for (const code of [0, 3, 42]) {
    const result = await runVault(['exec', 'acme', '--', 'sh', '-c', `exit ${code}`], { env: box.env });
    assert.equal(result.code, code, result.stderr);
  }
  const missing = await runVault(['exec', 'acme', '--', 'no-such-command-for-vault-tests'], { env: box.env });
  assert.equal(missing.code, 127);
  assert.match(missing.stderr, /command not found/);
});

test('the child gets the token under the env names, and not in any argv', async () => {
  // /proc/$PPID is vault itself: the child's parent.
  const script =
    'printf "%s\\n" "$ACME_ACCESS_TOKEN" "$VAULT_EXEC_PROVIDERS"; tr "\\0" " " < /proc/$$/cmdline; echo; tr "\\0" " " < /proc/$PPID/cmdline';
  const result = await runVault(['exec', 'acme', '--', 'sh', '-c', script], { env: box.env });
  assert.equal(result.code, 0, result.stderr);
  const [fromEnv, providers, childArgv, vaultArgv] = result.stdout.split('\n');
  assertSameSecret(fromEnv, token, '$ACME_ACCESS_TOKEN');
  assert.equal(providers, 'acme');
  assert.match(childArgv!, /^sh -c /);
  assert.match(vaultArgv!, /vault\.js exec acme -- sh -c/);
  assert.ok(!childArgv!.includes(token) && !vaultArgv!.includes(token), 'the token is in an argv');
  assert.ok(!result.stderr.includes(token));

  const named = await runVault(
    [
      'exec',
      'acme',
      '--name',
      'API_TOKEN',
      '--name',
      'OTHER',
      '--',
      'sh',
      '-c',
      'printf "%s %s %s" "$API_TOKEN" "$OTHER" "${ACME_ACCESS_TOKEN-unset}"',
    ],
    { env: box.env },
  );
  assertSameSecret(named.stdout, `${token} ${token} unset`, '$API_TOKEN $OTHER');
});

test('stdin reaches the child', async () => {
  const result = await runVault(['exec', 'acme', '--', 'sh', '-c', 'cat; echo done'], {
    env: box.env,
    input: 'line one\nline two\n',
  });
  assert.equal(result.stdout, 'line one\nline two\ndone\n');
});

for (const [signal, code] of [
  ['SIGTERM', 7],
  ['SIGINT', 5],
  ['SIGHUP', 9],
] as const) {
  test(`${signal} is forwarded; the child's exit code comes back`, async () => {
    // Traps run between commands, so the child waits in short sleeps.
    const exec = await startExec(`trap 'exit ${code}' ${signal.slice(3)}; echo ready; while :; do sleep 0.05; done`);
    exec.child.kill(signal);
    const [exitCode] = await exec.exited;
    assert.equal(exitCode, code, exec.stderr());
  });
}

test('a child killed by a signal makes vault exit 128+N', async () => {
  const killed = await runVault(['exec', 'acme', '--', 'sh', '-c', 'kill -KILL $$'], { env: box.env });
  assert.equal(killed.code, 128 + 9);
  // The forwarded TERM kills a child that does not trap it.
  const exec = await startExec('echo ready; exec sleep 30');
  exec.child.kill('SIGTERM');
  const [exitCode] = await exec.exited;
  assert.equal(exitCode, 128 + 15);
});

test('Ctrl-C in a terminal reaches the child once, not again through vault', async () => {
  // script(1) runs vault on a pseudo-terminal; ^C on its input becomes SIGINT for the
  // terminal's foreground process group, which holds vault and the child. The child counts the
  // interrupts it receives for half a second after the first one.
  const child = `n=0; trap 'n=$((n+1))' INT; echo ready; while [ $n = 0 ]; do sleep 0.05; done; sleep 0.5; exit $n`;
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const command = `exec ${[process.execPath, VAULT_BIN, 'exec', 'acme', '--', 'sh', '-c', child].map(quote).join(' ')}`;
  // Ending script(1) closes the terminal, which hangs up vault and the child.
  const script = spawn('script', ['-qec', command, '/dev/null'], {
    env: box.env,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  groups.add(script);
  let output = '';
  let interrupted = false;
  script.stdout.setEncoding('utf8').on('data', (d: string) => {
    output += d;
    if (interrupted || !output.includes('ready')) return;
    interrupted = true;
    script.stdin.write('\x03');
  });
  script.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  const [exitCode] = await within(60_000, 'script(1) to end after ^C', once(script, 'exit'));
  assert.equal(exitCode, 1, `the child saw ${String(exitCode)} interrupts: ${output}`);
});

/** `vault exec <outer> -- vault exec <inner...>`: one exec inside another. */
function nestedExec(outer: string, inner: string[], env: NodeJS.ProcessEnv = box.env) {
  return runVault(['exec', outer, '--', process.execPath, VAULT_BIN, 'exec', ...inner], { env });
}

test('nesting the same provider is refused unless asked for', async () => {
  const nested = await nestedExec('acme', ['acme', '--', 'true']);
  assert.equal(nested.code, 2);
  assert.match(nested.stderr, /already inside `vault exec acme`.*--allow-nested/);
  const printProviders = ['sh', '-c', 'printf %s "$VAULT_EXEC_PROVIDERS"'];
  const allowed = await nestedExec('acme', ['acme', '--allow-nested', '--', ...printProviders]);
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.equal(allowed.stdout, 'acme');

  // Another provider inside is fine: both tokens are there.
  await addProvider(box, server, { name: 'other', scopes: [] });
  const env = { ...box.env, VAULT_OTHER_ACCESS_TOKEN: 'other-token' };
  const both = await nestedExec(
    'acme',
    ['other', '--', 'sh', '-c', 'printf "%s %s" "$VAULT_EXEC_PROVIDERS" "$OTHER_ACCESS_TOKEN"'],
    env,
  );
  assert.equal(both.code, 0, both.stderr);
  assert.equal(both.stdout, 'acme,other other-token');
});
