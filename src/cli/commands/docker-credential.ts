import type { Readable } from 'node:stream';
import { UsageError, VaultError, type ErrorKind } from '../../core/errors.js';
import {
  DEFAULT_REGISTRY_USERNAME,
  NOT_FOUND,
  credentialAnswer,
  listAnswer,
  providerForRegistry,
  registryHostOf,
} from '../../core/protocols/docker-credential.js';
import { type Provider } from '../../core/config/providers.js';
import { loadConfig } from '../../infra/config-file.js';
import { configFile } from '../../infra/paths.js';
import { accessTokenFor } from '../access-token.js';
import { accountOf } from '../context.js';
import type { Deps } from '../../ports.js';

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

function providers(deps: Deps): Provider[] {
  const config = loadConfig(configFile(deps.env));
  return Object.entries(config.providers).map(([name, cfg]) => ({ name, ...cfg }));
}

/** `vault docker-credential get|store|erase|list`, also run as `docker-credential-vault`. */
export async function run(deps: Deps, operation: string): Promise<ErrorKind | 0> {
  switch (operation) {
    case 'get':
      return get(deps, await readInput(deps.io.stdin));
    case 'list':
      deps.io.stdout.write(listAnswer(providers(deps)));
      return 0;
    case 'store':
    case 'erase':
      // vault keeps its own tokens: what `docker login` would store, or ask to forget, is not ours.
      await readInput(deps.io.stdin);
      return 0;
    default:
      throw new UsageError(
        `unknown docker-credential operation ${JSON.stringify(operation.slice(0, 40))}: use get, store, erase or list`,
      );
  }
}

async function get(deps: Deps, input: string): Promise<ErrorKind | 0> {
  const serverUrl = input.trim();
  const host = registryHostOf(serverUrl);
  const provider = host === undefined ? undefined : providerForRegistry(providers(deps), host);
  if (!provider) {
    deps.debug(`docker-credential: no provider serves ${host ?? 'that server URL'}`);
    deps.io.stdout.write(`${NOT_FOUND}\n`);
    return 'failure';
  }
  try {
    const record = await accessTokenFor(deps, provider, accountOf(deps, undefined), MIN_VALID_SEC);
    deps.io.stdout.write(
      credentialAnswer(serverUrl, provider.registry_username ?? DEFAULT_REGISTRY_USERNAME, record.access_token),
    );
    return 0;
  } catch (error) {
    // Helpers report errors on stdout, which docker shows as the helper's answer; the usual
    // `error:` line still goes to stderr.
    if (error instanceof VaultError) deps.io.stdout.write(`${error.message}\n`);
    throw error;
  }
}
