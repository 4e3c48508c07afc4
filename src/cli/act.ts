import type { Context, Outcome } from './context.js';

/** What a command does with its options, in the module that its action loads. */
export type Run<O> = (ctx: Context, opts: O) => Promise<Outcome>;

/** The arguments commander hands an action: the positional ones, the flags, the command. */
type ActionArgs = unknown[];

/**
 * A command's action: the parsed command line as the options object `parse` builds from it, run
 * by the function `load` imports on first use, its result the command's outcome. The context is
 * ready by then (the root's preAction hook), and help or a usage error loads nothing.
 */
export function act<O>(
  ctx: Context,
  load: () => Promise<Run<O>>,
  parse: (...args: never[]) => object = providerAndFlags,
) {
  return async (...args: ActionArgs): Promise<void> => {
    // commander's values are untyped: the options interface beside the run function says what they are.
    const opts = (parse as (...a: ActionArgs) => O)(...args);
    ctx.outcome = await (await load())(ctx, opts);
  };
}

/** `[provider]` and the flags: the options of most commands. */
export function providerAndFlags(provider: string | undefined, flags: object): object {
  return { ...flags, provider };
}
