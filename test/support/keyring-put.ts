// Child process for keychain-cli.test.ts: writes one entry through KeyringStore, on the session bus
// given in the environment (a nested throwaway keyring), as `vault login` would have.
// Usage: node --import tsx keyring-put.ts <service> <key> <value>
import { KeyringStore } from '../../src/infra/stores/keyring-store.js';

const [service, key, value] = process.argv.slice(2);
if (!service || !key || value === undefined) throw new Error('usage: keyring-put.ts <service> <key> <value>');
await new KeyringStore(service).set(key, value);
