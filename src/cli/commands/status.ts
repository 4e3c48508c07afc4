import { Command, Option } from 'commander';
import { isoTime } from '../../core/token-set.js';
import type { AccountStatus } from '../../core/usecases/status.js';
import type { Context, Outcome } from '../context.js';
import { jsonOption } from '../options.js';

export interface StatusOptions {
  provider?: string;
  account?: string;
  json?: boolean;
}

export function statusCommand(
  ctx: Context,
  runF: (opts: StatusOptions) => Promise<Outcome> = (o) => statusRun(ctx, o),
) {
  return new Command('status')
    .argument('[provider]')
    .description('show logins, scopes and expiry (never a secret)')
    .addOption(new Option('-a, --account <name>', 'only this account'))
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
Reads the store only: no refresh, no network. Exits 3 when the named provider has no login.

Examples:
  vault status
  vault status google -a work
  vault status --json | jq -r '.accounts[] | select(.refresh_token_stored) | .provider'`,
    )
    .action(async (provider: string | undefined, flags: Omit<StatusOptions, 'provider'>) => {
      await ctx.ready();
      ctx.outcome = await runF({ ...flags, provider });
    });
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
  const { status } = await import('../../core/usecases/status.js');
  const { CI_SOURCE } = await import('../../core/credentials.js');
  const { unreachableKeychainNote } = await import('../../infra/stores/keychain-reach.js');
  const store = ctx.store();
  const rows = await status(
    {
      store,
      env: ctx.env,
      configFile: ctx.configFile,
      config: () => ctx.config(),
      debug: ctx.debug,
      now: () => ctx.clock.now(),
      warn: (m) => ctx.io.stderr.write(`warning: ${m}\n`),
    },
    opts.provider,
    opts.account,
  );
  const unreachable = unreachableKeychainNote(ctx.env);
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
