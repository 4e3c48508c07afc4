// Bundles src/ into dist/ with esbuild: one ESM entry plus lazily loaded chunks, so the cached-token
// path loads only what it needs. The native keyring binding stays external (it is a .node file).
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
await build({
  entryPoints: ['src/main.ts'],
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['@napi-rs/keyring'],
  define: { VAULT_VERSION: JSON.stringify(pkg.version) },
  // Bundled CommonJS dependencies (commander, proper-lockfile) call require(): give them one.
  banner: { js: "import { createRequire as __vaultCreateRequire } from 'node:module'; const require = __vaultCreateRequire(import.meta.url);" },
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
  legalComments: 'none',
});
