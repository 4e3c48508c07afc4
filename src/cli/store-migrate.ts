import { suggest } from '../core/suggest.js';
import { UsageError } from '../core/errors.js';
import { migrateLogins } from '../core/usecases/migrate.js';
import { checkAccountName, checkProviderName } from '../core/config/names.js';
import { refreshLock } from '../core/usecases/refresh-lock.js';
import { storeChoice, storeSyntaxes } from '../infra/stores/choice.js';
import { vaultStoreValue } from '../infra/stores/index.js';
import type { Context } from './context.js';

export interface MigrateOptions {
  provider?: string;
  to: string;
  account?: string;
  keep?: boolean;
}

/**
 * `vault store migrate --to STORE [provider [-a A]] [--keep]`: moves logins from the store in use
 * (VAULT_STORE) to STORE, any value VAULT_STORE takes. Without a provider every login moves;
 * without `-a` every account of the provider.
 */
export async function migrate(ctx: Context, opts: MigrateOptions): Promise<void> {
  const { provider } = opts;
  if (opts.account !== undefined && provider === undefined)
    throw new UsageError('-a names an account of a provider: give the provider too');
  const targetEnv = { ...ctx.env, VAULT_STORE: opts.to };
  if (storeChoice(targetEnv) === 'auto') throw new UsageError(`--to names one store: ${storeSyntaxes()}`);
  const ports = ctx.ports();
  const from = ports.store;
  const to = ports.storeAt(opts.to);
  const result = await migrateLogins({
    from,
    to,
    ...(provider !== undefined && { provider: checkProviderName(provider) }),
    ...(opts.account !== undefined && { account: checkAccountName(opts.account) }),
    keep: Boolean(opts.keep),
    lock: (store, p, a) => refreshLock({ store, locks: ports.locks }, p, a),
    debug: ctx.debug,
    now: () => ctx.clock.now(),
  });
  if (result.logins.length === 0) {
    ctx.io.stderr.write(`No logins in ${from.location}: nothing to migrate.\n`);
    return;
  }
  for (const l of result.logins) {
    const who = `${l.provider} (account ${l.account}${l.identity ? `, ${l.identity}` : ''})`;
    ctx.io.stderr.write(`${opts.keep ? 'Copied' : 'Moved'} ${who} from ${from.location} to ${to.location}.\n`);
  }
  if (result.clientSecrets.length)
    ctx.io.stderr.write(`Client secret of ${result.clientSecrets.join(', ')} copied to ${to.location}.\n`);
  if (opts.keep) {
    ctx.io.stderr.write(
      `warning: these logins now live in two places, ${from.location} and ${to.location}. If the provider rotates refresh tokens, the first refresh on either side spends the other copy: \`${suggest(['logout', provider ?? '<provider>', '--no-revoke'], { account: opts.account })}\` with one of them leaves the other the only one.\n`,
    );
  } else {
    ctx.io.stderr.write(`Use them with VAULT_STORE=${vaultStoreValue(to, opts.to)}.\n`);
  }
}
