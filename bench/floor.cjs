// The floor for vault's file-store hot path: a Node program that reads the same two small files
// (config.toml and credentials.json) and prints the cached access token, and does nothing else.
'use strict';
const { readFileSync, writeSync } = require('node:fs');
const { join } = require('node:path');

readFileSync(join(process.env.VAULT_CONFIG_DIR, 'config.toml'), 'utf8');
const { entries } = JSON.parse(readFileSync(join(process.env.VAULT_DATA_DIR, 'credentials.json'), 'utf8'));
writeSync(1, `${JSON.parse(entries['at:acme:default:*']).access_token}\n`);
