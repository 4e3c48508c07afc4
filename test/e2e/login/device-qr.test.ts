// `vault login --device` on a terminal also shows verification_uri_complete as a QR code, so a
// phone can finish the login; into a pipe, or with --quiet, it does not. The terminal is a real
// pseudo-terminal from util-linux `script`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { renderUnicodeCompact } from 'uqr';

import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { VAULT_BIN, runVault, sandbox, type Sandbox } from '../../support/cli.js';
import { addProvider } from '../../support/vault-sandbox.js';
import { startVault } from '../../support/login.js';

let server: TestServer;
let sb: Sandbox;

before(async () => {
  server = await startTestServer();
  sb = sandbox({ VAULT_STORE: 'file', TERM: 'xterm' });
  await addProvider(sb, server, { scopes: [] });
});
after(async () => {
  sb?.cleanup();
  await server?.close();
});

const QR_BLOCK = /[▀▄█]{10,}/;
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Runs vault in a pseudo-terminal (stdin, stdout and stderr all on it); `onOutput` sees the output so far. */
function inTerminal(
  args: string[],
  onOutput: (output: string) => void,
): Promise<{ code: number | null; output: string }> {
  const command = [process.execPath, VAULT_BIN, ...args].map(quote).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { env: sb.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    output += d.replace(/\r\n/g, '\n');
    onOutput(output);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

test('on a terminal: the complete verification URI as a QR code, and the login completes', async () => {
  let approving: Promise<void> | undefined;
  const { code, output } = await inTerminal(['login', 'acme', '--device'], (out) => {
    const userCode = /enter the code:\n\n {2}(\S+)\n/.exec(out)?.[1];
    if (userCode && /Or scan this with a phone:/.test(out) && !approving) approving = server.approveDevice(userCode);
  });
  await approving;
  assert.equal(code, 0, output);
  const complete = /\nOr open this link, which carries the code:\n\n {2}(\S+)\n/.exec(output)?.[1];
  assert.ok(complete, output);
  assert.ok(
    output.includes(`Or scan this with a phone:\n\n${renderUnicodeCompact(complete, { border: 2 })}\n`),
    `the QR code of ${complete}:\n${output}`,
  );
  assert.match(output, /Logged in to acme as alice/);
});

test('into a pipe, or with --quiet on a terminal: no QR code', async () => {
  const piped = startVault(['login', 'acme', '--device'], sb.env);
  const [, userCode] = await piped.waitForStderr(/enter the code:\n\n {2}(\S+)\n/);
  await server.approveDevice(userCode!);
  const result = await piped.exited;
  assert.equal(result.code, 0, result.stderr);
  assert.doesNotMatch(result.stderr, QR_BLOCK);
  assert.doesNotMatch(result.stderr, /scan/);

  const quiet = await inTerminal(['--quiet', 'login', 'acme', '--device', '--timeout', '2'], () => {});
  assert.equal(quiet.code, 1, quiet.output);
  assert.doesNotMatch(quiet.output, QR_BLOCK);
  assert.match(quiet.output, /^error: login timed out/m);
  const status = await runVault(['status', 'acme'], { env: sb.env });
  assert.equal(status.code, 0, 'the first login is still there');
});
