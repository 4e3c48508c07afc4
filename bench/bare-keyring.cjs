// The floor for vault's keychain hot path: load @napi-rs/keyring (through require(), as vault
// does) and read the same Secret Service entry vault's cached access token lives in.
'use strict';
const { Entry } = require('@napi-rs/keyring');

const entry = new Entry(process.env.VAULT_KEYRING_SERVICE, 'at:acme:default:*', { linux: { store: 'secret-service' } });
const secret = entry.getSecret();
require('node:fs').writeSync(1, secret ? 'found\n' : 'missing\n');
