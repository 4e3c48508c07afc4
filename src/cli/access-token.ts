import { checkEnvName } from '../core/config/names.js';
import { envNames, type Provider } from '../core/config/providers.js';
import { passThroughToken, type AccessRecord } from '../core/credentials.js';
import { getAccessToken } from '../core/usecases/get-token.js';
import type { Context } from './context.js';

/**
 * The access token the integrations hand on: `VAULT_<NAME>_ACCESS_TOKEN` when CI supplies one,
 * else a token from the store valid for `minValid` seconds (for `scopes`, a subset of the granted
 * ones, when given), refreshed when needed.
 */
export async function accessTokenFor(
  ctx: Context,
  provider: Provider,
  account: string,
  minValid: number,
  scopes?: string[],
): Promise<AccessRecord> {
  return (
    passThroughToken(ctx.env, provider.name, ctx.clock.now()) ??
    (await getAccessToken({ provider, account, minValid, scopes }, ctx.ports()))
  );
}

/** `--name` values (checked), else the provider's env names. */
export function targetNames(provider: Provider, names: string[] | undefined): string[] {
  return names?.length ? [...new Set(names.map(checkEnvName))] : envNames(provider);
}
