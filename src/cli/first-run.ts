import type { Provider } from '../core/config/providers.js';
import { firstRun as walkThrough } from '../core/usecases/first-run.js';
import type { Context } from './context.js';

/** The first-run walk-through of `vault login <preset>` (see core/usecases/first-run.ts) on this process's terminal. */
export function firstRun(ctx: Context, name: string, opts: { device?: boolean; account?: string }): Promise<Provider> {
  return walkThrough({ ...ctx, prompt: ctx.ports().prompt }, name, opts);
}
