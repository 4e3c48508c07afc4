// The options of the commands the cached-token path answers, declared once: commander builds them
// from this table (options.ts) and the cached-token path reads argv by it (fastArgs below), so the
// two cannot drift. It is part of dist/cached-token.cjs: it imports no commander.
import { ENV_FORMATS } from '../core/protocols/env-format.js';

/** One option of a command. `key` is commander's attribute name for it. */
export interface OptionSpec {
  /** As commander takes them: `-a, --account <name>`, `--json`. */
  flags: string;
  key: string;
  description: string;
  /** `value`: one value; `repeat`: collected into a list; `seconds`: a whole number; `flag`: no value. */
  kind: 'value' | 'repeat' | 'seconds' | 'choice' | 'flag';
  default?: number | string;
  choices?: readonly string[];
  /** Keys of options this one cannot be combined with. */
  conflicts?: readonly string[];
}

export interface CommandGrammar {
  options: readonly OptionSpec[];
}

const account: OptionSpec = {
  flags: '-a, --account <name>',
  key: 'account',
  kind: 'value',
  description: 'account at the provider (default: $VAULT_ACCOUNT or "default")',
};
const names: OptionSpec = {
  flags: '--name <VAR>',
  key: 'name',
  kind: 'repeat',
  description: "environment variable to set (repeatable; default: the provider's env names)",
};
const minValid = (fallback: number, description = 'seconds the token must stay valid'): OptionSpec => ({
  flags: '--min-valid <sec>',
  key: 'minValid',
  kind: 'seconds',
  default: fallback,
  description,
});

/** A new option or format (a `--format` choice) goes here, once, for both paths. */
export const GRAMMAR = {
  token: {
    options: [
      account,
      {
        flags: '--scope <scope>',
        key: 'scope',
        kind: 'repeat',
        description: 'ask for a subset of the granted scopes (repeatable)',
      },
      minValid(60, 'seconds the token must stay valid (capped at half its lifetime)'),
      {
        flags: '--force-refresh',
        key: 'forceRefresh',
        kind: 'flag',
        description: 'refresh even if the cached token is still valid',
      },
      {
        flags: '--json',
        key: 'json',
        kind: 'flag',
        description: 'print JSON with the expiry and scopes',
        conflicts: ['header'],
      },
      { flags: '--header', key: 'header', kind: 'flag', description: 'print "Authorization: Bearer <token>"' },
      {
        flags: '--format <format>',
        key: 'format',
        kind: 'choice',
        choices: ['headers-json'],
        conflicts: ['json', 'header'],
        description: 'headers-json: print {"Authorization":"Bearer <token>"} (headers helpers)',
      },
    ],
  },
  env: {
    options: [
      account,
      names,
      minValid(60),
      {
        flags: '--format <format>',
        key: 'format',
        kind: 'choice',
        choices: ENV_FORMATS,
        default: 'sh',
        description: 'output format',
      },
    ],
  },
  'kube-credential': { options: [account, minValid(60)] },
  exec: {
    options: [
      account,
      names,
      minValid(300),
      {
        flags: '--allow-nested',
        key: 'allowNested',
        kind: 'flag',
        description: 'run even inside `vault exec` for the same provider (see $VAULT_EXEC_PROVIDERS)',
      },
      {
        flags: '--token-file <VAR>',
        key: 'tokenFile',
        kind: 'value',
        description: 'keep the token in a private file, rewritten before it expires, and set VAR to its path',
      },
      {
        flags: '--gce',
        key: 'gce',
        kind: 'flag',
        description:
          'serve a GCE metadata endpoint for the command, so Google libraries and gcloud refresh through vault',
      },
      {
        flags: '--azure',
        key: 'azure',
        kind: 'flag',
        description: 'serve an Azure managed-identity endpoint for the command, so Azure SDKs refresh through vault',
      },
    ],
  },
} as const satisfies Record<string, CommandGrammar>;

export type GrammarName = keyof typeof GRAMMAR;

/** An option's spellings: `-a` and `--account`. */
export function spellings(spec: OptionSpec): string[] {
  return spec.flags.split(/[ ,]+/).filter((f) => f.startsWith('-'));
}

/** What a command line said, as commander would hand it to the action (positionals apart). */
export interface FastArgs {
  positionals: string[];
  options: Record<string, unknown>;
  /** `exec`: where its command starts (the index into argv), when a `--` or a command was met. */
  rest?: number;
}

/**
 * Reads `argv` (the command's own arguments, after its name) by `grammar`, or undefined for anything
 * out of the ordinary — help, unknown, repeated or combined short options, a missing or empty value,
 * a value that looks like an option, a bad number or choice, conflicting flags, `--` — which is
 * commander's to read and report. `stopAt(i, positionals)` ends the options at argv[i] (exec's
 * command); without it a `--` is declined. What this accepts means exactly what commander makes of it.
 */
export function fastArgs(
  grammar: CommandGrammar,
  argv: readonly string[],
  stopAt?: (i: number, positionals: readonly string[]) => boolean,
): FastArgs | undefined {
  const options: Record<string, unknown> = {};
  for (const spec of grammar.options) if (spec.default !== undefined) options[spec.key] = spec.default;
  const seen = new Set<string>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-') || arg === '-') {
      if (stopAt?.(i, positionals)) return { positionals, options, rest: i };
      positionals.push(arg);
      continue;
    }
    if (arg === '--') return stopAt ? { positionals, options, rest: i + 1 } : undefined;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const spec = grammar.options.find((o) => spellings(o).includes(name));
    if (!spec) return undefined;
    if (spec.kind === 'flag') {
      if (eq !== -1 || seen.has(spec.key)) return undefined;
      seen.add(spec.key);
      options[spec.key] = true;
      continue;
    }
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined || value === '' || value.startsWith('-')) return undefined;
    if (spec.kind === 'repeat') {
      options[spec.key] = [...((options[spec.key] as string[] | undefined) ?? []), value];
      continue;
    }
    if (seen.has(spec.key)) return undefined;
    seen.add(spec.key);
    if (spec.kind === 'seconds') {
      // Anything but a whole number is commander's to report.
      if (!/^\d+$/.test(value)) return undefined;
      options[spec.key] = Number(value);
    } else if (spec.kind === 'choice') {
      if (!spec.choices!.includes(value)) return undefined;
      options[spec.key] = value;
    } else options[spec.key] = value;
  }
  for (const spec of grammar.options)
    if (seen.has(spec.key) && spec.conflicts?.some((c) => seen.has(c))) return undefined;
  return stopAt ? undefined : { positionals, options };
}
