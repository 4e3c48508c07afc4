import type { Command } from 'commander';
import type { Context } from './context.js';

/**
 * `vault exec` needs no `--`: the first argument after the provider that is not one of exec's own
 * options starts the command (`vault exec acme ls -la`), as `env`, `sudo` and `aws-vault exec`
 * read their command lines. This puts the `--` in, so that commander never takes the command's
 * options for exec's, and names the default provider (`VAULT_PROVIDER`, or the only one
 * configured) when none is given. Any other command line is returned as it is.
 */
export async function withExecSeparator(program: Command, argv: string[], ctx: Context): Promise<string[]> {
  // Global options come first and take no value.
  const at = argv.findIndex((a) => !a.startsWith('-'));
  const exec = program.commands.find((c) => c.name() === 'exec');
  if (at === -1 || argv[at] !== 'exec' || !exec) return argv;
  // Which argument is a provider depends on the configuration.
  await ctx.ready();
  const takesValue = new Map<string, boolean>();
  for (const option of exec.options) {
    for (const flag of [option.short, option.long]) if (flag) takesValue.set(flag, option.required || option.optional);
  }
  let provider: string | undefined;
  for (let i = at + 1; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      return provider === undefined ? withDefault(argv, i, ctx) : argv;
    }
    if (arg.startsWith('-') && arg !== '-') {
      // `--name=X` and `-aX` carry their value; `--name X` and `-a X` take the next argument.
      if (takesValue.get(arg) === true) i++;
      continue;
    }
    if (provider !== undefined) return [...argv.slice(0, i), '--', ...argv.slice(i)];
    if (argv.includes('--', i) || isConfigured(arg, ctx) || defaultProvider(ctx) === undefined) {
      provider = arg;
      continue;
    }
    return withDefault(argv, i, ctx, true);
  }
  return argv;
}

/** Inserts the default provider (and `--`, unless one is there) before argv[i]. */
function withDefault(argv: string[], i: number, ctx: Context, addSeparator = false): string[] {
  const name = defaultProvider(ctx);
  if (name === undefined) return argv;
  return [...argv.slice(0, i), name, ...(addSeparator ? ['--'] : []), ...argv.slice(i)];
}

function isConfigured(name: string, ctx: Context): boolean {
  try {
    return Object.hasOwn(ctx.config().providers, name);
  } catch {
    return false;
  }
}

/** The provider used when none is named; undefined when there is none (the command then says why). */
function defaultProvider(ctx: Context): string | undefined {
  try {
    return ctx.provider(undefined).name;
  } catch {
    return undefined;
  }
}
