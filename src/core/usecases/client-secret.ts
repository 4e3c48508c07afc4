import { clientSecretKey, parseRecord } from '../credentials.js';
import type { SecretStore } from '../ports.js';

/** The client secret of a confidential client: from the store, else VAULT_CLIENT_SECRET. */
export async function readClientSecret(
  store: SecretStore,
  env: NodeJS.ProcessEnv,
  provider: string,
): Promise<string | undefined> {
  const raw = await store.get(clientSecretKey(provider));
  if (raw !== null)
    return parseRecord<{ v: 1; client_secret: string }>(raw, store.describe(clientSecretKey(provider)), [
      'client_secret',
    ]).client_secret;
  return env.VAULT_CLIENT_SECRET || undefined;
}
