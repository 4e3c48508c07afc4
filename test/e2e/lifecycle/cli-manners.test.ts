// How the CLI behaves around the edges a newcomer hits first: a closed stdout, --quiet, no stack
// traces, `exec` without `--`, network errors that name the server, and `setup-git --remove`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { VAULT_BIN, runCommand, runVault, sandbox, within, type Sandbox } from '../../support/cli.js';
import { addOfflineProvider, offlineProviderArgs } from '../../support/cli-setup.js';
import { closedPort } from '../../support/vault-sandbox.js';

const STACK = /^\s+at /m;

function vault(sb: Sandbox, args: string[], env: NodeJS.ProcessEnv = {}, input?: string) {
  return runVault(args, { env: { ...sb.env, ...env }, input });
}

test('a closed stdout ends quietly: `vault --help | head -1`, and a reader that is already gone', async () => {
  const sb = sandbox();
  try {
    const head = await runCommand('sh', ['-c', `"${process.execPath}" "${VAULT_BIN}" --help | head -1`], {
      env: sb.env,
    });
    assert.equal(head.stdout, 'Usage: vault [options] [command]\n');
    assert.equal(head.stderr, '');
    for (let i = 0; i < 3; i++) {
      const child = spawn(process.execPath, [VAULT_BIN, '--help'], { env: sb.env, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.destroy();
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const closed = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
      const code = await within(30_000, 'vault --help to end', closed).finally(() => child.kill('SIGKILL'));
      assert.equal(stderr, '', 'nothing on stderr');
      assert.equal(code, 0);
    }
  } finally {
    sb.cleanup();
  }
});

test('--quiet (-q) leaves only errors on stderr, before or after the command', async () => {
  const sb = sandbox({ VAULT_STORE: 'file' });
  try {
    const added = await vault(sb, ['-q', ...offlineProviderArgs()]);
    assert.equal(added.code, 0, added.stderr);
    assert.equal(added.stderr, '');
    const export_ = await vault(sb, ['export', 'acme', '--quiet']);
    assert.equal(export_.code, 3);
    assert.match(export_.stderr, /^error: not logged in to acme/);
    const set = await vault(sb, ['provider', 'set', 'acme', '--client-id', 'y', '-q']);
    assert.equal(set.stderr, '');
    const loud = await vault(sb, ['provider', 'set', 'acme', '--client-id', 'z']);
    assert.match(loud.stderr, /Updated provider acme/, 'without -q the note is there');
  } finally {
    sb.cleanup();
  }
});

test('an unexpected failure is one error: line and exit 1, with the details only under --debug', async () => {
  const sb = sandbox({ VAULT_STORE: 'file' });
  try {
    const huge = 'x'.repeat(100 * 1024);
    const args = offlineProviderArgs('acme', '--client-secret-stdin');
    const r = await vault(sb, args, {}, huge);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: unexpected failure: standard input is larger than \d+ bytes\n$/);
    assert.doesNotMatch(r.stderr, STACK);
    const debug = await vault(sb, ['--debug', ...args], {}, huge);
    assert.match(debug.stderr, STACK, '--debug shows where');
  } finally {
    sb.cleanup();
  }
});

test('exec needs no --: `vault exec acme sh -c … -la` runs the command with its own options', async () => {
  const sb = sandbox({ VAULT_STORE: 'file', VAULT_ACME_ACCESS_TOKEN: 'token-from-ci' });
  try {
    await addOfflineProvider(sb);
    const r = await vault(sb, [
      'exec',
      'acme',
      '--name',
      'TOKEN',
      'sh',
      '-c',
      'printf "%s %s" "$TOKEN" "$1"',
      'sh',
      '-la',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'token-from-ci -la');
    const dashed = await vault(sb, ['exec', 'acme', '--', 'sh', '-c', 'printf %s "$ACME_ACCESS_TOKEN"']);
    assert.equal(dashed.stdout, 'token-from-ci', 'with -- as before');
  } finally {
    sb.cleanup();
  }
});

test('a network error names the host and port it could not reach', async () => {
  const sb = sandbox({ VAULT_STORE: 'file', VAULT_ACME_REFRESH_TOKEN: 'some-refresh-token', VAULT_HTTP_TIMEOUT: '2' });
  try {
    const port = await closedPort();
    const r = await vault(sb, [
      'provider',
      'add',
      'acme',
      '--authorization-endpoint',
      `http://127.0.0.1:${port}/auth`,
      '--token-endpoint',
      `http://127.0.0.1:${port}/token`,
      '--client-id',
      'x',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const token = await vault(sb, ['token', 'acme']);
    assert.equal(token.code, 4, token.stderr);
    assert.match(
      token.stderr,
      new RegExp(`^error: refresh for acme failed: connection refused \\(ECONNREFUSED\\) at 127\\.0\\.0\\.1:${port} `),
    );
  } finally {
    sb.cleanup();
  }
});

test('setup-git --remove removes exactly the entries that run this vault, nothing else', async () => {
  const sb = sandbox({ VAULT_STORE: 'file', GIT_CONFIG_NOSYSTEM: '1' });
  try {
    await addOfflineProvider(sb, 'acme', ['--git-host', 'git.acme.test']);
    await addOfflineProvider(sb, 'lab', ['--git-host', 'lab.test']);
    const gitconfig = join(sb.env.HOME!, '.gitconfig');
    writeFileSync(gitconfig, '[user]\n\tname = Alice\n');
    assert.equal((await vault(sb, ['setup-git'])).code, 0);
    assert.ok(readFileSync(gitconfig, 'utf8').includes(VAULT_BIN), 'setup-git wrote this vault by absolute path');
    // Entries it did not write, added afterwards: another helper, a hand-written one, another vault.
    const key = 'credential.https://git.acme.test.helper';
    for (const other of ['store', '!vault git-credential', "!'/usr/bin/node' '/opt/other/vault.js' git-credential"]) {
      assert.equal((await runCommand('git', ['config', '--global', '--add', key, other], { env: sb.env })).code, 0);
    }

    const one = await vault(sb, ['setup-git', 'lab', '--remove']);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stderr, /Removed: git credential\.https:\/\/lab\.test\.helper/);
    assert.ok(
      readFileSync(gitconfig, 'utf8').includes(`credential "https://git.acme.test"`),
      'acme untouched when lab is named',
    );

    const all = await vault(sb, ['setup-git', '--remove']);
    assert.equal(all.code, 0, all.stderr);
    const after = readFileSync(gitconfig, 'utf8');
    assert.ok(!after.includes(VAULT_BIN), 'no entry runs this vault any more');
    const left = await runCommand('git', ['config', '--global', '--get-all', key], { env: sb.env });
    assert.deepEqual(left.stdout.split('\n').filter(Boolean), [
      'store',
      '!vault git-credential',
      "!'/usr/bin/node' '/opt/other/vault.js' git-credential",
    ]);
    assert.match(after, /name = Alice/);
    const again = await vault(sb, ['setup-git', '--remove']);
    assert.match(again.stderr, /Nothing to remove/);
  } finally {
    sb.cleanup();
  }
});
