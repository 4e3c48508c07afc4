import { CI_SOURCE } from '../../core/credentials.js';
import { isoTime } from '../../core/token-set.js';
import { status, type AccountStatus } from '../../core/usecases/status.js';
import type { Context, Outcome } from '../context.js';

export interface StatusOptions {
  provider?: string;
  account?: string;
  json?: boolean;
}

/** "expires in 42m", "expired", "no expiry" or "none cached", relative to `now`. */
export function describeExpiry(row: AccountStatus, now: number): string {
  if (row.fix) return '-';
  if (!row.access_cached) return 'none cached';
  if (row.expires_at === null) return 'no expiry';
  const left = Math.floor((row.expires_at - now) / 1000);
  if (left <= 0) return 'expired';
  if (left < 60) return `expires in ${left}s`;
  if (left < 3600) return `expires in ${Math.floor(left / 60)}m`;
  if (left < 48 * 3600) return `expires in ${Math.floor(left / 3600)}h ${Math.floor((left % 3600) / 60)}m`;
  return `expires in ${Math.floor(left / 86400)}d`;
}

export function formatTable(rows: AccountStatus[], now: number): string {
  const header = ['PROVIDER', 'ACCOUNT', 'IDENTITY', 'SCOPES', 'ACCESS TOKEN', 'REFRESH TOKEN', 'STORE'];
  const lines = rows.map((r) => [
    r.provider,
    r.account,
    r.identity ?? '-',
    r.scopes.join(' ') || '-',
    describeExpiry(r, now),
    r.fix ? `corrupt: run \`${r.fix}\`` : r.refresh_token_rejected ? 'rejected' : r.refresh_token_stored ? 'yes' : 'no',
    r.store,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  return (
    [header, ...lines]
      .map((cells) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  '))
      .join('\n') + '\n'
  );
}

export function formatJson(rows: AccountStatus[]): string {
  return `${JSON.stringify({
    accounts: rows.map((r) => ({
      provider: r.provider,
      account: r.account,
      identity: r.identity,
      scopes: r.scopes,
      expires_at: r.expires_at === null ? null : isoTime(r.expires_at),
      // Stored, even when the server rejected it: `state` says whether it still works.
      refresh_token_stored: r.refresh_token_stored,
      refresh_token_rejected: r.refresh_token_rejected,
      store: r.store,
      state: r.state,
      ...(r.fix && { corrupt: true, fix: r.fix }),
    })),
  })}\n`;
}

export async function statusRun(ctx: Context, opts: StatusOptions): Promise<Outcome> {
  const ports = ctx.ports();
  const store = ports.store;
  const rows = await status(
    { ...ports, configFile: ctx.configFile, config: () => ctx.config(), now: () => ctx.clock.now() },
    opts.provider,
    opts.account,
  );
  const unreachable = ports.keychainNote();
  if (opts.json) {
    ctx.io.stdout.write(formatJson(rows));
    if (unreachable) ctx.io.stderr.write(`warning: ${unreachable}\n`);
    return;
  }
  const account = opts.account;
  if (rows.length === 0) {
    const scope = account === undefined ? '' : ` for account ${account}`;
    ctx.io.stderr.write(`No logins${scope}. Log in with \`vault login PROVIDER\` (see \`vault provider list\`).\n`);
  } else {
    ctx.io.stdout.write(formatTable(rows, ctx.clock.now()));
  }
  const consulted = [store.kind === 'file' ? `file store ${store.location}` : store.location];
  if (account === undefined || account === 'default') consulted.push(CI_SOURCE);
  ctx.io.stderr.write(`Stores consulted: ${consulted.join(', ')}.\n`);
  if (unreachable) ctx.io.stderr.write(`warning: ${unreachable}\n`);
}
