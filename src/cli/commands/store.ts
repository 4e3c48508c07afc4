import { Command } from 'commander';
import { act } from '../act.js';
import type { Context } from '../context.js';
import { jsonOption } from '../options.js';

/** `vault store …`: what holds the secrets, and conversions between stores and formats. */
export function storeCommand(ctx: Context) {
  const ops = () => import('../store-ops.js');
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
    .action(
      act(
        ctx,
        async () => (await ops()).storeInfo,
        (flags: object) => flags,
      ),
    );
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
    .action(act(ctx, async () => (await import('../store-migrate.js')).migrate));
  group
    .command('encrypt')
    .description('encrypt the file store with VAULT_FILE_PASSPHRASE (AES-256-GCM, scrypt key)')
    .addHelpText(
      'after',
      '\nA passphrase alone never converts an existing store: this does.\n\nExamples:\n  VAULT_STORE=file VAULT_FILE_PASSPHRASE="$(pass vault)" vault store encrypt\n  vault store info',
    )
    .action(
      act(
        ctx,
        async () => (await ops()).encryptStore,
        () => ({}),
      ),
    );
  group
    .command('decrypt')
    .description('turn an encrypted file store back into plain JSON (mode 0600)')
    .addHelpText(
      'after',
      '\nExamples:\n  VAULT_FILE_PASSPHRASE="$(pass vault)" vault store decrypt\n  vault store info',
    )
    .action(
      act(
        ctx,
        async () => (await ops()).decryptStore,
        () => ({}),
      ),
    );
  return group;
}
