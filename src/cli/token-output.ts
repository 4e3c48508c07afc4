import { scopeList } from '../core/provider-edit.js';
import { expiresIn, isoTime, tokenTypeOf } from '../core/token-set.js';
import { passThroughToken, type AccessRecord } from '../core/credentials.js';
import type { TokenRequest } from '../core/usecases/get-token.js';
import type { Context } from './context.js';

export interface TokenOptions {
  provider?: string;
  account?: string;
  scope?: string[];
  minValid: number;
  forceRefresh?: boolean;
  json?: boolean;
  header?: boolean;
  /** headers-json: `{"Authorization":"Bearer …"}`, what MCP clients' headers helpers print. */
  format?: 'headers-json';
}

export function formatToken(
  record: AccessRecord,
  opts: { json?: boolean; header?: boolean; format?: 'headers-json' },
  provider: string,
  account: string,
  now: number,
): string {
  const type = tokenTypeOf(record.token_type);
  if (opts.format === 'headers-json')
    return `${JSON.stringify({ Authorization: `${type === 'DPoP' ? 'DPoP' : 'Bearer'} ${record.access_token}` })}\n`;
  if (opts.header) return `Authorization: ${type === 'DPoP' ? 'DPoP' : 'Bearer'} ${record.access_token}\n`;
  if (opts.json) {
    return `${JSON.stringify({
      access_token: record.access_token,
      token_type: type,
      expires_at: record.expires_at === null ? null : isoTime(record.expires_at),
      expires_in: expiresIn(record, now),
      scope: record.scope,
      provider,
      account,
    })}\n`;
  }
  return `${record.access_token}\n`;
}

/** What tokenOutput uses of a Context: all the cached-token path builds. */
export type TokenOutputContext = Pick<Context, 'provider' | 'account' | 'env' | 'clock'>;

type Obtain = (req: TokenRequest) => Promise<AccessRecord | undefined>;

/**
 * What `vault token` prints, for a token obtained by `obtain`: getAccessToken, or on the
 * cached-token fast path cachedAccessToken, which may come back empty (then: undefined).
 */
export async function tokenOutput(
  ctx: TokenOutputContext,
  opts: TokenOptions,
  obtain: Obtain,
): Promise<string | undefined> {
  const provider = ctx.provider(opts.provider);
  const account = ctx.account(opts.account);
  const scopes = scopeList(opts.scope);
  const record =
    passThroughToken(ctx.env, provider.name, ctx.clock.now()) ??
    (await obtain({ provider, account, scopes, minValid: opts.minValid, forceRefresh: opts.forceRefresh }));
  return record && formatToken(record, opts, provider.name, account, ctx.clock.now());
}
