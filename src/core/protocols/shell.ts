/**
 * Quoting for the shells vault prints code for: the only place a value is made safe for a shell
 * (`vault env`, `vault serve`, the git credential helper command).
 */

/** POSIX sh single quotes: nothing inside is special, a `'` ends them; `'\''` puts one back. */
export function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** fish single quotes: only `\\` and `\'` are escapes inside them (fish-doc "Quotes"). */
export function fishQuote(value: string): string {
  return `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

// PowerShell treats the typographic single quotes as `'` too (about_Quoting_Rules); inside a
// single-quoted string, a quote character is escaped by doubling it.
const PS_QUOTES = /['\u2018\u2019\u201A\u201B]/g;

/**
 * A PowerShell expression for `value`: single-quoted pieces, with line breaks joined in as
 * "`n" / "`r", so every assignment stays on one line and survives `| Invoke-Expression`, which
 * runs each piped line on its own.
 */
export function powershellQuote(value: string): string {
  const parts: string[] = [];
  for (const piece of value.split(/(\r|\n)/)) {
    if (piece === '\n') parts.push('"`n"');
    else if (piece === '\r') parts.push('"`r"');
    else if (piece !== '' || parts.length === 0) parts.push(`'${piece.replace(PS_QUOTES, (c) => c + c)}'`);
  }
  return parts.join(' + ');
}
