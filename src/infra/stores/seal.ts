import { StoreError, UsageError } from '../../core/errors.js';

// scrypt for a passphrase (RFC 7914 §2), as the encrypted file store: N=2^15, r=8, p=1 makes each
// guess cost ~32 MiB and tens of ms. A random 32-byte key needs no stretching and is preferred.
export const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

const FORMAT = 'v1';

/** Seals and opens records with one AES-256-GCM key; `keyId` names the key without revealing it. */
export interface Sealer {
  readonly keyId: string;
  seal(recordKey: string, plain: string): string;
  /** `where` names the entry in errors. */
  open(recordKey: string, sealed: string, where: string): string;
}

/** A 32-byte key given as base64 (`openssl rand -base64 32`), or undefined for a passphrase. */
export function rawKey(value: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]{43}=$/.test(value)) return undefined;
  const key = Buffer.from(value, 'base64');
  return key.length === 32 ? key : undefined;
}

/** VAULT_STORE_KEY, required for a network store: records never leave the machine unsealed. */
export function storeKeySetting(env: NodeJS.ProcessEnv): string {
  const value = env.VAULT_STORE_KEY;
  if (!value) {
    throw new UsageError(
      'VAULT_STORE_KEY is not set: a redis store keeps every record sealed with it (generate one with `openssl rand -base64 32` and give the same key to every machine of the fleet)',
    );
  }
  return value;
}

export async function deriveKey(passphrase: string, salt: Buffer): Promise<Buffer> {
  const { scrypt } = await import('node:crypto');
  return new Promise((resolve, reject) =>
    scrypt(passphrase, salt, 32, SCRYPT, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

/**
 * AES-256-GCM with a fresh 96-bit nonce per record (NIST SP 800-38D §8.2.2: random nonces are
 * safe far beyond the number of writes a login sees). The associated data binds each ciphertext
 * to its key id and record key, so a sealed refresh token copied to another login's key (or
 * sealed under another key) does not open.
 */
export async function sealer(key: Buffer): Promise<Sealer> {
  const { createCipheriv, createDecipheriv, createHmac, randomBytes } = await import('node:crypto');
  const keyId = createHmac('sha256', key).update('vault store key id').digest('hex').slice(0, 16);
  const aad = (recordKey: string) => Buffer.from(`${keyId}\n${recordKey}`, 'utf8');
  return {
    keyId,
    seal(recordKey, plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(aad(recordKey));
      const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return [
        FORMAT,
        keyId,
        iv.toString('base64'),
        data.toString('base64'),
        cipher.getAuthTag().toString('base64'),
      ].join(':');
    },
    open(recordKey, sealed, where) {
      const parts = sealed.split(':');
      if (parts.length !== 5 || parts[0] !== FORMAT) {
        throw new StoreError(`${where} is not a sealed vault record: it was not written by vault, or by a newer one`);
      }
      const [, id, iv, data, tag] = parts as [string, string, string, string, string];
      if (id !== keyId) {
        throw new StoreError(
          `${where} is sealed with another VAULT_STORE_KEY (key id ${id}; this one is ${keyId}): use the fleet's key`,
        );
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64')).setAAD(aad(recordKey));
        decipher.setAuthTag(Buffer.from(tag, 'base64'));
        return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
      } catch (error) {
        throw new StoreError(
          `${where} does not open with VAULT_STORE_KEY: it was altered, or moved from another entry`,
          { cause: error },
        );
      }
    },
  };
}
