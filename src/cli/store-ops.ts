import { UsageError, VaultError, type ErrorKind } from '../core/errors.js';
import { listLogins } from '../core/credentials.js';
import { fileStore } from '../infra/stores/index.js';
import { skipPlainFileWarning } from '../infra/stores/file-store.js';
import type { Context, Outcome } from './context.js';

export interface StoreInfoOptions {
  json?: boolean;
}

/**
 * `vault store info`: the store in use (for `auto`, the one that answered), where it is, and
 * whether it answers. The health check is a listing, which reads without changing anything.
 */
export async function storeInfo(ctx: Context, opts: StoreInfoOptions): Promise<ErrorKind | undefined> {
  const store = ctx.store();
  let health = 'ok';
  let failed: ErrorKind | undefined;
  let logins: number | null = null;
  try {
    logins = (await listLogins(store, {})).length;
  } catch (error) {
    if (!(error instanceof VaultError)) throw error;
    health = error.message;
    failed = error.kind;
  }
  const format = store.kind === 'file' && !failed ? await fileStore(ctx).format() : undefined;
  const details = !failed && store.details ? await store.details() : [];
  const encrypted =
    format === undefined
      ? null
      : format === 'encrypted' || (format === 'absent' && Boolean(ctx.env.VAULT_FILE_PASSPHRASE));
  if (opts.json) {
    const extra = Object.fromEntries(details.map(([k, v]) => [k.replace(/ /g, '_'), v]));
    ctx.io.stdout.write(
      `${JSON.stringify({ store: store.kind, location: store.location, health, encrypted, logins, ...extra })}\n`,
    );
    return failed;
  }
  const rows: [string, string][] = [
    ['store', store.kind],
    ['location', store.location],
    ['health', health],
    ...(encrypted === null
      ? []
      : [
          [
            'encrypted',
            encrypted
              ? 'yes'
              : format === 'plain' && ctx.env.VAULT_FILE_PASSPHRASE
                ? 'no (run `vault store encrypt`)'
                : 'no',
          ] as [string, string],
        ]),
    ...(logins === null ? [] : [['logins', String(logins)] as [string, string]]),
    ...details,
  ];
  ctx.io.stdout.write(rows.map(([k, v]) => `${k.padEnd(10)} ${v}\n`).join(''));
  return failed;
}

/** The file store, if it is the one in use: the conversions apply to it alone. */
async function fileStoreInUse(ctx: Context, verb: string) {
  const store = ctx.store();
  await store.keys('');
  if (store.kind !== 'file') {
    throw new UsageError(
      `the store in use is the ${store.kind} (${store.location}); \`vault store ${verb}\` converts the file store (VAULT_STORE=file)`,
    );
  }
  return fileStore(ctx);
}

export async function encryptStore(ctx: Context): Promise<Outcome> {
  if (!ctx.env.VAULT_FILE_PASSPHRASE)
    throw new UsageError('set VAULT_FILE_PASSPHRASE to the passphrase to encrypt the file store with');
  skipPlainFileWarning();
  const file = await fileStoreInUse(ctx, 'encrypt');
  if (await file.convert(true)) {
    ctx.io.stderr.write(`Encrypted ${file.location}. Every command now needs VAULT_FILE_PASSPHRASE.\n`);
  } else {
    const absent = (await file.format()) === 'absent';
    ctx.io.stderr.write(
      absent
        ? `Nothing stored yet: ${file.location} will be created encrypted.\n`
        : `${file.location} is already encrypted.\n`,
    );
  }
}

export async function decryptStore(ctx: Context): Promise<Outcome> {
  const file = await fileStoreInUse(ctx, 'decrypt');
  if (!(await file.convert(false))) {
    ctx.io.stderr.write(`${file.location} is not encrypted.\n`);
    return;
  }
  ctx.io.stderr.write(`Decrypted ${file.location}: it is plain JSON again (mode 0600); unset VAULT_FILE_PASSPHRASE.\n`);
}
