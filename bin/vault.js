#!/usr/bin/env node
import module from 'node:module';

// Node >= 22.1 caches compiled code on disk: later starts skip parsing the bundle.
module.enableCompileCache?.();
const { main } = await import('../dist/main.js');
await main(process.argv.slice(2));
