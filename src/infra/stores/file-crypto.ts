import { StoreError } from '../../core/errors.js';

// scrypt parameters (RFC 7914 §2): N=2^15, r=8, p=1 costs ~32 MiB and tens of ms per process,
// which is what an attacker pays per guess of the passphrase.
const KDF = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

// node:crypto takes milliseconds to load and only an encrypted file needs it, so it is imported
// on demand, off the cached-token path.
async function deriveKey(
  passphrase: string,
  salt: Buffer,
  params: { N: number; r: number; p: number },
): Promise<Buffer> {
  const { scrypt } = await import('node:crypto');
  return new Promise((resolve, reject) =>
    scrypt(passphrase, salt, 32, { N: params.N, r: params.r, p: params.p, maxmem: KDF.maxmem }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

/**
 * The key this process derived last, with its salt: scrypt costs tens of ms by design, so a process
 * that reads the file and writes it back derives one key, not one per read and one per write. A
 * rewrite keeps the file's salt (a salt defeats precomputation across files, which one per file
 * does); each write still draws a fresh IV, as AES-GCM requires of every message under one key
 * (NIST SP 800-38D §8.2.2).
 */
let derived: { passphrase: string; salt: string; N: number; r: number; p: number; key: Promise<Buffer> } | undefined;

function keyFor(passphrase: string, salt: string, params: { N: number; r: number; p: number }): Promise<Buffer> {
  const d = derived;
  if (d && d.passphrase === passphrase && d.salt === salt && d.N === params.N && d.r === params.r && d.p === params.p)
    return d.key;
  const key = deriveKey(passphrase, Buffer.from(salt, 'base64'), params);
  derived = { passphrase, salt, N: params.N, r: params.r, p: params.p, key };
  key.catch(() => {
    if (derived?.key === key) derived = undefined;
  });
  return key;
}

export interface EncryptedFile {
  v: 1;
  cipher: 'aes-256-gcm';
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  iv: string;
  tag: string;
  data: string;
}

/** Encrypts the store's JSON text with AES-256-GCM under the scrypt key (see `derived`), with a new IV. */
export async function seal(text: string, passphrase: string): Promise<EncryptedFile> {
  const { createCipheriv, randomBytes } = await import('node:crypto');
  const known = derived?.passphrase === passphrase && derived.N === KDF.N && derived.r === KDF.r && derived.p === KDF.p;
  const salt = known ? derived!.salt : randomBytes(16).toString('base64');
  const iv = randomBytes(12);
  const key = await keyFor(passphrase, salt, KDF);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const data = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
  return {
    v: 1,
    cipher: 'aes-256-gcm',
    kdf: { name: 'scrypt', N: KDF.N, r: KDF.r, p: KDF.p, salt },
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    data: data.toString('base64'),
  };
}

/** The JSON text sealed in `e`; `file` names it in errors. */
export async function unseal(e: EncryptedFile, passphrase: string, file: string): Promise<string> {
  if (e.cipher !== 'aes-256-gcm' || e.kdf?.name !== 'scrypt') {
    throw new StoreError(`${file} uses an unknown cipher: upgrade vault`);
  }
  const key = await keyFor(passphrase, e.kdf.salt, e.kdf);
  const { createDecipheriv } = await import('node:crypto');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(e.iv, 'base64'));
    decipher.setAuthTag(Buffer.from(e.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(e.data, 'base64')), decipher.final()]).toString('utf8');
  } catch (error) {
    throw new StoreError(`cannot decrypt ${file}: wrong VAULT_FILE_PASSPHRASE, or the file was altered`, {
      cause: error,
    });
  }
}
