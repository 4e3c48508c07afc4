/**
 * A `vault …` command that a message suggests running. Every hint is built here so that it acts on
 * the same login the user is working with: `-a ACCOUNT` follows the positional arguments (before
 * the first flag) whenever the account is not `default`; without it, following the hint would act
 * on the default account.
 */
export function suggest(args: readonly string[], opts: { account?: string } = {}): string {
  const account = opts.account !== undefined && opts.account !== 'default' ? ['-a', opts.account] : [];
  const firstFlag = args.findIndex((a) => a.startsWith('-'));
  const at = firstFlag < 0 ? args.length : firstFlag;
  return ['vault', ...args.slice(0, at), ...account, ...args.slice(at)].join(' ');
}
