import { chosenAccount } from './core/config/names.js';
import { resolveProvider } from './core/config/providers.js';
import { cachedAccessToken } from './core/usecases/get-token.js';
import { loadConfig } from './infra/config-file.js';
import { configFile } from './infra/paths.js';
import { fastStore } from './infra/stores/choice.js';
import { processIo, writeAllSync } from './infra/io.js';
import type { TokenOptions } from './cli/commands/token.js';
import { tokenOutput } from './cli/token-output.js';
import type { Deps, ProcessReads } from './core/ports.js';

/** A `vault token` call recognised without commander. */
export interface FastToken {
  provider: string;
  options: Omit<TokenOptions, 'provider'>;
}

const VALUE_OPTIONS: Record<string, 'account' | 'scope' | 'minValid'> = {
  '-a': 'account',
  '--account': 'account',
  '--scope': 'scope',
  '--min-valid': 'minValid',
};
const FLAGS: Record<string, 'forceRefresh' | 'json' | 'header'> = {
  '--force-refresh': 'forceRefresh',
  '--json': 'json',
  '--header': 'header',
};

/**
 * Recognises the plain forms of `vault token <provider> [options]`, the call scripts and git make
 * all day, without commander (which alone costs more start-up than the rest of this path).
 * Anything else — help, --debug, unknown or repeated options, a missing value, conflicting
 * flags — returns undefined and goes through the full command-line parser, which owns the
 * messages for those cases. What this accepts must mean exactly what commander makes of it.
 */
export function parseFastToken(argv: readonly string[]): FastToken | undefined {
  if (argv[0] !== 'token') return undefined;
  const options: FastToken['options'] = { minValid: 60 };
  const seen = new Set<string>();
  let provider: string | undefined;
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-')) {
      if (provider !== undefined) return undefined;
      provider = arg;
      continue;
    }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const key = VALUE_OPTIONS[name];
    if (key) {
      const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
      if (value === undefined || value === '' || value.startsWith('-')) return undefined;
      if (key === 'scope') {
        options.scope = [...(options.scope ?? []), value];
        continue;
      }
      if (seen.has(key)) return undefined;
      seen.add(key);
      if (key === 'account') options.account = value;
      // Anything but a whole number is commander's to report.
      else if (/^\d+$/.test(value)) options.minValid = Number(value);
      else return undefined;
      continue;
    }
    const flag = FLAGS[arg];
    if (!flag || seen.has(flag)) return undefined;
    seen.add(flag);
    options[flag] = true;
  }
  if (provider === undefined || (options.json && options.header)) return undefined;
  return { provider, options };
}

/**
 * The cached-token path, bundled on its own as dist/cached-token.cjs (CommonJS starts faster than
 * the ESM loader, and the bundle holds nothing else): prints the token and resolves true when a
 * plain `vault token` call can be answered from the cache (or VAULT_<NAME>_ACCESS_TOKEN).
 * Anything else — a refresh to do, --debug, an error of any kind — resolves without output, and
 * the full CLI runs as if this had not been tried (and reports the error, if any), handed what
 * this path read (config.toml, the file store) so that it need not read them again.
 */
export async function printCachedToken(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<true | ProcessReads | undefined> {
  const fast = parseFastToken(argv);
  if (!fast || fast.options.forceRefresh || env.VAULT_DEBUG) return undefined;
  const reads: ProcessReads = {};
  const deps: Deps = { io: processIo(), env, clock: { now: () => Date.now() }, debug: () => {}, reads };
  let output: string | undefined;
  try {
    // A store without a light reader (see StoreKind.fast) is the full CLI's.
    const store = fastStore(deps);
    if (!store) return reads;
    const file = configFile(env);
    output = await tokenOutput(
      {
        env,
        clock: deps.clock,
        provider: (name) => resolveProvider(loadConfig(file, reads), name, env, file),
        account: (flag) => chosenAccount(flag, env),
      },
      { ...fast.options, provider: fast.provider },
      (req) => cachedAccessToken(req, { store, clock: deps.clock }),
    );
  } catch {
    return reads;
  }
  if (output === undefined) return reads;
  // Once output has begun there is no falling back: a failed write is the command's failure,
  // except a reader that went away (`vault token acme | head -c 10`), which ends quietly.
  try {
    writeAllSync(1, output);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
  }
  return true;
}
