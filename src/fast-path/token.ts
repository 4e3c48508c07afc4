import { scopeList } from '../core/provider-edit.js';
import { GRAMMAR } from '../cli/grammar.js';
import { formatToken } from '../cli/token-output.js';
import type { TokenOptions } from '../cli/commands/token.js';
import { withProvider, type Answer, type Call } from './call.js';

/** A `vault token` call recognised without commander. */
export interface FastToken {
  provider: string | undefined;
  options: Omit<TokenOptions, 'provider'>;
}

/**
 * Recognises the plain forms of `vault token [provider] [options]`, the call scripts and git make
 * all day, without commander (which alone costs more start-up than the rest of this path), by the
 * options table both read (cli/grammar.ts). Anything else — help, --debug, unknown or repeated
 * options, a missing value, conflicting flags — returns undefined and goes through the full
 * command-line parser, which owns the messages for those cases.
 */
export function parseFastToken(argv: readonly string[]): FastToken | undefined {
  if (argv[0] !== 'token') return undefined;
  return withProvider(GRAMMAR.token, argv.slice(1)) as FastToken | undefined;
}

export async function token(call: Call, argv: readonly string[]): Promise<Answer> {
  const fast = parseFastToken(argv);
  if (!fast || fast.options.forceRefresh) return undefined;
  const provider = call.provider(fast.provider);
  const account = call.account(fast.options.account);
  const record = await call.token(provider, account, fast.options.minValid, scopeList(fast.options.scope));
  return record && { stdout: formatToken(record, fast.options, provider.name, account, call.now()) };
}
