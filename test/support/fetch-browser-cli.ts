// A browser command for the CLI's login tests:
//   node --import tsx test/support/fetch-browser-cli.ts <authorization-url>
// Follows the authorization URL through the test server, then requests the loopback callback
// the CLI listens on. Prints nothing on stdout; exits 0 once the callback was answered (whatever
// the answer), 1 with the reason on stderr otherwise.
import { authorizeWithFetch } from './fetch-browser.js';

const [url] = process.argv.slice(2);
try {
  if (!url) throw new Error('usage: fetch-browser-cli.ts <authorization-url>');
  const callback = await authorizeWithFetch(url);
  const response = await fetch(callback, { redirect: 'manual' });
  await response.body?.cancel();
} catch (error) {
  process.stderr.write(`fetch-browser-cli: ${describe(error)}\n`);
  process.exitCode = 1;
}

// fetch() reports "fetch failed" and keeps the reason (say, ECONNREFUSED) in `cause`.
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message;
}
