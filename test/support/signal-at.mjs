// Preloaded (node --import) into a vault process by tests, never shipped: the process sends itself
// $VAULT_TEST_SIGNAL (default SIGKILL; SIGSTOP pauses it as Ctrl-Z would) the moment it has
// written a stderr line matching $VAULT_TEST_SIGNAL_AT, a regular expression. vault's --debug lines
// come right after the step they name (the stores write synchronously), so the signal lands
// exactly between two steps, with no pause or hook in src.
const pattern = new RegExp(process.env.VAULT_TEST_SIGNAL_AT ?? '(?!)');
const signal = process.env.VAULT_TEST_SIGNAL ?? 'SIGKILL';
const write = process.stderr.write.bind(process.stderr);
process.stderr.write = (chunk, ...rest) => {
  const written = write(chunk, ...rest);
  if (pattern.test(String(chunk))) process.kill(process.pid, signal);
  return written;
};
