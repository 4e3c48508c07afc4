import type { Command } from 'commander';
import { resolveProvider } from '../core/config/providers.js';
import { loadConfig } from '../infra/config-file.js';
import { configFile } from '../infra/paths.js';

/**
 * `vault exec` needs no `--`: the first argument after the provider that is not one of exec's own
 * options starts the command (`vault exec acme ls -la`), as `env`, `sudo` and `aws-vault exec`
 * read their command lines. This puts the `--` in, so that commander never takes the command's
 * options for exec's, and names the default provider (`VAULT_PROVIDER`, or the only one
 * configured) when none is given. Any other command line is returned as it is.
 */
export function execArgv(program: Command, argv: string[], env: NodeJS.ProcessEnv): string[] {
  // Global options come first and take no value.
  const at = argv.findIndex((a) => !a.startsWith('-'));
  const exec = program.commands.find((c) => c.name() === 'exec');
  if (at === -1 || argv[at] !== 'exec' || !exec) return argv;
  const takesValue = new Map<string, boolean>();
  for (const option of exec.options) {
    for (const flag of [option.short, option.long]) if (flag) takesValue.set(flag, option.required || option.optional);
  }
  let provider: string | undefined;
  for (let i = at + 1; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      return provider === undefined ? withDefault(argv, i, env) : argv;
    }
    if (arg.startsWith('-') && arg !== '-') {
      // `--name=X` and `-aX` carry their value; `--name X` and `-a X` take the next argument.
      if (takesValue.get(arg) === true) i++;
      continue;
    }
    if (provider !== undefined) return [...argv.slice(0, i), '--', ...argv.slice(i)];
    if (argv.includes('--', i) || isConfigured(arg, env) || defaultProvider(env) === undefined) {
      provider = arg;
      continue;
    }
    return withDefault(argv, i, env, true);
  }
  return argv;
}

/** Inserts the default provider (and `--`, unless one is there) before argv[i]. */
function withDefault(argv: string[], i: number, env: NodeJS.ProcessEnv, addSeparator = false): string[] {
  const name = defaultProvider(env);
  if (name === undefined) return argv;
  return [...argv.slice(0, i), name, ...(addSeparator ? ['--'] : []), ...argv.slice(i)];
}

function isConfigured(name: string, env: NodeJS.ProcessEnv): boolean {
  try {
    return Object.hasOwn(loadConfig(configFile(env)).providers, name);
  } catch {
    return false;
  }
}

/** The provider used when none is named; undefined when there is none (the command then says why). */
function defaultProvider(env: NodeJS.ProcessEnv): string | undefined {
  try {
    const file = configFile(env);
    return resolveProvider(loadConfig(file), undefined, env, file).name;
  } catch {
    return undefined;
  }
}
