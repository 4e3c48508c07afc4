// `vault login <preset>` before the provider is configured: a walk-through on a terminal (driven
// here through a real pseudo-terminal with util-linux `script`), the add command anywhere else.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parse } from 'smol-toml';

import { runVault, sandbox, type Sandbox } from '../../support/cli.js';
import { fileStoreEntries, onTerminal } from '../../support/login.js';

const sandboxes: Sandbox[] = [];
after(() => {
  for (const sb of sandboxes) sb.cleanup();
});

function box(): Sandbox {
  const sb = sandbox({ VAULT_STORE: 'file' });
  sandboxes.push(sb);
  return sb;
}

test('without a terminal: exit 2 with the exact provider add command, nothing written', async () => {
  const sb = box();
  const expected: Record<string, string> = {
    google: 'vault provider add google --preset google --client-id <ID> --client-secret-stdin',
    github: 'vault provider add github --preset github --client-id <ID> --client-secret-stdin',
    gitlab: 'vault provider add gitlab --preset gitlab --client-id <ID>',
  };
  for (const [name, command] of Object.entries(expected)) {
    const result = await runVault(['login', name], { env: sb.env });
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, new RegExp(`^error: provider "${name}" is not configured yet\\. Create `));
    assert.ok(result.stderr.includes(`\n\n  ${command}\n`), result.stderr);
  }
  assert.throws(() => readFileSync(join(sb.env.VAULT_CONFIG_DIR!, 'config.toml')), { code: 'ENOENT' });
  assert.deepEqual(fileStoreEntries(sb), {});
});

test('names that are not presets keep the plain unknown-provider error', async () => {
  const sb = box();
  const acme = await runVault(['login', 'acme'], { env: sb.env });
  assert.equal(acme.code, 2);
  assert.match(
    acme.stderr,
    /error: unknown provider "acme" \(not in .*config\.toml\): add it with `vault provider add acme --issuer URL --client-id ID`/,
  );
  const microsoft = await runVault(['login', 'microsoft'], { env: sb.env });
  assert.equal(microsoft.code, 2);
  assert.match(microsoft.stderr, /add it with `vault provider add microsoft --preset microsoft --client-id ID`/);
});

test('on a terminal: the walk-through, the client id, the secret without echo, then the login', async () => {
  const sb = box();
  const clientId = '123-abc.apps.googleusercontent.com';
  const secret = 'GOCSPX-typed-not-shown';
  const term = onTerminal(['login', 'google', '--no-browser'], { ...sb.env, TERM: 'dumb' });

  await term.waitFor('Client ID: ');
  const guide = term.screen();
  assert.match(
    guide,
    /No provider "google" is configured yet\. vault needs a Google OAuth client of type "Desktop app":/,
  );
  assert.match(guide, /1\. Open https:\/\/console\.cloud\.google\.com\/apis\/credentials /);
  assert.match(guide, /"Create credentials" → "OAuth client ID", choose the application type "Desktop app"/);
  term.type(`${clientId}\n`);
  await term.waitFor('Client secret (not shown): ');
  // Typed as on a keyboard: a slip, a backspace, and Enter (a carriage return in raw mode).
  term.type(`${secret}x\x7f\r`);
  await term.waitFor('Waiting for the browser… Ctrl-C to cancel');
  term.type('\x03');
  assert.equal(await term.exited, 130);

  const screen = term.screen();
  assert.ok(screen.includes(`Client ID: ${clientId}\n`), 'the client id is echoed');
  assert.ok(!screen.includes(secret), 'the secret is not echoed');
  assert.match(screen, /Added provider google in .*config\.toml\./);
  const [, url] = /Open this URL in a browser to log in to google:\n\n {2}(\S+)\n/.exec(screen) ?? [];
  assert.ok(url, screen);
  assert.equal(new URL(url).searchParams.get('client_id'), clientId);
  assert.match(screen, /error: login cancelled/);

  // Saved as `provider add google --preset google` would, with the secret in the store only.
  const config = parse(readFileSync(join(sb.env.VAULT_CONFIG_DIR!, 'config.toml'), 'utf8')) as {
    providers: Record<string, Record<string, unknown>>;
  };
  assert.equal(config.providers.google?.preset, 'google');
  assert.equal(config.providers.google?.client_id, clientId);
  assert.equal(config.providers.google?.authorization_endpoint, 'https://accounts.google.com/o/oauth2/v2/auth');
  assert.ok(!JSON.stringify(config).includes(secret));
  assert.deepEqual(JSON.parse(fileStoreEntries(sb)['cs:google']!), { v: 1, client_secret: secret });
});

test('on a terminal: Ctrl-C at the secret prompt leaves nothing behind (exit 130)', async () => {
  const sb = box();
  const term = onTerminal(['login', 'google', '--no-browser'], { ...sb.env, TERM: 'dumb' });
  await term.waitFor('Client ID: ');
  term.type('123-abc.apps.googleusercontent.com\n');
  await term.waitFor('Client secret (not shown): ');
  term.type('GOCSPX-half\x03');
  assert.equal(await term.exited, 130);
  assert.match(term.screen(), /error: cancelled/);
  assert.throws(() => readFileSync(join(sb.env.VAULT_CONFIG_DIR!, 'config.toml')), { code: 'ENOENT' });
  assert.deepEqual(fileStoreEntries(sb), {});
});
