// Preloaded (node --import) into a vault process by the crash tests, never shipped: the process
// SIGKILLs itself the moment it has written a stderr line matching $VAULT_TEST_DIE_AT, a regular
// expression. vault's --debug lines come right after the step they name (the stores write
// synchronously), so this is a SIGKILL landing exactly between two steps, with no pause in src.
const pattern = new RegExp(process.env.VAULT_TEST_DIE_AT ?? '(?!)');
const write = process.stderr.write.bind(process.stderr);
process.stderr.write = (chunk, ...rest) => {
  const written = write(chunk, ...rest);
  if (pattern.test(String(chunk))) process.kill(process.pid, 'SIGKILL');
  return written;
};
