// Every read-only call a cached token answers — token (provider named or implied), git-credential
// get, docker-credential get, kube-credential, env in every format, exec — is answered by the
// cached-token bundle alone (a copy of the package with bin/ and the two cached-token bundles only), and
// what it prints is byte for byte what the full CLI prints, for generated tokens, scopes, token
// types and lifetimes. A miss (a stale token) falls through to the full CLI, which gets the
// credential helper's request that the cached-token path already read from stdin.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';

import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { ROOT, cachedTokenPackage, runCommand, runVault, type RunResult } from '../../support/cli.js';
import { expire, loggedIn, type Vault } from '../../support/vault-sandbox.js';
import { accessKey } from '../../../src/core/credentials.js';

let server: TestServer;
let pkg: string;
let full: string;
let v: Vault;
before(async () => {
  server = await startTestServer({ accessTokenTtl: 300 });
  pkg = cachedTokenPackage('vault-fast-calls-');
  // The full CLI alone, never the cached-token path.
  full = join(pkg, 'full.mjs');
  writeFileSync(
    full,
    `import { main } from ${JSON.stringify(join(ROOT, 'dist', 'main.js'))};\nawait main(process.argv.slice(2));\n`,
  );
  v = await loggedIn(server, {
    store: 'file',
    provider: { extra: ['--git-host', 'git.example.test', '--registry-host', 'registry.example.test'] },
  });
});
after(async () => {
  v?.cleanup();
  rmSync(pkg, { recursive: true, force: true });
  await server?.close();
});

interface Call {
  args: string[];
  input?: string;
  env?: NodeJS.ProcessEnv;
  /** The docker-credential-vault bin rather than bin/vault.js on the cached-token side. */
  dockerBin?: boolean;
}

const GIT_REQUEST = 'protocol=https\nhost=git.example.test\n\n';
// The child prints what it was given: its environment (sorted) and its arguments.
const SHOW_ENV =
  'const e = process.env; process.stdout.write(JSON.stringify([Object.keys(e).sort().map((k) => [k, e[k]]), process.argv.slice(1)]))';

function calls(githubEnv: string): Call[] {
  return [
    { args: ['token', 'acme'] },
    { args: ['token'], env: { VAULT_PROVIDER: 'acme' } },
    { args: ['token', 'acme', '--json'] },
    { args: ['token', '--header', 'acme'] },
    { args: ['git-credential', 'get'], input: GIT_REQUEST },
    { args: ['get'], input: 'https://registry.example.test/v2/\n', dockerBin: true },
    { args: ['docker-credential', 'get'], input: 'registry.example.test' },
    { args: ['kube-credential', 'acme'] },
    {
      args: ['kube-credential'],
      env: {
        VAULT_PROVIDER: 'acme',
        KUBERNETES_EXEC_INFO: JSON.stringify({
          apiVersion: 'client.authentication.k8s.io/v1beta1',
          kind: 'ExecCredential',
          spec: { interactive: false },
        }),
      },
    },
    ...['sh', 'fish', 'powershell', 'dotenv', 'json'].map((format) => ({
      args: ['env', 'acme', '--format', format, ...(format === 'json' ? ['--name', 'A', '--name', 'B'] : [])],
    })),
    { args: ['env', 'acme', '--format', 'github-actions'], env: { GITHUB_ENV: githubEnv } },
    { args: ['exec', 'acme', 'node', '-e', SHOW_ENV, 'x y'] },
    { args: ['exec', '--name', 'T', '--', 'node', '-e', SHOW_ENV], env: { VAULT_PROVIDER: 'acme' } },
    { args: ['exec', 'acme', '--', 'node', '-e', 'process.exit(7)'] },
  ];
}

function viaFastPath(call: Call): Promise<RunResult> {
  const bin = join(pkg, 'bin', call.dockerBin ? 'docker-credential-vault.js' : 'vault.js');
  return runVault(call.args, { env: { ...v.env, ...call.env }, input: call.input, bin });
}

function viaFullCli(call: Call): Promise<RunResult> {
  const args = call.dockerBin ? ['docker-credential', ...call.args] : call.args;
  return runCommand(process.execPath, [full, ...args], { env: { ...v.env, ...call.env }, input: call.input });
}

/** `token --json`'s expires_in counts down between the two runs: compared apart, within 3 s. */
function assertSameOutput(call: Call, fast: string, slow: string, what: string): void {
  if (!call.args.includes('--json')) return assert.equal(fast, slow, `${what}: stdout`);
  const { expires_in: a, ...fastRest } = JSON.parse(fast) as { expires_in: number };
  const { expires_in: b, ...slowRest } = JSON.parse(slow) as { expires_in: number };
  assert.deepEqual(fastRest, slowRest, `${what}: stdout`);
  assert.ok(Math.abs(a - b) <= 3, `${what}: expires_in ${a} and ${b}`);
}

// GitHub's delimiter is random per call.
const sameDelimiter = (text: string) => text.replace(/ghadelimiter_[0-9a-f-]+/g, 'ghadelimiter_X');

const token = fc.string({
  unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  minLength: 1,
  maxLength: 60,
});

test('each call answers from the cached-token bundle alone, byte for byte as the full CLI (property)', async () => {
  const githubEnv = join(v.dir, 'github_env');
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        token,
        scopes: fc.subarray(['openid', 'email', 'api:read', 'offline_access']),
        type: fc.constantFrom('Bearer', 'DPoP', 'bearer'),
        ttl: fc.integer({ min: 200, max: 86_400 }),
      }),
      async ({ token, scopes, type, ttl }) => {
        const now = Date.now();
        await v.store().set(
          accessKey('acme', 'default'),
          JSON.stringify({
            v: 1,
            access_token: token,
            token_type: type,
            expires_at: now + ttl * 1000,
            issued_at: now,
            scope: scopes.join(' '),
          }),
        );
        for (const call of calls(githubEnv)) {
          writeFileSync(githubEnv, '');
          const fast = await viaFastPath(call);
          const fastFile = sameDelimiter(readFileSync(githubEnv, 'utf8'));
          writeFileSync(githubEnv, '');
          const slow = await viaFullCli(call);
          const what = `vault ${call.args.join(' ')}`;
          if (slow.code !== 0 && slow.code !== 7) {
            // A token this format cannot carry (dotenv): the full CLI's error, so the cached-token
            // path printed nothing and handed over (to a dist/main.js the copy does not have).
            assert.equal(fast.stdout, '', `${what}: printed before handing over`);
            assert.match(fast.stderr, /dist\/main\.js/, `${what}: did not hand over`);
            continue;
          }
          assert.equal(fast.code, slow.code, `${what}: exit codes (${fast.stderr})`);
          assert.equal(
            fast.code === 7 || fast.code === 0,
            true,
            `${what}: answered by the bundle alone: ${fast.stderr}`,
          );
          assertSameOutput(call, fast.stdout, slow.stdout, what);
          assert.equal(fast.stderr, slow.stderr, `${what}: stderr`);
          assert.equal(fastFile, sameDelimiter(readFileSync(githubEnv, 'utf8')), `${what}: GITHUB_ENV`);
        }
      },
    ),
    { numRuns: 3 },
  );
});

test('a stale token falls through to the full CLI, which gets the request the cached-token path read from stdin', async () => {
  for (const call of [
    { args: ['git-credential', 'get'], input: GIT_REQUEST },
    { args: ['docker-credential', 'get'], input: 'registry.example.test\n' },
  ]) {
    await expire(v);
    const stripped = await viaFastPath(call);
    assert.notEqual(stripped.code, 0, 'the bundle alone cannot refresh');
    assert.equal(stripped.stdout, '');
    await expire(v);
    const counts = { ...server.counts };
    const answered = await runVault(call.args, { env: v.env, input: call.input });
    assert.equal(answered.code, 0, answered.stderr);
    const fresh = (await v.readAccess())!.access_token;
    assert.ok(answered.stdout.includes(fresh), `${call.args.join(' ')} answered ${answered.stdout}`);
    assert.equal(server.counts.refresh - counts.refresh, 1);
  }
});
