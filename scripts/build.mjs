// Bundles src/ into dist/ with esbuild:
// - dist/main.js: the CLI as one ESM entry plus lazily loaded chunks, so each command loads only
//   what it needs;
// - dist/cached-token.cjs and dist/cached-calls.cjs: the cached-token path, of `vault token` alone
//   and of every call a cached token answers, as CommonJS, which bin/vault.js tries first
//   (CommonJS starts faster than the ESM loader).
// The native keyring binding stays external (it is a .node file); the redis client is bundled
// into a chunk that only the redis store loads.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
// Chunk names carry content hashes: without a clean slate, stale chunks pile up in the package.
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });

await build({
  entryPoints: ['src/main.ts'],
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // The redis client's optional peers (tracing, client-side caching) are not used.
  external: ['@napi-rs/keyring', '@opentelemetry/api', '@node-rs/xxhash'],
  define: { VAULT_VERSION: JSON.stringify(pkg.version) },
  // Bundled CommonJS dependencies (commander, proper-lockfile) call require(): give them one.
  banner: {
    js: "import { createRequire as __vaultCreateRequire } from 'node:module'; const require = __vaultCreateRequire(import.meta.url);",
  },
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
  legalComments: 'none',
});

// The cached-token path must never load a lazily imported module: every import() of a package or
// of our own code is cut off (it would reject, and bin/vault.js falls back to dist/main.js). All of
// them resolve to one stub, so a store's module in the registry of stores costs the bundle nothing.
// Node built-ins stay importable (the encrypted file store needs node:crypto, exec
// node:child_process), as a require() when first used: bin/vault.js compiles the bundle as a
// vm.Script, where an import() has no module loader to call.
const offFastPath = {
  name: 'off-fast-path',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) =>
      args.kind !== 'dynamic-import'
        ? undefined
        : args.path.startsWith('node:')
          ? { path: args.path, namespace: 'node-builtin' }
          : { path: 'lazy', namespace: 'off-fast-path' },
    );
    b.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
    b.onLoad({ filter: /.*/, namespace: 'off-fast-path' }, () => ({
      contents: "throw new Error('a lazily imported module is not part of the cached-token path');",
      loader: 'js',
    }));
  },
};
// Our sources reach CommonJS-only code through createRequire(import.meta.url). In this CommonJS
// bundle the bundle's own require() is the same thing, without loading node:module (not loaded
// at start-up) and without building a file URL: the shim below stands in for node:module.
const ownRequire = {
  name: 'own-require',
  setup(b) {
    b.onResolve({ filter: /^node:module$/ }, () => ({ path: 'node:module', namespace: 'own-require' }));
    b.onLoad({ filter: /.*/, namespace: 'own-require' }, () => ({
      contents: 'exports.createRequire = () => require;',
      loader: 'js',
    }));
  },
};
const fast = await build({
  // `token` alone (the call scripts make most, in the smallest bundle), and every call.
  entryPoints: { 'cached-token': 'src/cached-token.ts', 'cached-calls': 'src/fast-path.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['@napi-rs/keyring'],
  // import.meta.url only ever reaches createRequire, which the shim ignores.
  define: { 'import.meta.url': '__filename' },
  plugins: [offFastPath, ownRequire],
  // Half the bytes to read, compare with the code cache and deserialize on every call (115 KB →
  // 61 KB): about 2 ms of each cached-token call. Errors stay one line of our own text, so nothing
  // shown to a user depends on the names minification changes.
  minify: true,
  metafile: true,
  logLevel: 'warning',
  legalComments: 'none',
});
// What the hot path may contain: our code and the TOML parser. Anything else is a regression.
const inputs = Object.keys(fast.metafile.inputs).filter(
  (p) => !p.startsWith('off-fast-path:') && !p.startsWith('own-require:') && !p.startsWith('node-builtin:'),
);
// (node_modules may be a link or a parent's: esbuild then names it by its real path.)
const stray = inputs.filter((p) => !p.startsWith('src/') && !/(^|\/)node_modules\/smol-toml\//.test(p));
if (stray.length) throw new Error(`the cached-token bundles must not bundle ${stray.join(', ')}`);
