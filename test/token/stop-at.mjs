// Preloaded (node --import) into a vault process by the paused-holder test, never shipped: the
// process stops itself (SIGSTOP, as Ctrl-Z would) the moment it has written a stderr line matching
// $VAULT_TEST_STOP_AT, so the pause lands exactly between two steps of a refresh.
const pattern = new RegExp(process.env.VAULT_TEST_STOP_AT ?? '(?!)');
const write = process.stderr.write.bind(process.stderr);
process.stderr.write = (chunk, ...rest) => {
  const written = write(chunk, ...rest);
  if (pattern.test(String(chunk))) process.kill(process.pid, 'SIGSTOP');
  return written;
};
