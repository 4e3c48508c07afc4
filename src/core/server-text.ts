/** How much of a server's text is shown, after escaping. */
const SERVER_TEXT_MAX = 200;

// C0 and C1 controls, DEL, line and paragraph separators, and the bidirectional overrides that can
// make a terminal show text in another order than it was written (Trojan Source, CVE-2021-42574).
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\\': '\\\\' };

function escapeChar(c: string): string {
  if (NAMED[c]) return NAMED[c]!;
  if (!UNSAFE.test(c)) return c;
  const code = c.codePointAt(0)!;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * Text that came from a server (an email, a scope, an error code or description), made safe to
 * print: control characters, newlines and bidirectional overrides escaped, so no terminal escape
 * sequence or forged line can reach the terminal, and cut to SERVER_TEXT_MAX characters.
 */
export function serverText(text: string): string {
  let out = '';
  for (const c of text) {
    const piece = escapeChar(c);
    if (out.length + piece.length > SERVER_TEXT_MAX) return `${out}…`;
    out += piece;
  }
  return out;
}
