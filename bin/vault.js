#!/usr/bin/env node
// CommonJS (see bin/package.json): a cached token is answered by a small CommonJS bundle
// (dist/cached-token.cjs for `vault token`, dist/cached-calls.cjs for the other calls), without
// starting the ESM loader; everything else runs the ESM build.
'use strict';
const {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} = require('node:fs');
const { dirname, isAbsolute, join } = require('node:path');

const argv = process.argv.slice(2);
// `vault token` has a bundle of its own, the smallest: every byte of a bundle is read, checked
// against its code cache and deserialized on every call. Every other call a cached token answers
// (git, docker, kubectl, env, exec) is in the other.
const BUNDLE = join(__dirname, '..', 'dist', argv[0] === 'token' ? 'cached-token.cjs' : 'cached-calls.cjs');

/**
 * `$XDG_CACHE_HOME/vault` (`~/.cache/vault`), or undefined without one (or without user ids, where
 * the ownership checks below mean nothing). Nothing is created here until a cache is written.
 */
function cacheDir() {
  const base = process.env.XDG_CACHE_HOME || (process.env.HOME && join(process.env.HOME, '.cache'));
  return process.getuid && base && isAbsolute(base) ? join(base, 'vault') : undefined;
}

/**
 * The file's contents when it is a regular file of this user that nobody else can write: compiled
 * code read from it runs as vault, so it must be as private as vault's own files.
 */
function readPrivate(file) {
  let fd;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    const st = fstatSync(fd);
    return st.isFile() && st.uid === process.getuid() && (st.mode & 0o022) === 0 ? readFileSync(fd) : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Node 20 has no compile cache, so the bundle is compiled as the CommonJS loader would, with V8's
 * code cache (vm.Script cachedData, as the v8-compile-cache package does): the functions this path
 * runs are then deserialized instead of parsed and compiled on every call. The cache is written
 * once, after a call that answered, so it holds those functions. V8 checks its own version and
 * flags but of the source only its length: cached code of another build of the same size would run
 * in its place. So the cache file holds the source it was compiled from (a 32-bit length, the
 * source, then V8's data) and is used only when that equals the bundle read now, byte for byte. A
 * comparison of the bytes already read costs about 0.1 ms; a hash would need node:crypto, whose
 * loading alone costs several ms on this path. Size and mtime are no identity: a rebuild can keep
 * both.
 */
function loadWithCodeCache(dir) {
  const vm = require('node:vm');
  const name = `${installPrefix()}${process.version}-${process.arch}.v8`;
  const bytes = readFileSync(BUNDLE);
  const saved = readPrivate(join(dir, name));
  const cachedData = saved && builtFrom(saved, bytes) ? saved.subarray(4 + bytes.length) : undefined;
  const script = new vm.Script(
    `(function (exports, require, module, __filename, __dirname) {${bytes.toString('utf8')}\n})`,
    {
      filename: BUNDLE,
      cachedData,
    },
  );
  const module = { exports: {} };
  // This file's require() resolves packages from the same node_modules as the bundle's would.
  script.runInThisContext()(module.exports, require, module, BUNDLE, dirname(BUNDLE));
  if (cachedData && !script.cachedDataRejected) return module.exports;
  return {
    printCachedToken: (argv) =>
      module.exports.printCachedToken(argv).then((done) => {
        if (done === true) {
          const length = Buffer.alloc(4);
          length.writeUInt32LE(bytes.length);
          saveCodeCache(dir, name, Buffer.concat([length, bytes, script.createCachedData()]));
        }
        return done;
      }),
  };
}

/** Whether a saved code cache was compiled from `source`: its length prefix and copy of the source match. */
function builtFrom(saved, source) {
  if (saved.length <= 4 + source.length || saved.readUInt32LE(0) !== source.length) return false;
  return source.equals(saved.subarray(4, 4 + source.length));
}

/** Makes `dir` (0700) if needed; true when it is a directory of this user nobody else can write. */
function privateDir(dir) {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    return st.isDirectory() && st.uid === process.getuid() && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/** `cached-token-<hash of this install's path>-`: installs sharing a cache directory keep apart. */
function installPrefix() {
  let hash = 0x811c9dc5;
  for (let i = 0; i < BUNDLE.length; i++) hash = Math.imul(hash ^ BUNDLE.charCodeAt(i), 0x01000193) >>> 0;
  return `cached-token-${hash.toString(16)}-`;
}

/**
 * Writes the cache atomically (readers see none or all of it) into a 0700 directory of this user
 * that nobody else can write, and drops this install's caches of other builds.
 */
function saveCodeCache(dir, name, data) {
  const tmp = join(dir, `.${name}.${process.pid}.tmp`);
  try {
    if (!privateDir(dir)) return;
    writeFileSync(tmp, data, { mode: 0o600, flag: 'wx' });
    renameSync(tmp, join(dir, name));
    const prefix = installPrefix();
    for (const old of readdirSync(dir)) if (old.startsWith(prefix) && old !== name) unlinkSync(join(dir, old));
  } catch {
    // Only a cache: the next call compiles as usual and tries again.
    try {
      unlinkSync(tmp);
    } catch {
      // Never created, or already renamed.
    }
  }
}

function loadFastPath() {
  const dir = cacheDir();
  if (Number(process.versions.node.split('.')[0]) >= 22) {
    // Node >= 22.1 caches compiled code itself: in our private directory, not its default under
    // the shared /tmp.
    if (dir && privateDir(dir)) require('node:module').enableCompileCache?.(dir);
    return require(BUNDLE);
  }
  return dir ? loadWithCodeCache(dir) : require(BUNDLE);
}

// On a miss the fast path hands over what it read (config.toml, the file store): read once a process.
new Promise((resolve) => resolve(loadFastPath().printCachedToken(argv)))
  .then((done) => done === true || import('../dist/main.js').then(({ main }) => main(argv, done)))
  // No stack trace, even when the build is missing or broken: one line, as every other failure.
  .catch((error) => {
    process.stderr.write(`error: unexpected failure: ${String((error && error.message) || error).split('\n')[0]}\n`);
    process.exitCode = 1;
  });
