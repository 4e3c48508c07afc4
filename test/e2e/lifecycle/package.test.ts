// The package as users install it: `npm pack` from a clean clone (no dist/) builds in prepack and
// ships what the bins need; `npm install -g --prefix` puts `vault` on a PATH, and that copy
// answers --version and a cached `vault token`.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';

import { accessKey } from '../../../src/core/credentials.js';
import { FileStore } from '../../../src/infra/stores/file-store.js';
import { ROOT, runCommand, runVault, sandbox } from '../../support/cli.js';

const MINUTES = 60_000;

test(
  'npm pack from a clean clone ships dist/; the installed `vault` runs --version and a cached token',
  { timeout: 15 * MINUTES },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vault-pack-'));
    const sb = sandbox({ VAULT_STORE: 'file' });
    try {
      // A clean clone: the files git would check out (tracked, and new ones not ignored), no dist/.
      const clone = join(dir, 'clone');
      const listed = await runCommand('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
        env: process.env,
        cwd: ROOT,
      });
      assert.equal(listed.code, 0, listed.stderr);
      for (const file of listed.stdout.split('\0').filter(Boolean)) {
        mkdirSync(dirname(join(clone, file)), { recursive: true });
        try {
          cpSync(join(ROOT, file), join(clone, file));
        } catch (error) {
          // A file deleted in the work tree but not yet in git's index is not part of the clone.
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        }
      }
      assert.ok(!readdirSync(clone).includes('dist'));
      symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'));

      // npm itself runs with the developer's npm settings and cache; only vault gets the sandbox.
      const pack = await runCommand('npm', ['pack', '--pack-destination', dir, '--json'], {
        env: process.env,
        cwd: clone,
        timeoutMs: 10 * MINUTES,
      });
      assert.equal(pack.code, 0, pack.stderr);
      const [info] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as {
        name: string;
        filename: string;
        files: { path: string; mode: number }[];
      }[];
      assert.equal(info!.name, 'token-vault');
      const shipped = info!.files.map((f) => f.path);
      for (const needed of [
        'bin/vault.js',
        'bin/package.json',
        'dist/main.js',
        'dist/cached-token.cjs',
        'dist/cached-calls.cjs',
      ])
        assert.ok(shipped.includes(needed), `${needed} is in the package`);
      // What a release publishes is this list (`npm pack --dry-run --json` prints the same): bin/ and
      // dist/ plus the three files npm always adds; no sources, tests, scripts, docs/ (contributors
      // read it in the repository) or local config.
      const stray = shipped.filter(
        (path) => !/^(bin|dist)\//.test(path) && !['README.md', 'LICENSE', 'package.json'].includes(path),
      );
      assert.deepEqual(stray, [], 'only bin/, dist/, README.md, LICENSE and package.json are packed');
      assert.ok(shipped.includes('LICENSE') && shipped.includes('README.md'));
      // Both bins run as commands: executable in the tarball (npm links them as they are) and a
      // node shebang as their first line.
      const manifest = JSON.parse(readFileSync(join(clone, 'package.json'), 'utf8')) as { bin: Record<string, string> };
      assert.deepEqual(Object.keys(manifest.bin).sort(), ['docker-credential-vault', 'vault']);
      for (const file of Object.values(manifest.bin)) {
        const entry = info!.files.find((f) => f.path === file.replace(/^\.\//, ''));
        assert.ok(entry, `${file} is packed`);
        assert.equal(entry.mode & 0o111, 0o111, `${file} is executable in the package`);
        assert.equal(readFileSync(join(clone, file), 'utf8').split('\n')[0], '#!/usr/bin/env node', `${file} shebang`);
      }

      const prefix = join(dir, 'prefix');
      const install = await runCommand(
        'npm',
        ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(dir, info!.filename)],
        {
          env: process.env,
          timeoutMs: 10 * MINUTES,
        },
      );
      assert.equal(install.code, 0, install.stderr);
      const bin = join(prefix, 'bin', 'vault');

      const version = await runCommand(bin, ['--version'], { env: sb.env });
      assert.equal(version.code, 0, version.stderr);
      assert.match(version.stdout, /^\d+\.\d+\.\d+/);

      const added = await runVault(
        ['provider', 'add', 'acme', '--issuer', 'http://127.0.0.1:9', '--client-id', 'x', '--offline'],
        { env: sb.env, bin },
      );
      assert.equal(added.code, 0, added.stderr);
      const store = new FileStore(join(sb.env.VAULT_DATA_DIR!, 'credentials.json'));
      const now = Date.now();
      await store.set(
        accessKey('acme', 'default'),
        JSON.stringify({
          v: 1,
          access_token: 'cached-access-token',
          token_type: 'Bearer',
          expires_at: now + 3_600_000,
          issued_at: now,
          scope: 'openid',
        }),
      );
      const token = await runCommand(bin, ['token', 'acme'], { env: sb.env });
      assert.equal(token.code, 0, token.stderr);
      assert.equal(token.stdout, 'cached-access-token\n');
    } finally {
      sb.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
