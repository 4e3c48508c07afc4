import type { Deps } from '../infra/io.js';
import type { TokenOptions } from './commands/token.js';
import { reportFailure } from './report.js';

/** A `vault token` call recognised without commander. */
export interface FastToken {
  provider: string;
  options: TokenOptions;
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
 * all day, so it runs without loading commander (about a fifth of the start-up of a cached-token
 * call). Anything else — help, --debug, unknown or repeated options, a missing value, conflicting
 * flags — returns undefined and goes through the full command-line parser, which owns the
 * messages for those cases. What this accepts must mean exactly what commander makes of it.
 */
export function parseFastToken(argv: readonly string[]): FastToken | undefined {
  if (argv[0] !== 'token') return undefined;
  const options: TokenOptions = { minValid: '60' };
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
      options[key] = value;
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

/** Runs a recognised `vault token` call; failures are reported as the full CLI reports them. */
export async function runFastToken(fast: FastToken, deps: Deps): Promise<number> {
  try {
    const { run } = await import('./commands/token.js');
    return await run(deps, fast.provider, fast.options);
  } catch (error) {
    return reportFailure(error, deps);
  }
}
