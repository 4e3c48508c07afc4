import { closeSync, openSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { LoginRequiredError, type ErrorKind } from '../../core/errors.js';
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
} from '../../core/protocols/git-credential.js';
import { type Provider } from '../../core/config/providers.js';
import { loadConfig } from '../../infra/config-file.js';
import type { AccessRecord } from '../../core/credentials.js';
import { forgetAccessToken } from '../../core/usecases/save-login.js';
import { configFile } from '../../infra/paths.js';
import { accessTokenFor } from '../access-token.js';
import { accountOf, tokenDeps } from '../context.js';
import type { Deps } from '../../ports.js';

/** git asks for a password valid at least this long (SPEC: git-credential). */
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
function providerFor(deps: Deps, request: CredentialRequest): Provider | undefined {
  if (!request.protocol || !request.host) return undefined;
  const config = loadConfig(configFile(deps.env));
  const providers = Object.entries(config.providers).map(([name, cfg]) => ({ name, ...cfg }));
  const provider = providerForHost(providers, request.protocol, request.host);
  if (!provider) deps.debug(`git-credential: no provider serves ${request.protocol}://${request.host}`);
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

async function tokenOrLogin(deps: Deps, provider: Provider, account: string): Promise<AccessRecord> {
  try {
    return await accessTokenFor(deps, provider, account, MIN_VALID_SEC);
  } catch (error) {
    if (!(error instanceof LoginRequiredError) || !canPrompt(deps.env)) throw error;
    deps.io.stderr.write(`vault: git needs a login to ${provider.name}.\n`);
    const login = await import('./login.js');
    await login.run(deps, provider.name, { account, browser: true, timeout: '300' });
    return accessTokenFor(deps, provider, account, MIN_VALID_SEC);
  }
}

async function get(deps: Deps, attributes: Attribute[]): Promise<ErrorKind | 0> {
  const provider = providerFor(deps, credentialRequest(attributes));
  if (!provider) return 0;
  const record = await tokenOrLogin(deps, provider, accountOf(deps, undefined));
  const answer = formatCredential(
    credentialAnswer(provider.git_username ?? 'oauth2', record.access_token, record.expires_at),
  );
  if (answer === undefined) {
    deps.io.stderr.write(`error: the token for ${provider.name} contains a line break and cannot be handed to git\n`);
    return 'failure';
  }
  deps.io.stdout.write(answer);
  return 0;
}

async function erase(deps: Deps, attributes: Attribute[]): Promise<0> {
  const request = credentialRequest(attributes);
  if (!request.password) return 0;
  const provider = providerFor(deps, request);
  if (!provider) return 0;
  await forgetAccessToken(provider.name, accountOf(deps, undefined), request.password, tokenDeps(deps));
  return 0;
}

export async function run(deps: Deps, operation: string): Promise<ErrorKind | 0> {
  const text = await readMessage(deps.io.stdin);
  const attributes = text === undefined ? undefined : parseCredential(text);
  if (!attributes) {
    deps.debug('git-credential: malformed input, no answer');
    return 0;
  }
  if (operation === 'get') return get(deps, attributes);
  if (operation === 'erase') return erase(deps, attributes);
  // `store`: vault keeps its own tokens. Other operations: git-credential(1) asks helpers to
  // ignore what they don't know, for newer gits.
  return 0;
}
