import { VaultError } from '../errors.js';
import { fishQuote, powershellQuote, shQuote } from './shell.js';

export const ENV_FORMATS = ['sh', 'fish', 'powershell', 'dotenv', 'json', 'github-actions'] as const;
export type EnvFormat = (typeof ENV_FORMATS)[number];

// RFC 6750 §2.1 b64token: the characters a bearer token is made of. .env parsers disagree on
// quotes and escapes, so only values from this set are written, unquoted.
const DOTENV_SAFE = /^[A-Za-z0-9\-._~+/]+=*$/;

/** One `NAME=value` per name, for the formats that print to stdout. */
export function formatAssignments(
  format: Exclude<EnvFormat, 'github-actions'>,
  names: readonly string[],
  token: string,
): string {
  switch (format) {
    case 'sh':
      return names.map((n) => `export ${n}=${shQuote(token)}\n`).join('');
    case 'fish':
      return names.map((n) => `set -gx ${n} ${fishQuote(token)};\n`).join('');
    case 'powershell':
      return names.map((n) => `$Env:${n} = ${powershellQuote(token)}\n`).join('');
    case 'dotenv':
      if (!DOTENV_SAFE.test(token)) {
        throw new VaultError(
          'failure',
          'the token contains characters a .env file cannot carry unquoted; use --format sh or json',
        );
      }
      return names.map((n) => `${n}=${token}\n`).join('');
    case 'json':
      return `${JSON.stringify(Object.fromEntries(names.map((n) => [n, token])))}\n`;
  }
}

/** GitHub Actions' escaping of workflow command data (@actions/core `escapeData`). */
function escapeWorkflowData(value: string): string {
  return value.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/**
 * `::add-mask::` lines for stdout, one per line of the value: the runner masks what it is given,
 * so a multi-line value is masked line by line as well as whole.
 */
export function githubMaskCommands(token: string): string {
  const lines = token.split('\n').filter((l) => l !== '' && l !== token);
  return [token, ...lines].map((v) => `::add-mask::${escapeWorkflowData(v)}\n`).join('');
}

/**
 * The lines appended to $GITHUB_ENV, in the multi-line form `NAME<<DELIM`, value, `DELIM` that
 * @actions/core writes. The runner reads that file line by line (a CR ends a line too), so a value
 * with a CR, or one containing the delimiter, could not come back intact and is refused.
 */
export function githubEnvFileLines(names: readonly string[], token: string, delimiter: string): string {
  if (token.includes('\r')) {
    throw new VaultError('failure', 'the token contains a carriage return, which $GITHUB_ENV cannot carry');
  }
  if (token.includes(delimiter)) {
    throw new VaultError('failure', 'the token contains the $GITHUB_ENV delimiter; run the command again');
  }
  return names.map((n) => `${n}<<${delimiter}\n${token}\n${delimiter}\n`).join('');
}
