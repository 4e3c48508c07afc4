import { StoreError } from '../../core/errors.js';
import { unseal, type EncryptedFile } from './file-crypto.js';

// The file store's document: `{ v: 1, entries }` in plain JSON, or that document sealed with the
// passphrase (file-crypto.ts). Reading checks the shape and the version before trusting anything.

interface PlainFile {
  v: 1;
  entries: Record<string, string>;
}

/** Whether this process has said that a passphrase is set for a plaintext store (once is enough). */
let warnedPlain = false;

/** `vault store encrypt` is the conversion the plain-file warning asks for: it need not say so. */
export function skipPlainFileWarning(): void {
  warnedPlain = true;
}

/** The entries of the parsed document `doc` of `file`, and whether it was encrypted. */
export async function decodeFile(
  doc: unknown,
  file: string,
  options: { passphrase?: string; warn?: (message: string) => void },
): Promise<{ entries: Record<string, string>; encrypted: boolean }> {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new StoreError(`${file} is corrupt (not a credentials document): move it away and log in again`);
  }
  const d = doc as Record<string, unknown>;
  if (d.v !== 1) {
    throw new StoreError(
      `${file} has format version ${JSON.stringify(d.v)}, which this vault does not know: upgrade vault`,
    );
  }
  if (d.cipher === undefined) {
    if (options.passphrase && !warnedPlain) {
      // A passphrase never converts a store by itself: everything without it would then fail.
      warnedPlain = true;
      options.warn?.(
        `VAULT_FILE_PASSPHRASE is set, but ${file} is not encrypted: it stays so until \`vault store encrypt\``,
      );
    }
    if (
      typeof d.entries !== 'object' ||
      d.entries === null ||
      !Object.values(d.entries).every((v) => typeof v === 'string')
    ) {
      throw new StoreError(`${file} is corrupt (bad "entries"): move it away and log in again`);
    }
    return { entries: { ...(d.entries as Record<string, string>) }, encrypted: false };
  }
  const passphrase = options.passphrase;
  if (!passphrase) {
    throw new StoreError(`${file} is encrypted: set VAULT_FILE_PASSPHRASE`);
  }
  const plain = JSON.parse(await unseal(d as unknown as EncryptedFile, passphrase, file)) as PlainFile;
  return { entries: plain.entries, encrypted: true };
}

/** The file's text: sealed with `passphrase` when one is given, plain JSON otherwise. */
export async function encodeFile(entries: Record<string, string>, passphrase: string | undefined): Promise<string> {
  const plain: PlainFile = { v: 1, entries };
  if (!passphrase) return `${JSON.stringify(plain, null, 2)}\n`;
  // Imported here: the cached-token path reads this store and never writes it.
  const { seal } = await import('./file-crypto.js');
  return `${JSON.stringify(await seal(JSON.stringify(plain), passphrase), null, 2)}\n`;
}
