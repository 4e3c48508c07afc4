import { getAccessToken } from '../../core/usecases/get-token.js';
import type { Context, Outcome } from '../context.js';
import { tokenOutput, type TokenOptions } from '../token-output.js';

export async function tokenRun(ctx: Context, opts: TokenOptions): Promise<Outcome> {
  ctx.io.stdout.write((await tokenOutput(ctx, opts, (req) => getAccessToken(req, ctx.ports())))!);
}
