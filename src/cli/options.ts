import { Option, type Command } from 'commander';
import { UsageError } from '../core/errors.js';
import type { CommandGrammar } from './grammar.js';

/** commander's collector for repeatable options. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function parseSeconds(value: string, flag: string): number {
  if (!/^\d+$/.test(value))
    throw new UsageError(`${flag} expects a whole number of seconds, got ${JSON.stringify(value)}`);
  return Number(value);
}

/** `--port`: 0 (any free port, the default) or a fixed one, for an SSH tunnel or a firewall rule. */
export function parsePort(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535)
    throw new UsageError(`--port expects a port number from 0 to 65535, got ${JSON.stringify(value)}`);
  return Number(value);
}

export function accountOption(description = 'account at the provider (default: $VAULT_ACCOUNT or "default")') {
  return new Option('-a, --account <name>', description);
}

export function scopeOption(description: string) {
  return new Option('--scope <scope>', description).argParser(collect);
}

export function nameOption() {
  return new Option(
    '--name <VAR>',
    "environment variable to set (repeatable; default: the provider's env names)",
  ).argParser(collect);
}

/** A whole number of seconds, parsed once here; help shows the default as it is typed. */
export function secondsOption(flags: string, description: string, fallback: number) {
  const flag = flags.split(' ')[0]!;
  return new Option(flags, description)
    .argParser((value: string) => parseSeconds(value, flag))
    .default(fallback, JSON.stringify(String(fallback)));
}

export function minValidOption(fallback: number, description = 'seconds the token must stay valid') {
  return secondsOption('--min-valid <sec>', description, fallback);
}

export function portOption(description: string) {
  return new Option('--port <n>', description).argParser(parsePort);
}

export function jsonOption() {
  return new Option('--json', 'one JSON document on stdout');
}

/**
 * Adds a command's options as its table declares them (grammar.ts), the table the cached-token
 * path reads argv by: one declaration for both.
 */
export function withOptions(command: Command, grammar: CommandGrammar): Command {
  for (const spec of grammar.options) {
    const flag = spec.flags.split(' ')[0]!;
    let option = new Option(spec.flags, spec.description);
    if (spec.kind === 'repeat') option = option.argParser(collect);
    if (spec.kind === 'seconds')
      option = option
        .argParser((value: string) => parseSeconds(value, flag))
        .default(spec.default, JSON.stringify(String(spec.default)));
    if (spec.kind === 'choice') option = option.choices(spec.choices!).default(spec.default);
    if (spec.conflicts) option = option.conflicts([...spec.conflicts]);
    command.addOption(option);
  }
  return command;
}
