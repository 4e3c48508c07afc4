import { chosenAccount } from './core/config/names.js';
import { envNames, resolveProvider, type Config, type Provider } from './core/config/providers.js';
import { cachedAccessToken } from './core/usecases/get-token.js';
import { passThroughToken, type AccessRecord } from './core/credentials.js';
import { scopeList } from './core/provider-edit.js';
import {
  LIMITS,
  credentialAnswer as gitAnswer,
  credentialRequest,
  formatCredential,
  messageComplete,
  parseCredential,
  providerForHost,
} from './core/protocols/git-credential.js';
import {
  DEFAULT_REGISTRY_USERNAME,
  credentialAnswer as dockerAnswer,
  providerForRegistry,
  registryHostOf,
} from './core/protocols/docker-credential.js';
import { execCredential, requestedApiVersion } from './core/protocols/kube-credential.js';
import {
  formatAssignments,
  githubEnvFileLines,
  githubMaskCommands,
  type EnvFormat,
} from './core/protocols/env-format.js';
import { childEnv, execProviders } from './core/protocols/exec-env.js';
import { checkEnvName } from './core/config/names.js';
import { loadConfig } from './infra/config-file.js';
import { configFile, lockDir } from './infra/paths.js';
import { refreshOrWait } from './infra/refresh-intent.js';
import { lockName } from './core/usecases/refresh-lock.js';
import { fastStore, storeChoice } from './infra/stores/choice.js';
import { processIo, readSomeSync, writeAllSync } from './infra/io.js';
import { GRAMMAR, fastArgs, type CommandGrammar } from './cli/grammar.js';
import { formatToken } from './cli/token-output.js';
import { superviseChild } from './cli/child.js';
import type { TokenOptions } from './cli/commands/token.js';
import type { Deps, ProcessReads, SecretStore } from './core/ports.js';

// git and registries get a token valid at least this long (as the full commands: git-helper.ts,
// docker-helper.ts).
const HELPER_MIN_VALID = 60;
// docker-helper.ts's bound on a `get` request.
const DOCKER_MAX_INPUT = 64 * 1024;

/** A `vault token` call recognised without commander. */
export interface FastToken {
  provider: string | undefined;
  options: Omit<TokenOptions, 'provider'>;
}

/** One positional at most (the provider): what `[provider]` commands take. */
function withProvider(grammar: CommandGrammar, argv: readonly string[]) {
  const read = fastArgs(grammar, argv);
  if (!read || read.positionals.length > 1) return undefined;
  return { provider: read.positionals[0], options: read.options };
}

/**
 * Recognises the plain forms of `vault token [provider] [options]`, the call scripts and git make
 * all day, without commander (which alone costs more start-up than the rest of this path), by the
 * options table both read (cli/grammar.ts). Anything else — help, --debug, unknown or repeated
 * options, a missing value, conflicting flags — returns undefined and goes through the full
 * command-line parser, which owns the messages for those cases.
 */
export function parseFastToken(argv: readonly string[]): FastToken | undefined {
  if (argv[0] !== 'token') return undefined;
  return withProvider(GRAMMAR.token, argv.slice(1)) as FastToken | undefined;
}

/** What the calls share: the environment, the configuration and the store, read at most once. */
interface Call {
  env: NodeJS.ProcessEnv;
  reads: ProcessReads;
  now: () => number;
  config(): Config;
  provider(name: string | undefined): Provider;
  account(flag: string | undefined): string;
  /** The cached access token (or VAULT_<NAME>_ACCESS_TOKEN), valid for minValid s; undefined: a miss. */
  token(provider: Provider, account: string, minValid: number, scopes?: string[]): Promise<AccessRecord | undefined>;
}

/** What an answer is: text for stdout, or (exec) the exit status of a child that ran. */
type Answer = { stdout: string; after?: () => Promise<void> } | { exitCode: number } | undefined;

function openCall(env: NodeJS.ProcessEnv, reads: ProcessReads): Call {
  const deps: Deps = { io: processIo(), env, clock: { now: () => Date.now() }, debug: () => {}, reads };
  const file = configFile(env);
  let store: SecretStore | undefined;
  let config: Config | undefined;
  const call: Call = {
    env,
    reads,
    now: () => Date.now(),
    config: () => (config ??= loadConfig(file, reads)),
    provider: (name) => resolveProvider(call.config(), name, env, file),
    account: (flag) => chosenAccount(flag, env),
    async token(provider, account, minValid, scopes) {
      const passed = passThroughToken(env, provider.name, Date.now());
      if (passed) return passed;
      // The store's light reader (StoreKind.fast): a fleet runner reads its local sealed copy
      // (fleet-cache.ts), since the fleet store's client is not part of this bundle.
      store ??= fastStore(deps);
      if (!store) return undefined;
      const request = { provider, account, scopes, minValid };
      const cached = () => cachedAccessToken(request, { store: store!, clock: deps.clock });
      const record = await cached();
      // A fleet's waiters wait on the lease in Redis, and end their wait on the holder's record (get-token.ts).
      if (record || storeChoice(env) === 'redis') return record;
      // Stale: one process of a storm goes on to refresh, the others wait for its token here.
      const refresher = await refreshOrWait(lockDir(env), lockName(provider.name, account), async () =>
        Boolean(await cached()),
      );
      return refresher ? undefined : cached();
    },
  };
  return call;
}

/** Reads stdin without a stream object until `done(text)` or its end; hands what it read over on a miss. */
function readInput(reads: ProcessReads, limit: number, done: (text: string) => boolean): string | undefined {
  const chunks: Buffer[] = [];
  const buffer = Buffer.allocUnsafe(16 * 1024);
  let size = 0;
  let ended = false;
  for (;;) {
    const n = readSomeSync(0, buffer);
    if (n === 0) {
      ended = true;
      break;
    }
    chunks.push(Buffer.from(buffer.subarray(0, n)));
    size += n;
    if (size > limit) break;
    if (done(Buffer.concat(chunks).toString('utf8'))) break;
  }
  const bytes = Buffer.concat(chunks);
  reads.stdin = { bytes, ended };
  return size > limit ? undefined : bytes.toString('utf8');
}

async function token(call: Call, argv: readonly string[]): Promise<Answer> {
  const fast = parseFastToken(argv);
  if (!fast || fast.options.forceRefresh) return undefined;
  const provider = call.provider(fast.provider);
  const account = call.account(fast.options.account);
  const record = await call.token(provider, account, fast.options.minValid, scopeList(fast.options.scope));
  return record && { stdout: formatToken(record, fast.options, provider.name, account, call.now()) };
}

async function gitCredential(call: Call, argv: readonly string[]): Promise<Answer> {
  if (argv.length !== 2 || argv[1] !== 'get') return undefined;
  const text = readInput(call.reads, LIMITS.maxBytes, messageComplete);
  const attributes = text === undefined ? undefined : parseCredential(text);
  if (!attributes) return undefined;
  const request = credentialRequest(attributes);
  if (!request.protocol || !request.host) return undefined;
  const providers = Object.entries(call.config().providers).map(([name, cfg]) => ({ name, ...cfg }));
  const provider = providerForHost(providers, request.protocol, request.host);
  if (!provider) return undefined;
  const record = await call.token(provider, call.account(undefined), HELPER_MIN_VALID);
  const answer =
    record && formatCredential(gitAnswer(provider.git_username ?? 'oauth2', record.access_token, record.expires_at));
  return answer === undefined ? undefined : { stdout: answer };
}

async function dockerCredential(call: Call, argv: readonly string[]): Promise<Answer> {
  if (argv.length !== 2 || argv[1] !== 'get') return undefined;
  const input = readInput(call.reads, DOCKER_MAX_INPUT, () => false);
  if (input === undefined) return undefined;
  const serverUrl = input.trim();
  const host = registryHostOf(serverUrl);
  if (host === undefined) return undefined;
  const providers = Object.entries(call.config().providers).map(([name, cfg]) => ({ name, ...cfg }));
  const provider = providerForRegistry(providers, host);
  if (!provider) return undefined;
  const record = await call.token(provider, call.account(undefined), HELPER_MIN_VALID);
  return (
    record && {
      stdout: dockerAnswer(serverUrl, provider.registry_username ?? DEFAULT_REGISTRY_USERNAME, record.access_token),
    }
  );
}

async function kubeCredential(call: Call, argv: readonly string[]): Promise<Answer> {
  const read = withProvider(GRAMMAR['kube-credential'], argv.slice(1));
  if (!read) return undefined;
  const apiVersion = requestedApiVersion(call.env.KUBERNETES_EXEC_INFO);
  const provider = call.provider(read.provider);
  const o = read.options as { account?: string; minValid: number };
  const record = await call.token(provider, call.account(o.account), o.minValid);
  return record && { stdout: execCredential(record, apiVersion) };
}

/** `--name` values (checked), else the provider's env names: as access-token.ts's targetNames. */
function targetNames(provider: Provider, names: string[] | undefined): string[] {
  return names?.length ? [...new Set(names.map(checkEnvName))] : envNames(provider);
}

async function env(call: Call, argv: readonly string[]): Promise<Answer> {
  const read = withProvider(GRAMMAR.env, argv.slice(1));
  if (!read) return undefined;
  const o = read.options as { account?: string; name?: string[]; minValid: number; format: EnvFormat };
  const format = o.format;
  const githubEnv = call.env.GITHUB_ENV;
  // The full command reports a missing GITHUB_ENV, and colours a failure's message on a terminal.
  if (format === 'github-actions' && (!githubEnv || (processIo().stderrIsTTY && call.env.NO_COLOR === undefined)))
    return undefined;
  const provider = call.provider(read.provider);
  const account = call.account(o.account);
  const names = targetNames(provider, o.name);
  const record = await call.token(provider, account, o.minValid);
  if (!record) return undefined;
  const token = record.access_token;
  if (format !== 'github-actions') return { stdout: formatAssignments(format, names, token) };
  // As envRun: the mask goes out before the value exists anywhere the runner could log it.
  return {
    stdout: githubMaskCommands(token),
    async after() {
      const { randomUUID } = await import('node:crypto');
      const { appendFileSync } = await import('node:fs');
      const lines = githubEnvFileLines(names, token, `ghadelimiter_${randomUUID()}`);
      try {
        appendFileSync(githubEnv!, lines, { encoding: 'utf8' });
      } catch (error) {
        writeAllSync(2, `error: cannot append to GITHUB_ENV (${githubEnv}): ${(error as Error).message}\n`);
        process.exitCode = 1;
        return;
      }
      writeAllSync(2, `Set ${names.join(', ')} for the following steps of this job.\n`);
    },
  };
}

/** The provider used when none is named (VAULT_PROVIDER, or the only one configured), if any. */
function defaultProvider(call: Call): string | undefined {
  try {
    return call.provider(undefined).name;
  } catch {
    return undefined;
  }
}

/**
 * `vault exec [options] [provider] [--] <command...>`, read as exec-args.ts puts in the `--`: the
 * first argument after the provider that is not one of exec's options starts the command, and a
 * first argument that is not a configured provider starts it too when there is a default one.
 * Resolves what commander hands exec's action: provider, command, options.
 */
function readExec(call: Call, args: readonly string[]): [string | undefined, string[], ExecFlags] | undefined {
  const read = fastArgs(GRAMMAR.exec, args, (i, positionals) => {
    if (positionals.length > 0) return true;
    const arg = args[i]!;
    return !(
      args.includes('--', i) ||
      Object.hasOwn(call.config().providers, arg) ||
      defaultProvider(call) === undefined
    );
  });
  if (!read || read.rest === undefined || read.positionals.length > 1) return undefined;
  const command = args.slice(read.rest);
  const provider = read.positionals[0] ?? defaultProvider(call);
  if (command.length === 0 || provider === undefined) return undefined;
  return [provider, command, read.options as unknown as ExecFlags];
}

interface ExecFlags {
  account?: string;
  name?: string[];
  minValid: number;
  allowNested?: boolean;
  tokenFile?: string;
  gce?: boolean;
  azure?: boolean;
}

async function exec(call: Call, argv: readonly string[]): Promise<Answer> {
  const read = readExec(call, argv.slice(1));
  if (!read) return undefined;
  const [name, command, o] = read;
  // Token files and the metadata endpoint are sidecars of the full command.
  if (o.tokenFile !== undefined || o.gce || o.azure) return undefined;
  const provider = call.provider(name);
  if (!o.allowNested && execProviders(call.env).includes(provider.name)) return undefined;
  const names = targetNames(provider, o.name);
  const record = await call.token(provider, call.account(o.account), o.minValid);
  if (!record) return undefined;
  const [file, ...rest] = command as [string, ...string[]];
  const env = childEnv(call.env, { provider: provider.name, names, token: record.access_token });
  const supervisor = superviseChild(() => {});
  try {
    return { exitCode: await supervisor.run(file, rest, env, (text) => writeAllSync(2, text)) };
  } finally {
    supervisor.stop();
  }
}

/**
 * For tests: what the cached-token path makes of `vault <name> <args>` with the configuration in
 * `configDir`, in the shape commander hands the command's action ([provider, options], or exec's
 * [provider, command, options]), or undefined when it leaves the call to commander.
 */
export function fastCommandLine(
  name: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  configDir: string,
): unknown[] | undefined {
  const call = openCall({ ...env, VAULT_CONFIG_DIR: configDir }, {});
  if (name === 'exec') return readExec(call, args);
  const grammar =
    name === 'env' ? GRAMMAR.env : name === 'kube-credential' ? GRAMMAR['kube-credential'] : GRAMMAR.token;
  const read = withProvider(grammar, args);
  return read && [read.provider, read.options];
}

const CALLS: Record<string, (call: Call, argv: readonly string[]) => Promise<Answer>> = {
  token,
  'git-credential': gitCredential,
  'docker-credential': dockerCredential,
  'kube-credential': kubeCredential,
  env,
  exec,
};

/**
 * The cached-token path, bundled on its own as dist/cached-token.cjs (CommonJS starts faster than
 * the ESM loader, and the bundle holds nothing else): answers the read-only calls other programs
 * make all day — `token`, `git-credential get`, `docker-credential get`, `kube-credential`, `env`,
 * `exec` — when a cached token (or VAULT_<NAME>_ACCESS_TOKEN) answers them, and resolves true.
 * Anything else — a refresh to do, --debug, no provider for the host, an error of any kind —
 * resolves without output, and the full CLI runs as if this had not been tried (and reports the
 * error, if any), handed what this path read (config.toml, the file store, stdin) so that it need
 * not read them again.
 */
export async function printCachedToken(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<true | ProcessReads | undefined> {
  const answer = CALLS[argv[0] ?? ''];
  if (!answer || env.VAULT_DEBUG) return undefined;
  const reads: ProcessReads = {};
  let result: Answer;
  try {
    result = await answer(openCall(env, reads), argv);
  } catch {
    return reads;
  }
  if (result === undefined) return reads;
  if ('exitCode' in result) {
    process.exitCode = result.exitCode;
    return true;
  }
  // Once output has begun there is no falling back: a failed write is the command's failure,
  // except a reader that went away (`vault token acme | head -c 10`), which ends quietly.
  try {
    writeAllSync(1, result.stdout);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
    return true;
  }
  await result.after?.();
  return true;
}
