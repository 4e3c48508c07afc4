import type { Readable } from 'node:stream';
import { UsageError, VaultError } from '../core/errors.js';
import {
  DEFAULT_REGISTRY_USERNAME,
  NOT_FOUND,
  credentialAnswer,
  listAnswer,
  providerForRegistry,
  registryHostOf,
} from '../core/protocols/docker-credential.js';
import type { Provider } from '../core/config/providers.js';
import { accessTokenFor } from './access-token.js';
import type { Context, Outcome } from './context.js';

export interface DockerCredentialOptions {
  operation: string;
}

/** A registry gets a token valid at least this long, as git does: a pull or push then has a minute. */
const MIN_VALID_SEC = 60;
/** A server URL is a line; a `store` payload a small JSON document. */
const MAX_INPUT = 64 * 1024;

async function readInput(stdin: Readable): Promise<string> {
  let text = '';
  stdin.setEncoding('utf8');
  for await (const chunk of stdin) {
    text += chunk as string;
    if (text.length > MAX_INPUT) throw new UsageError(`docker-credential: input longer than ${MAX_INPUT} bytes`);
  }
  return text;
}

function providers(ctx: Context): Provider[] {
  const config = ctx.config();
  return Object.entries(config.providers).map(([name, cfg]) => ({ name, ...cfg }));
}

/** `vault docker-credential get|store|erase|list`, also run as `docker-credential-vault`. */
export async function answerDocker(ctx: Context, { operation }: DockerCredentialOptions): Promise<Outcome> {
  switch (operation) {
    case 'get':
      return get(ctx, await readInput(ctx.io.stdin));
    case 'list':
      ctx.io.stdout.write(listAnswer(providers(ctx)));
      return;
    case 'store':
    case 'erase':
      // vault keeps its own tokens: what `docker login` would store, or ask to forget, is not ours.
      await readInput(ctx.io.stdin);
      return;
    default:
      throw new UsageError(
        `unknown docker-credential operation ${JSON.stringify(operation.slice(0, 40))}: use get, store, erase or list`,
      );
  }
}

async function get(ctx: Context, input: string): Promise<Outcome> {
  const serverUrl = input.trim();
  const host = registryHostOf(serverUrl);
  const provider = host === undefined ? undefined : providerForRegistry(providers(ctx), host);
  if (!provider) {
    ctx.debug(`docker-credential: no provider serves ${host ?? 'that server URL'}`);
    ctx.io.stdout.write(`${NOT_FOUND}\n`);
    return 'failure';
  }
  try {
    const record = await accessTokenFor(ctx, provider, ctx.account(undefined), MIN_VALID_SEC);
    ctx.io.stdout.write(
      credentialAnswer(serverUrl, provider.registry_username ?? DEFAULT_REGISTRY_USERNAME, record.access_token),
    );
  } catch (error) {
    // Helpers report errors on stdout, which docker shows as the helper's answer; the usual
    // `error:` line still goes to stderr.
    if (error instanceof VaultError) ctx.io.stdout.write(`${error.message}\n`);
    throw error;
  }
}
