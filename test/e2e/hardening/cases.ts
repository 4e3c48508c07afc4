// The case tables of the hardening suites. The suites iterate over them, and
// reliability-readme.test.ts checks that docs/reliability.md counts exactly these, so
// the numbers there are always the ones the suite runs.
import type { Fault } from '../../support/fault-proxy.js';

const json = { 'content-type': 'application/json' };

export interface ServerFaultCase {
  name: string;
  /** `refused`: the proxy stops listening, so every connection to it is refused. */
  fault: Fault | 'refused';
  /** README "Exit codes": 4 for network, timeout, 5xx and 429 after retries; 1 for an answer that is not OAuth. */
  exit: 1 | 4;
  /**
   * Requests sent to the token endpoint: 3 when retried (1 + VAULT's 2 retries); 1 when retrying
   * cannot help, or when the request may have reached the server (`unknown`).
   */
  attempts: 1 | 3;
  /** Expected in the one-line error message. */
  message: RegExp;
  /** Smallest gap between two attempts, when the case promises one (Retry-After). */
  minGapMs?: number;
  /**
   * The request was written and no complete answer came (or a 5xx other than 503): the server may
   * have rotated the refresh token, so it is not sent again, and the message says what to do.
   */
  unknown?: true;
  /** VAULT_HTTP_TIMEOUT for the case (default 1). */
  httpTimeout?: number;
}

/** A grant request once written is awaited this long at least (GRANT_ANSWER_WAIT_MS in src/infra/oauth/one-shot.ts). */
export const GRANT_ANSWER_WAIT_S = 60;

export const SERVER_FAULTS: ServerFaultCase[] = [
  {
    name: '503 without Retry-After',
    fault: { kind: 'status', status: 503, body: 'maintenance' },
    exit: 4,
    attempts: 3,
    message: /HTTP 503/,
  },
  {
    name: '503 with Retry-After: 1 (honoured between attempts)',
    fault: { kind: 'status', status: 503, headers: { 'retry-after': '1' } },
    exit: 4,
    attempts: 3,
    message: /HTTP 503/,
    minGapMs: 1000,
  },
  {
    name: '503 with Retry-After: 120 (longer than vault waits: no retry)',
    fault: { kind: 'status', status: 503, headers: { 'retry-after': '120' } },
    exit: 4,
    attempts: 1,
    message: /HTTP 503/,
  },
  {
    name: '429 with Retry-After: 1',
    fault: { kind: 'status', status: 429, headers: { 'retry-after': '1' } },
    exit: 4,
    attempts: 3,
    message: /HTTP 429/,
    minGapMs: 1000,
  },
  {
    name: '500 with an OAuth error body (a 5xx is temporary whatever it says)',
    fault: { kind: 'status', status: 500, headers: json, body: '{"error":"invalid_grant"}' },
    exit: 4,
    attempts: 1,
    message: /HTTP 500/,
    unknown: true,
  },
  {
    name: '502 from a gateway, HTML body',
    fault: { kind: 'status', status: 502, headers: { 'content-type': 'text/html' }, body: '<h1>Bad Gateway</h1>' },
    exit: 4,
    attempts: 1,
    message: /HTTP 502/,
    unknown: true,
  },
  {
    name: '504 from a gateway',
    fault: { kind: 'status', status: 504, body: 'upstream timed out' },
    exit: 4,
    attempts: 1,
    message: /HTTP 504/,
    unknown: true,
  },
  {
    name: 'connection reset once the request arrived',
    fault: { kind: 'reset' },
    exit: 4,
    attempts: 1,
    message: /connection closed/,
    unknown: true,
  },
  {
    name: `no answer at all (VAULT_HTTP_TIMEOUT=1: waited ${GRANT_ANSWER_WAIT_S} s once sent)`,
    fault: { kind: 'hang' },
    exit: 4,
    attempts: 1,
    message: /timed out/,
    unknown: true,
  },
  {
    name: 'connection dropped in the middle of the body',
    fault: { kind: 'cut', length: 400, body: '{"access_token":"partial' },
    exit: 4,
    attempts: 1,
    message: /connection closed/,
    unknown: true,
  },
  { name: 'connection refused', fault: 'refused', exit: 4, attempts: 3, message: /connection refused/ },
  {
    name: '200 with a truncated JSON body (complete HTTP message)',
    fault: { kind: 'status', status: 200, headers: json, body: '{"access_token":"partial' },
    exit: 1,
    attempts: 1,
    message: /malformed JSON/,
  },
  {
    name: '200 with an HTML page instead of JSON',
    fault: { kind: 'status', status: 200, headers: { 'content-type': 'text/html' }, body: '<html>Sign in</html>' },
    exit: 1,
    attempts: 1,
    message: /HTTP 200 with text\/html, not JSON/,
  },
  {
    name: '200 JSON without access_token',
    fault: { kind: 'status', status: 200, headers: json, body: '{"token_type":"Bearer","expires_in":300}' },
    exit: 1,
    attempts: 1,
    message: /"access_token"/,
  },
  {
    name: '200 JSON that is not an object',
    fault: { kind: 'status', status: 200, headers: json, body: '["not","an","object"]' },
    exit: 1,
    attempts: 1,
    message: /not a valid OAuth response/,
  },
];

/**
 * A refresh grant that reached the server, which rotated the refresh token, with its answer late,
 * cut or replaced on the way back; and a provider's declared rotation grace.
 */
export interface SentGrantCase {
  name: string;
  fault: Fault;
  /** Only the first `times` requests get the fault. */
  times?: number;
  /** VAULT_HTTP_TIMEOUT for the case (default 3). */
  httpTimeout?: number;
  /** `rotation_grace` of the provider, in seconds. */
  rotationGrace?: number;
  exit: 0 | 4;
  /** Requests sent to the token endpoint. */
  attempts: 1 | 2;
  /** Refresh grants the server performed. */
  refreshes: 0 | 1;
  /**
   * The next `vault token --force-refresh`: 0, the login was kept; 3, the server rotated and the
   * new refresh token never arrived, so the stored one is spent: log in again.
   */
  next: 0 | 3;
}

export const SENT_GRANT_CASES: SentGrantCase[] = [
  {
    name: 'answer 6 s late with VAULT_HTTP_TIMEOUT=3: awaited, the rotated token stored',
    fault: { kind: 'delay-response', ms: 6000 },
    httpTimeout: 3,
    exit: 0,
    attempts: 1,
    refreshes: 1,
    next: 0,
  },
  {
    name: 'answer cut after the server rotated',
    fault: { kind: 'cut-answer' },
    exit: 4,
    attempts: 1,
    refreshes: 1,
    next: 3,
  },
  {
    name: '502 from a gateway after the server rotated',
    fault: { kind: 'status', status: 502, body: 'Bad Gateway', forwarded: true },
    exit: 4,
    attempts: 1,
    refreshes: 1,
    next: 3,
  },
  {
    name: 'rotation_grace = 30: a 502 before the server, then one retry that succeeds',
    fault: { kind: 'status', status: 502, body: 'Bad Gateway' },
    times: 1,
    rotationGrace: 30,
    exit: 0,
    attempts: 2,
    refreshes: 1,
    next: 0,
  },
  {
    name: 'rotation_grace = 30: a 502 every time, one retry only',
    fault: { kind: 'status', status: 502, body: 'Bad Gateway' },
    rotationGrace: 30,
    exit: 4,
    attempts: 2,
    refreshes: 0,
    next: 0,
  },
];

export interface CrashStage {
  name: string;
  /** How the process is stopped there: SIGKILL right after a --debug line, or while the proxy holds the exchange. */
  how: { dieAfterLine: RegExp } | { proxy: 'hold-request' | 'hold-response' };
  /** Whether the server had rotated the refresh token when the process died. */
  rotated: boolean;
  /** What the store holds afterwards: the old login, or the rotated refresh token (and the new access token). */
  stored: 'old' | 'new refresh token' | 'new refresh and access token';
  /** Exit code of the next `vault token`: 0 (no login needed) or 3 (the rotated token died with the process). */
  next: 0 | 3;
  stores: Array<'file' | 'keychain'>;
}

export const CRASH_STAGES: CrashStage[] = [
  {
    name: 'refresh lock taken',
    how: { dieAfterLine: /lock acme\.default: acquired/ },
    rotated: false,
    stored: 'old',
    next: 0,
    stores: ['file', 'keychain'],
  },
  {
    name: 'refresh request sent, held before the server',
    how: { proxy: 'hold-request' },
    rotated: false,
    stored: 'old',
    next: 0,
    stores: ['file'],
  },
  {
    name: 'server answered (rotated), answer held in transit',
    how: { proxy: 'hold-response' },
    rotated: true,
    stored: 'old',
    next: 3,
    stores: ['file'],
  },
  {
    name: 'answer received, before the store write',
    how: { dieAfterLine: /HTTP POST \S+\/token → 200/ },
    rotated: true,
    stored: 'old',
    next: 3,
    stores: ['file', 'keychain'],
  },
  {
    name: 'rotated refresh token written',
    how: { dieAfterLine: /store: rotated refresh token written/ },
    rotated: true,
    // One commit stores the rotated refresh token and the new access token together.
    stored: 'new refresh and access token',
    next: 0,
    stores: ['file', 'keychain'],
  },
  {
    name: 'access token written',
    how: { dieAfterLine: /store: access token cached/ },
    rotated: true,
    stored: 'new refresh and access token',
    next: 0,
    stores: ['file', 'keychain'],
  },
];

/** Every (stage, store) the crash suite runs. */
export const CRASH_RUNS = CRASH_STAGES.flatMap((stage) => stage.stores.map((store) => ({ stage, store })));

/**
 * A signal that arrives while the answer a command waits for is held in flight by the proxy: the
 * refresh grant (`refresh`), the code exchange of a re-login (`login`) or the revocation (`logout`).
 */
export interface SignalCase {
  command: string;
  kind: 'refresh' | 'login' | 'logout';
  args: string[];
  signal: 'SIGINT' | 'SIGTERM' | 'SIGHUP';
  store: 'file' | 'keychain';
  /** What the command reads on stdin. */
  input?: string;
}

export const SIGNAL_CASES: SignalCase[] = [
  { command: 'token', kind: 'refresh', args: ['token', 'acme'], signal: 'SIGINT', store: 'file' },
  { command: 'token', kind: 'refresh', args: ['token', 'acme'], signal: 'SIGTERM', store: 'file' },
  { command: 'token', kind: 'refresh', args: ['token', 'acme'], signal: 'SIGHUP', store: 'file' },
  { command: 'token', kind: 'refresh', args: ['token', 'acme'], signal: 'SIGTERM', store: 'keychain' },
  { command: 'env', kind: 'refresh', args: ['env', 'acme'], signal: 'SIGHUP', store: 'file' },
  {
    command: 'exec',
    kind: 'refresh',
    args: ['exec', 'acme', '--', 'sh', '-c', 'touch "$HOME/exec-ran"'],
    signal: 'SIGINT',
    store: 'file',
  },
  {
    command: 'kube-credential',
    kind: 'refresh',
    args: ['kube-credential', 'acme'],
    signal: 'SIGTERM',
    store: 'keychain',
  },
  {
    command: 'git-credential',
    kind: 'refresh',
    args: ['git-credential', 'get'],
    signal: 'SIGHUP',
    store: 'file',
    input: 'protocol=https\nhost=git.example.test\n\n',
  },
  { command: 'login', kind: 'login', args: ['login', 'acme'], signal: 'SIGINT', store: 'file' },
  { command: 'login', kind: 'login', args: ['login', 'acme'], signal: 'SIGHUP', store: 'keychain' },
  { command: 'logout', kind: 'logout', args: ['logout', 'acme'], signal: 'SIGTERM', store: 'file' },
  { command: 'logout', kind: 'logout', args: ['logout', 'acme'], signal: 'SIGINT', store: 'keychain' },
];

export const STORAGE_FAULTS = [
  'corrupt refresh-token entry in the file store',
  'corrupt refresh-token entry in the keychain',
  'refresh-token entry from a newer format in the file store',
  'refresh-token entry from a newer format in the keychain',
  'corrupt cached access token in the file store',
  'credentials file readable by others (0644)',
  'credentials file owned by another user',
  'disk full during a refresh (tmpfs)',
  'disk full during a new login over an old one (tmpfs)',
  'file size limit during a refresh (RLIMIT_FSIZE)',
  'data directory on a read-only filesystem during a refresh',
  'disk full before a refresh with VAULT_<NAME>_REFRESH_TOKEN (tmpfs)',
  'keychain locked between two calls',
  'keychain locked while the refresh is in flight',
] as const;
export type StorageFault = (typeof STORAGE_FAULTS)[number];

export const MULTI_USER = [
  'data directory writable by its group (0770), cached token',
  'data directory writable by everyone (0777), refresh',
  'data directory owned by another user',
  'lock directory writable by everyone (0777)',
  'lock directory owned by another user',
  'runtime directory shared like /tmp, vault/ planted in it by another user: not used',
  'locks without XDG_RUNTIME_DIR: in the per-user data directory, nothing in TMPDIR',
] as const;
export type MultiUserCase = (typeof MULTI_USER)[number];

export const LOOPBACK_HOSTILE = [
  'callback with a wrong state',
  'callback without state',
  "attacker's own valid code, with the attacker's state (login CSRF)",
  'error=access_denied injected with a wrong state',
  'the real callback replayed after the login',
  'right state but a Host that is not the listener (DNS rebinding)',
  'right state but POST, and other paths',
  'request URL over 8 KiB',
  'headers over 16 KiB',
  'bytes that are not HTTP',
  '200 concurrent connections with forged callbacks',
  '200 idle connections held open',
  '20 slow clients sending headers byte by byte (slowloris)',
  "another Unix user's callback with the right state and a valid code",
  'the callback relayed by a local proxy (tinyproxy), or carrying a relay header',
] as const;
export type LoopbackHostileCase = (typeof LOOPBACK_HOSTILE)[number];

/** Generated inputs per property of the hostile-input suite. */
export const PROPERTY_RUNS = {
  'parseConfig on arbitrary text': 400,
  'parseConfig on generated provider tables': 400,
  'endpoint URLs with tricky hosts': 1000,
  'requests at the callback listener': 150,
  'provider, account and env names': 1000,
} as const;

/** Names that must be refused (exit 2) wherever a provider or account name goes. */
export const HOSTILE_NAMES = [
  '../evil',
  'a/b',
  '/etc',
  '..',
  '.',
  'a\\b',
  'x;touch PWNED',
  '$(touch PWNED)',
  '`touch PWNED`',
  'a b',
  'a\nb',
  'a:b',
  'é',
  `a${'b'.repeat(200)}`,
  '-rf',
];

/** Env names that must be refused (exit 2): not portable shell identifiers. */
export const BAD_ENV_NAMES = ['A-B', '1TOKEN', 'A B', 'A;B', '$(touch PWNED)', 'A=B', 'TÖKEN', 'a.b'];

/** The rows of docs/reliability.md's table: fault class → cases the suite runs. */
/** Broken or hostile answers from the server (hostile-server.test.ts runs one test per name). */
export const HOSTILE_ANSWERS = [
  'a refreshable token without expires_in lives an hour',
  'an absurd expires_in is clamped, every date printable',
  'an absurd expiry already stored is printable',
  'an endless 200 body is cut at 1 MiB: exit 1, one attempt',
  'an endless 503 body is cut at 1 MiB: exit 4 after retries',
  'escapes and forged lines in the identity and scopes',
  'escapes and forged lines in an error code and description',
  'timeouts no timer can hold are usage errors',
] as const;

export const RELIABILITY_COUNTS: Record<string, number> = {
  'Token endpoint faults': SERVER_FAULTS.length,
  'Refresh answers late or lost after the server rotated': SENT_GRANT_CASES.length,
  'SIGKILL during a refresh': CRASH_RUNS.length,
  'SIGINT, SIGTERM, SIGHUP during a refresh, login or logout': SIGNAL_CASES.length,
  'Storage faults': STORAGE_FAULTS.length,
  'Hostile traffic at the login listener': LOOPBACK_HOSTILE.length,
  'Generated hostile input (fast-check)': Object.values(PROPERTY_RUNS).reduce((a, b) => a + b, 0),
  // Each hostile name as provider add, login and token -a; one VAULT_ACCOUNT; each env name as a flag and in config.toml.
  'Hostile names through the CLI': HOSTILE_NAMES.length * 3 + 1 + BAD_ENV_NAMES.length * 2,
  'Multi-user safety': MULTI_USER.length,
  'Hostile answers from the server': HOSTILE_ANSWERS.length,
  // Every end-to-end case above checks argv and files (and stderr where it runs with --debug).
  'Secret-leak checks':
    SERVER_FAULTS.length +
    SENT_GRANT_CASES.length +
    CRASH_RUNS.length +
    SIGNAL_CASES.length +
    STORAGE_FAULTS.length +
    LOOPBACK_HOSTILE.length +
    MULTI_USER.length,
};
