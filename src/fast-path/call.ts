import { fastArgs, type CommandGrammar } from '../cli/grammar.js';
import type { Config, Provider } from '../core/config/providers.js';
import type { AccessRecord } from '../core/credentials.js';
import type { ProcessReads } from '../core/ports.js';
import { readSomeSync } from '../infra/io.js';

/** One positional at most (the provider): what `[provider]` commands take. */
export function withProvider(grammar: CommandGrammar, argv: readonly string[]) {
  const read = fastArgs(grammar, argv);
  if (!read || read.positionals.length > 1) return undefined;
  return { provider: read.positionals[0], options: read.options };
}

/** What the calls share: the environment, the configuration and the store, read at most once. */
export interface Call {
  env: NodeJS.ProcessEnv;
  reads: ProcessReads;
  now: () => number;
  config(): Config;
  provider(name: string | undefined): Provider;
  account(flag: string | undefined): string;
  /** The cached access token (or VAULT_<NAME>_ACCESS_TOKEN), valid for minValid s; undefined: a miss. */
  token(provider: Provider, account: string, minValid: number, scopes?: string[]): Promise<AccessRecord | undefined>;
}

/** What an answer is: text for stdout, or (exec) the exit status of a child that ran. */
export type Answer = { stdout: string; after?: () => Promise<void> } | { exitCode: number } | undefined;

/** Reads stdin without a stream object until `done(text)` or its end; hands what it read over on a miss. */
export function readInput(reads: ProcessReads, limit: number, done: (text: string) => boolean): string | undefined {
  const chunks: Buffer[] = [];
  const buffer = Buffer.allocUnsafe(16 * 1024);
  let size = 0;
  let ended = false;
  for (;;) {
    const n = readSomeSync(0, buffer);
    if (n === 0) {
      ended = true;
      break;
    }
    chunks.push(Buffer.from(buffer.subarray(0, n)));
    size += n;
    if (size > limit) break;
    if (done(Buffer.concat(chunks).toString('utf8'))) break;
  }
  const bytes = Buffer.concat(chunks);
  reads.stdin = { bytes, ended };
  return size > limit ? undefined : bytes.toString('utf8');
}
