import { ciVariable } from '../../core/credentials.js';
import { loginCommand } from '../../core/errors.js';
import { suggest } from '../../core/suggest.js';
import { exportLogin } from '../../core/usecases/export.js';
import type { Context, Outcome } from '../context.js';

export interface ExportOptions {
  provider?: string;
  account?: string;
  keep?: boolean;
  force?: boolean;
}

export async function exportRun(ctx: Context, opts: ExportOptions): Promise<Outcome> {
  const provider = ctx.provider(opts.provider);
  const p = provider.name;
  const account = ctx.account(opts.account);
  const ports = ctx.ports();
  const store = ports.store;
  const outcome = await exportLogin(
    {
      ...ports,
      // The login is removed only once stdout took the token: a reader that went away keeps it here.
      print: (token) =>
        new Promise<void>((resolve, reject) =>
          ctx.io.stdout.write(`${token}\n`, (error) => (error ? reject(error) : resolve())),
        ),
    },
    { provider, account, keep: Boolean(opts.keep), force: Boolean(opts.force) },
  );
  const say = (line: string) => ctx.io.stderr.write(`${line}\n`);
  if (!outcome.kept) {
    say(
      `Moved the login to ${p}${account === 'default' ? '' : ` (account ${account})`} out of ${store.location}: the printed refresh token is now its only copy (${p} rotates refresh tokens, so two copies would spend each other). Put it in the CI secret ${ciVariable(p)}. To use ${p} here again: \`${loginCommand(p, account)}\`; to keep both copies next time: \`${suggest(['export', p, '--keep', '--force'], { account })}\`; to share one login: \`${suggest(['store', 'migrate', '--to', 'redis://HOST', p], { account })}\`.`,
    );
  } else if (outcome.rotating) {
    say(
      `warning: the refresh token of ${p} now lives in two places, here and wherever you put it, and ${p} rotates refresh tokens: the first refresh on either side spends the other copy, and using the spent one revokes the login. \`${suggest(['logout', p, '--no-revoke'], { account })}\` here leaves the exported one the only one.`,
    );
  } else {
    say(
      `note: ${p} does not rotate refresh tokens (rotates_refresh_tokens = false), so the login stays here and the exported copy works beside it; \`${suggest(['logout', p], { account })}\` revokes both.`,
    );
  }
}
