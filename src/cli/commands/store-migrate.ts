import { UsageError } from '../../core/errors.js';
import { migrateLogins } from '../../core/migrate.js';
import { checkAccountName, checkProviderName } from '../../core/config/names.js';
import { refreshLock } from '../../core/usecases/refresh-lock.js';
import { fileLocks } from '../../infra/adapters.js';
import { lockDir } from '../../infra/paths.js';
import { storeChoice } from '../../infra/stores/choice.js';
import { openStore } from '../../infra/stores/index.js';
import type { Deps } from '../../ports.js';

export interface MigrateOptions {
  to: string;
  account?: string;
  keep?: boolean;
}

/**
 * `vault store migrate --to STORE [provider [-a A]] [--keep]`: moves logins from the store in use
 * (VAULT_STORE) to STORE, any value VAULT_STORE takes. Without a provider every login moves;
 * without `-a` every account of the provider.
 */
export async function migrateRun(deps: Deps, provider: string | undefined, opts: MigrateOptions): Promise<number> {
  if (opts.account !== undefined && provider === undefined)
    throw new UsageError('-a names an account of a provider: give the provider too');
  const targetEnv = { ...deps.env, VAULT_STORE: opts.to };
  if (storeChoice(targetEnv) === 'auto')
    throw new UsageError('--to names one store: keychain, file or redis://host:port/db');
  const from = openStore(deps);
  const to = openStore({ ...deps, env: targetEnv });
  const result = await migrateLogins({
    from,
    to,
    ...(provider !== undefined && { provider: checkProviderName(provider) }),
    ...(opts.account !== undefined && { account: checkAccountName(opts.account) }),
    keep: Boolean(opts.keep),
    lock: (store, p, a) => refreshLock({ store, locks: fileLocks(lockDir(deps.env), deps.debug) }, p, a),
    debug: deps.debug,
  });
  if (result.logins.length === 0) {
    deps.io.stderr.write(`No logins in ${from.location}: nothing to migrate.\n`);
    return 0;
  }
  for (const l of result.logins) {
    const who = `${l.provider} (account ${l.account}${l.identity ? `, ${l.identity}` : ''})`;
    deps.io.stderr.write(`${opts.keep ? 'Copied' : 'Moved'} ${who} from ${from.location} to ${to.location}.\n`);
  }
  if (result.clientSecrets.length)
    deps.io.stderr.write(`Client secret of ${result.clientSecrets.join(', ')} copied to ${to.location}.\n`);
  if (opts.keep) {
    deps.io.stderr.write(
      `warning: these logins now live in two places, ${from.location} and ${to.location}. If the provider rotates refresh tokens, the first refresh on either side spends the other copy: \`vault logout <provider> --no-revoke\` with one of them leaves the other the only one.\n`,
    );
  } else {
    deps.io.stderr.write(
      `Use them with VAULT_STORE=${to.kind === 'redis' ? `${to.location} (and the same VAULT_STORE_KEY)` : to.kind}.\n`,
    );
  }
  return 0;
}
