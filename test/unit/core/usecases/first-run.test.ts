// The first-run walk-through in-process: a fake terminal's answers, the memory store and an
// in-memory config.toml. What is asked for each preset, what is saved, and what a non-terminal is told.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { Config } from '../../../../src/core/config/providers.js';
import { clientSecretKey } from '../../../../src/core/credentials.js';
import { UsageError } from '../../../../src/core/errors.js';
import { buildProviderConfig } from '../../../../src/core/provider-edit.js';
import { firstRun, hasGuide, type FirstRunDeps } from '../../../../src/core/usecases/first-run.js';
import { MemoryStore, fakeIo } from '../../../support/fakes.js';

/** A terminal whose user gives `answers` in order; `asked` lists the questions (secret ones marked). */
function terminal(answers: string[], tty = true) {
  const io = fakeIo({ stdinIsTTY: tty, stderrIsTTY: tty });
  const store = new MemoryStore();
  const config: Config = { providers: {} };
  const asked: string[] = [];
  const answer = async (question: string) => {
    asked.push(question);
    return answers.shift() ?? '';
  };
  const deps: FirstRunDeps = {
    io: io.io,
    store: () => store,
    debug: () => {},
    configFile: '/home/u/.config/vault/config.toml',
    config: () => config,
    updateConfig: async (change) => change(config),
    prompt: () => ({ line: answer, secret: (q) => answer(`(hidden) ${q}`) }),
  };
  return { deps, store, config, asked, stderr: io.stderr };
}

test('only the presets with a guide get a walk-through', () => {
  assert.equal(hasGuide('google'), true);
  assert.equal(hasGuide('gitlab'), true);
  assert.equal(hasGuide('acme'), false);
  assert.equal(hasGuide('toString'), false);
});

test('google: the steps, the client id, the secret without echo; the provider saved as provider add would', async () => {
  const t = terminal(['123.apps.googleusercontent.com', 'gcs-secret']);
  const provider = await firstRun(t.deps, 'google', {});
  assert.deepEqual(t.asked, ['Client ID: ', '(hidden) Client secret (not shown): ']);
  assert.match(t.stderr(), /^No provider "google" is configured yet\. vault needs a Google OAuth client/);
  assert.match(t.stderr(), / {2}4\. Copy the client ID and the client secret it shows\.\n/);
  assert.match(t.stderr(), /Added provider google in \/home\/u\/\.config\/vault\/config\.toml\.\n\n$/);
  assert.doesNotMatch(t.stderr(), /gcs-secret/);
  assert.equal(provider.name, 'google');
  assert.equal(provider.client_id, '123.apps.googleusercontent.com');
  assert.deepEqual(
    t.config.providers.google,
    buildProviderConfig('google', { preset: 'google', clientId: '123.apps.googleusercontent.com' }),
  );
  assert.deepEqual(JSON.parse((await t.store.get(clientSecretKey('google')))!), { v: 1, client_secret: 'gcs-secret' });
});

test('github with --device may skip the secret; gitlab (PKCE only) is not asked for one', async () => {
  const github = terminal(['Iv1.abc', '']);
  await firstRun(github.deps, 'github', { device: true });
  assert.deepEqual(github.asked, [
    'Client ID: ',
    '(hidden) Client secret (not shown; Enter to skip, --device needs none): ',
  ]);
  assert.equal(await github.store.get(clientSecretKey('github')), null);
  assert.equal(github.config.providers.github?.client_id, 'Iv1.abc');

  const gitlab = terminal(['gl-app-id']);
  await firstRun(gitlab.deps, 'gitlab', {});
  assert.deepEqual(gitlab.asked, ['Client ID: ']);
  assert.deepEqual(await gitlab.store.keys(''), []);
});

test('three empty answers to a required question end the walk-through with nothing saved', async () => {
  const t = terminal(['123.apps.googleusercontent.com', '', '', '']);
  await assert.rejects(firstRun(t.deps, 'google', {}), (error: Error) => {
    assert.ok(error instanceof UsageError);
    assert.equal(error.message, 'no client secret given');
    return true;
  });
  assert.deepEqual(t.config.providers, {});
  assert.deepEqual(await t.store.keys(''), []);
});

test('without a terminal nothing is asked: exit 2 with the provider add command to run', async () => {
  const t = terminal([], false);
  await assert.rejects(firstRun(t.deps, 'github', {}), (error: Error) => {
    assert.ok(error instanceof UsageError);
    assert.match(error.message, /^provider "github" is not configured yet\. Create a GitHub OAuth app/);
    assert.match(
      error.message,
      /\n\n {2}vault provider add github --preset github --client-id <ID> --client-secret-stdin\n$/,
    );
    return true;
  });
  assert.deepEqual(t.asked, []);
  assert.deepEqual(t.config.providers, {});
});
