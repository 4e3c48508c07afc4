// A second Unix user on this machine (tests run as root, as CI does): created without a home or a
// login shell if it is missing, and commands run as it through `su`, for the checks that vault's
// loopback servers serve only their own user.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { runCommand, type RunResult } from './cli.js';

export const OTHER_USER = 'vault-mallory';

function uidOf(name: string): number | undefined {
  try {
    return Number(execFileSync('id', ['-u', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    return undefined;
  }
}

/** The other user's uid, creating the user first if needed. */
export async function otherUser(): Promise<number> {
  assert.equal(process.getuid?.(), 0, 'creating a second user needs root (CI runs the tests as root)');
  for (let attempt = 0; attempt < 20; attempt++) {
    const uid = uidOf(OTHER_USER);
    if (uid !== undefined) return uid;
    // Suites running side by side may race for /etc/passwd's lock: the loser tries again.
    const made = await runCommand('useradd', ['-M', '-s', '/usr/sbin/nologin', OTHER_USER], {
      env: process.env,
      timeoutMs: 30_000,
    });
    if (made.code !== 0) await new Promise((r) => setTimeout(r, 100));
  }
  const uid = uidOf(OTHER_USER);
  assert.ok(uid !== undefined, `cannot create the user ${OTHER_USER}`);
  return uid;
}

/** Runs `command` with /bin/sh as the other user, `input` on its stdin (killed after `timeoutMs`). */
export async function asOtherUser(command: string, input = '', timeoutMs = 30_000): Promise<RunResult> {
  await otherUser();
  return runCommand('su', ['-s', '/bin/sh', OTHER_USER, '-c', command], {
    env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' },
    cwd: '/',
    input,
    timeoutMs,
  });
}

export interface CurlAnswer {
  /** The HTTP status, 0 when no answer came. */
  status: number;
  body: string;
}

/**
 * `curl` run by the other user: one GET of `url` with `headers`, no proxy, no redirect followed.
 * The URL and headers go in on stdin (`curl -K -`), so a code or state in them is in no argv.
 */
export async function curlAsOtherUser(url: string, headers: Record<string, string> = {}): Promise<CurlAnswer> {
  const config = [
    `url = ${JSON.stringify(url)}`,
    ...Object.entries(headers).map(([n, v]) => `header = ${JSON.stringify(`${n}: ${v}`)}`),
  ];
  const result = await asOtherUser(
    "curl -s -K - --noproxy '*' --max-time 20 -w '\\n%{http_code}'",
    `${config.join('\n')}\n`,
  );
  const cut = result.stdout.lastIndexOf('\n');
  return { status: Number(result.stdout.slice(cut + 1)) || 0, body: result.stdout.slice(0, Math.max(cut, 0)) };
}
