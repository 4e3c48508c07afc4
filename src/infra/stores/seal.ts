import { StoreError, UsageError } from '../../core/errors.js';

// scrypt for a passphrase (RFC 7914 §2), as the encrypted file store: N=2^15, r=8, p=1 makes each
// guess cost ~32 MiB and tens of ms. A random 32-byte key needs no stretching and is preferred.
export const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

// v2 binds the record to where it lives (the key prefix and the database number) as well as to its
// key; v1 records (written before) are still read, and every write is v2.
const FORMAT = 'v2';
const OLD_FORMAT = 'v1';
// GCM's tag is 16 bytes; a shorter one is accepted by the cipher unless pinned (NIST SP 800-38D
// §5.2.1.2 allows truncation, which makes forgery cheaper): pinned on both sides.
const TAG_BYTES = 16;

/** Where sealed records live: bound into each record's associated data. */
export interface SealPlace {
  /** VAULT_REDIS_PREFIX. */
  prefix: string;
  /** The database number. */
  db: number;
}

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
 * to its key id, the prefix and database it was written under and its record key, so a sealed
 * refresh token copied to another login's key, another prefix or another database (or sealed
 * under another key) does not open.
 */
export async function sealer(key: Buffer, place: SealPlace): Promise<Sealer> {
  const { createCipheriv, createDecipheriv, createHmac, randomBytes } = await import('node:crypto');
  const keyId = createHmac('sha256', key).update('vault store key id').digest('hex').slice(0, 16);
  // The prefix is length-prefixed, so no prefix and record key can pass for another pair.
  const aad = (recordKey: string) =>
    Buffer.from(`${FORMAT}\n${keyId}\n${place.db}\n${place.prefix.length}:${place.prefix}\n${recordKey}`, 'utf8');
  const oldAad = (recordKey: string) => Buffer.from(`${keyId}\n${recordKey}`, 'utf8');
  return {
    keyId,
    seal(recordKey, plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES }).setAAD(aad(recordKey));
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
      if (parts.length !== 5 || (parts[0] !== FORMAT && parts[0] !== OLD_FORMAT)) {
        throw new StoreError(`${where} is not a sealed vault record: it was not written by vault, or by a newer one`);
      }
      const [format, id, iv, data, tag] = parts as [string, string, string, string, string];
      if (id !== keyId) {
        throw new StoreError(
          `${where} is sealed with another VAULT_STORE_KEY (key id ${id}; this one is ${keyId}): use the fleet's key`,
        );
      }
      try {
        const authTag = Buffer.from(tag, 'base64');
        if (authTag.length !== TAG_BYTES) throw new Error(`a ${authTag.length}-byte tag`);
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'), {
          authTagLength: TAG_BYTES,
        }).setAAD(format === FORMAT ? aad(recordKey) : oldAad(recordKey));
        decipher.setAuthTag(authTag);
        return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
      } catch (error) {
        throw new StoreError(
          `${where} does not open with VAULT_STORE_KEY: it was altered, or moved from another entry, prefix (VAULT_REDIS_PREFIX) or database`,
          { cause: error },
        );
      }
    },
  };
}
