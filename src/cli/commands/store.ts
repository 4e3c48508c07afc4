import { UsageError, VaultError, type ErrorKind } from '../../core/errors.js';
import { listLogins } from '../../core/credentials.js';
import { fileStore, openStore } from '../../infra/stores/index.js';
import type { Deps } from '../../ports.js';

/**
 * `vault store info`: the store in use (for `auto`, the one that answered), where it is, and
 * whether it answers. The health check is a listing, which reads without changing anything.
 */
export async function infoRun(deps: Deps, opts: { json?: boolean }): Promise<ErrorKind | undefined> {
  const store = openStore(deps);
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
  const format = store.kind === 'file' && !failed ? await fileStore(deps).format() : undefined;
  const details = !failed && store.details ? await store.details() : [];
  const encrypted =
    format === undefined
      ? null
      : format === 'encrypted' || (format === 'absent' && Boolean(deps.env.VAULT_FILE_PASSPHRASE));
  if (opts.json) {
    const extra = Object.fromEntries(details.map(([k, v]) => [k.replace(/ /g, '_'), v]));
    deps.io.stdout.write(
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
              : format === 'plain' && deps.env.VAULT_FILE_PASSPHRASE
                ? 'no (run `vault store encrypt`)'
                : 'no',
          ] as [string, string],
        ]),
    ...(logins === null ? [] : [['logins', String(logins)] as [string, string]]),
    ...details,
  ];
  deps.io.stdout.write(rows.map(([k, v]) => `${k.padEnd(10)} ${v}\n`).join(''));
  return failed;
}

/** The file store, if it is the one in use: the conversions apply to it alone. */
async function fileStoreInUse(deps: Deps, verb: string) {
  const store = openStore(deps);
  await store.keys('');
  if (store.kind !== 'file') {
    throw new UsageError(
      `the store in use is the ${store.kind} (${store.location}); \`vault store ${verb}\` converts the file store (VAULT_STORE=file)`,
    );
  }
  return fileStore(deps);
}

export async function encryptRun(deps: Deps): Promise<number> {
  if (!deps.env.VAULT_FILE_PASSPHRASE)
    throw new UsageError('set VAULT_FILE_PASSPHRASE to the passphrase to encrypt the file store with');
  const file = await fileStoreInUse(deps, 'encrypt');
  if (await file.convert(true)) {
    deps.io.stderr.write(`Encrypted ${file.location}. Every command now needs VAULT_FILE_PASSPHRASE.\n`);
  } else {
    const absent = (await file.format()) === 'absent';
    deps.io.stderr.write(
      absent
        ? `Nothing stored yet: ${file.location} will be created encrypted.\n`
        : `${file.location} is already encrypted.\n`,
    );
  }
  return 0;
}

export async function decryptRun(deps: Deps): Promise<number> {
  const file = await fileStoreInUse(deps, 'decrypt');
  if (!(await file.convert(false))) {
    deps.io.stderr.write(`${file.location} is not encrypted.\n`);
    return 0;
  }
  deps.io.stderr.write(
    `Decrypted ${file.location}: it is plain JSON again (mode 0600); unset VAULT_FILE_PASSPHRASE.\n`,
  );
  return 0;
}
