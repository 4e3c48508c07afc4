#!/usr/bin/env node
// CommonJS (see bin/package.json): a cached token is answered by dist/cached-token.cjs, one small
// CommonJS bundle, without starting the ESM loader; everything else runs the ESM build.
'use strict';

// Node >= 22.1 caches compiled code on disk: later starts skip parsing the bundles.
if (Number(process.versions.node.split('.')[0]) >= 22) require('node:module').enableCompileCache?.();
const argv = process.argv.slice(2);
new Promise((resolve) => resolve(require('../dist/cached-token.cjs').printCachedToken(argv)))
  .then((done) => done || import('../dist/main.js').then(({ main }) => main(argv)))
  // No stack trace, even when the build is missing or broken: one line, as every other failure.
  .catch((error) => {
    process.stderr.write(`error: unexpected failure: ${String((error && error.message) || error).split('\n')[0]}\n`);
    process.exitCode = 1;
  });
