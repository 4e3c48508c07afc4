// Which provider a command acts on: the one named, else VAULT_PROVIDER, else the only one
// configured; a typo gets the closest configured name and the list, not advice to create it.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { runVault, sandbox, type Sandbox } from '../../support/cli.js';

const ISSUER = 'http://127.0.0.1:9';

async function add(sb: Sandbox, name: string): Promise<void> {
  const r = await runVault(['provider', 'add', name, '--issuer', ISSUER, '--client-id', 'x', '--offline'], {
    env: sb.env,
  });
  assert.equal(r.code, 0, r.stderr);
}

test('<provider> may be left out with one provider configured or VAULT_PROVIDER set; otherwise exit 2 listing the names', async () => {
  // CI pass-through tokens: every command below answers without a server.
  const sb = sandbox({
    VAULT_STORE: 'file',
    VAULT_ACME_ACCESS_TOKEN: 'acme-token',
    VAULT_BETA_ACCESS_TOKEN: 'beta-token',
  });
  const vault = (args: string[], env: NodeJS.ProcessEnv = {}) => runVault(args, { env: { ...sb.env, ...env } });
  try {
    const none = await vault(['token']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^error: no provider configured.*vault provider add/);

    await add(sb, 'acme');
    const only = await vault(['token']);
    assert.equal(only.code, 0, only.stderr);
    assert.equal(only.stdout, 'acme-token\n');
    const env = await vault(['env']);
    assert.equal(env.stdout, "export ACME_ACCESS_TOKEN='acme-token'\n");

    await add(sb, 'beta');
    const which = await vault(['token']);
    assert.equal(which.code, 2);
    assert.equal(which.stdout, '');
    assert.match(which.stderr, /^error: .*acme, beta.*VAULT_PROVIDER/);
    assert.equal(which.stderr.trimEnd().split('\n').length, 1);

    const chosen = await vault(['token'], { VAULT_PROVIDER: 'beta' });
    assert.equal(chosen.stdout, 'beta-token\n');
    const exec = await vault(['exec', '--', 'sh', '-c', 'printf %s "$BETA_ACCESS_TOKEN"'], { VAULT_PROVIDER: 'beta' });
    assert.equal(exec.code, 0, exec.stderr);
    assert.equal(exec.stdout, 'beta-token');
    const named = await vault(['token', 'acme'], { VAULT_PROVIDER: 'beta' });
    assert.equal(named.stdout, 'acme-token\n', 'a name on the command line wins');
  } finally {
    sb.cleanup();
  }
});

test('an unknown name is exit 2 with the closest configured name and the list, not advice to create it', async () => {
  const sb = sandbox({ VAULT_STORE: 'file' });
  try {
    await add(sb, 'acme');
    await add(sb, 'github-corp');
    for (const args of [
      ['token', 'acem'],
      ['login', 'acm'],
      ['exec', 'acmee', '--', 'true'],
      ['status', 'acmr'],
      ['provider', 'show', 'amce'],
    ]) {
      const r = await runVault(args, { env: sb.env });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.match(
        r.stderr,
        /^error: unknown provider "[a-z]+": did you mean acme\? \(configured: acme, github-corp\)\n$/,
        args.join(' '),
      );
    }
    const far = await runVault(['token', 'zzz'], { env: sb.env });
    assert.equal(far.code, 2);
    assert.match(far.stderr, /unknown provider "zzz".*configured: acme, github-corp/);
    assert.doesNotMatch(far.stderr, /did you mean/);
  } finally {
    sb.cleanup();
  }
});
