import { Command } from 'commander';
import type { MigrateOptions } from '../store-migrate.js';
import type { Context, Outcome } from '../context.js';
import { jsonOption } from '../options.js';

export type { MigrateOptions };
export interface StoreInfoOptions {
  json?: boolean;
}

type Run<O> = (opts: O) => Promise<Outcome>;

/** `vault store …`: what holds the secrets, and conversions between stores and formats. */
export function storeCommand(
  ctx: Context,
  runs: {
    info?: Run<StoreInfoOptions>;
    migrate?: Run<MigrateOptions>;
    encrypt?: Run<object>;
    decrypt?: Run<object>;
  } = {},
) {
  const group = new Command('store').description('the secret store in use: its health, and conversions').addHelpText(
    'after',
    `
Examples:
  vault store info
  VAULT_STORE=file VAULT_FILE_PASSPHRASE=… vault store encrypt`,
  );
  group
    .command('info')
    .description('name the store in use, where it keeps secrets, and whether it answers')
    .addOption(jsonOption())
    .addHelpText('after', '\nExamples:\n  vault store info\n  VAULT_STORE=file vault store info --json')
    .action(async (flags: StoreInfoOptions) => {
      await ctx.ready();
      ctx.outcome = await (runs.info ?? ((o: StoreInfoOptions) => storeInfoRun(ctx, o)))(flags);
    });
  group
    .command('migrate [provider]')
    .description('move logins (refresh token, client secret) from the store in use to another')
    .requiredOption('--to <store>', 'the target: keychain, file, or redis://host:port/db (as VAULT_STORE takes it)')
    .option('-a, --account <name>', 'only this account of the provider (default: every account)')
    .option('--keep', 'copy instead of move: the login then lives in both stores')
    .addHelpText(
      'after',
      `
The source is deleted only after the target read the copy back; a target holding another login for
the same account is never overwritten.

Examples:
  VAULT_STORE_KEY=… vault store migrate --to redis://redis.internal:6379/0 acme -a ci
  VAULT_STORE=redis://redis.internal:6379/0 vault store migrate --to keychain acme --keep`,
    )
    .action(async (provider: string | undefined, flags: Omit<MigrateOptions, 'provider'>) => {
      await ctx.ready();
      ctx.outcome = await (runs.migrate ?? ((o: MigrateOptions) => storeMigrateRun(ctx, o)))({ ...flags, provider });
    });
  group
    .command('encrypt')
    .description('encrypt the file store with VAULT_FILE_PASSPHRASE (AES-256-GCM, scrypt key)')
    .addHelpText(
      'after',
      '\nA passphrase alone never converts an existing store: this does.\n\nExamples:\n  VAULT_STORE=file VAULT_FILE_PASSPHRASE="$(pass vault)" vault store encrypt\n  vault store info',
    )
    .action(async () => {
      await ctx.ready();
      ctx.outcome = await (runs.encrypt ?? (() => storeEncryptRun(ctx)))({});
    });
  group
    .command('decrypt')
    .description('turn an encrypted file store back into plain JSON (mode 0600)')
    .addHelpText(
      'after',
      '\nExamples:\n  VAULT_FILE_PASSPHRASE="$(pass vault)" vault store decrypt\n  vault store info',
    )
    .action(async () => {
      await ctx.ready();
      ctx.outcome = await (runs.decrypt ?? (() => storeDecryptRun(ctx)))({});
    });
  return group;
}

/** The health check is a listing, which reads without changing anything; a failure is its exit status. */
export async function storeInfoRun(ctx: Context, opts: StoreInfoOptions): Promise<Outcome> {
  return (await import('../store-ops.js')).storeInfo(ctx, opts);
}

export async function storeMigrateRun(ctx: Context, opts: MigrateOptions): Promise<Outcome> {
  await (await import('../store-migrate.js')).migrate(ctx, opts);
}

export async function storeEncryptRun(ctx: Context): Promise<Outcome> {
  await (await import('../store-ops.js')).encryptStore(ctx);
}

export async function storeDecryptRun(ctx: Context): Promise<Outcome> {
  await (await import('../store-ops.js')).decryptStore(ctx);
}
