import { closeSync, openSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { LoginRequiredError } from '../core/errors.js';
import {
  LIMITS,
  credentialAnswer,
  credentialRequest,
  formatCredential,
  messageComplete,
  parseCredential,
  providerForHost,
  type Attribute,
  type CredentialRequest,
} from '../core/protocols/git-credential.js';
import type { Provider } from '../core/config/providers.js';
import type { AccessRecord } from '../core/credentials.js';
import { forgetAccessToken } from '../core/usecases/save-login.js';
import { accessTokenFor } from './access-token.js';
import type { Context, Outcome } from './context.js';

export interface GitCredentialOptions {
  operation: string;
}

/** git asks for a password valid at least this long (README, git). */
const MIN_VALID_SEC = 60;

/** Reads one message: up to a blank line or end of input, never more than LIMITS.maxBytes. */
async function readMessage(stdin: Readable): Promise<string | undefined> {
  let text = '';
  stdin.setEncoding('utf8');
  for await (const chunk of stdin) {
    text += chunk as string;
    if (text.length > LIMITS.maxBytes) return undefined;
    if (messageComplete(text)) break;
  }
  return text;
}

/** The provider serving the request's host, if any (first match in config.toml order). */
function providerFor(ctx: Context, request: CredentialRequest): Provider | undefined {
  if (!request.protocol || !request.host) return undefined;
  const config = ctx.config();
  const providers = Object.entries(config.providers).map(([name, cfg]) => ({ name, ...cfg }));
  const provider = providerForHost(providers, request.protocol, request.host);
  if (!provider) ctx.debug(`git-credential: no provider serves ${request.protocol}://${request.host}`);
  return provider;
}

/**
 * Whether a login may be started: git itself prompts only when GIT_TERMINAL_PROMPT allows it
 * (git_env_bool, so 0/false/no/off turn it off) and a terminal can be opened; git's pipes are
 * on our stdin and stdout, so /dev/tty is the test.
 */
function canPrompt(env: NodeJS.ProcessEnv): boolean {
  if (/^(0|false|no|off)$/i.test(env.GIT_TERMINAL_PROMPT ?? '')) return false;
  try {
    closeSync(openSync('/dev/tty', 'r+'));
    return true;
  } catch {
    return false;
  }
}

async function tokenOrLogin(ctx: Context, provider: Provider, account: string): Promise<AccessRecord> {
  try {
    return await accessTokenFor(ctx, provider, account, MIN_VALID_SEC);
  } catch (error) {
    if (!(error instanceof LoginRequiredError) || !canPrompt(ctx.env)) throw error;
    ctx.io.stderr.write(`vault: git needs a login to ${provider.name}.\n`);
    const { runLogin } = await import('./login-session.js');
    await runLogin(ctx, { provider: provider.name, account, browser: true, timeout: 300 });
    return accessTokenFor(ctx, provider, account, MIN_VALID_SEC);
  }
}

async function get(ctx: Context, attributes: Attribute[]): Promise<Outcome> {
  const provider = providerFor(ctx, credentialRequest(attributes));
  if (!provider) return;
  const record = await tokenOrLogin(ctx, provider, ctx.account(undefined));
  const answer = formatCredential(
    credentialAnswer(provider.git_username ?? 'oauth2', record.access_token, record.expires_at),
  );
  if (answer === undefined) {
    ctx.io.stderr.write(`error: the token for ${provider.name} contains a line break and cannot be handed to git\n`);
    return 'failure';
  }
  ctx.io.stdout.write(answer);
}

async function erase(ctx: Context, attributes: Attribute[]): Promise<void> {
  const request = credentialRequest(attributes);
  if (!request.password) return;
  const provider = providerFor(ctx, request);
  if (!provider) return;
  await forgetAccessToken(provider.name, ctx.account(undefined), request.password, ctx.ports());
}

/** `vault git-credential <operation>`: one request of git's credential helper protocol on stdin. */
export async function answerGit(ctx: Context, { operation }: GitCredentialOptions): Promise<Outcome> {
  const text = await readMessage(ctx.io.stdin);
  const attributes = text === undefined ? undefined : parseCredential(text);
  if (!attributes) {
    ctx.debug('git-credential: malformed input, no answer');
    return;
  }
  if (operation === 'get') return get(ctx, attributes);
  if (operation === 'erase') return erase(ctx, attributes);
  // `store`: vault keeps its own tokens. Other operations: git-credential(1) asks helpers to
  // ignore what they don't know, for newer gits.
}
