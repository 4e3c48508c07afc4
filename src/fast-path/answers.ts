import { envNames, type Provider } from '../core/config/providers.js';
import { checkEnvName } from '../core/config/names.js';
import {
  LIMITS,
  credentialAnswer as gitAnswer,
  credentialRequest,
  formatCredential,
  messageComplete,
  parseCredential,
  providerForHost,
} from '../core/protocols/git-credential.js';
import {
  DEFAULT_REGISTRY_USERNAME,
  credentialAnswer as dockerAnswer,
  providerForRegistry,
  registryHostOf,
} from '../core/protocols/docker-credential.js';
import { execCredential, requestedApiVersion } from '../core/protocols/kube-credential.js';
import {
  formatAssignments,
  githubEnvFileLines,
  githubMaskCommands,
  type EnvFormat,
} from '../core/protocols/env-format.js';
import { childEnv, execProviders } from '../core/protocols/exec-env.js';
import { processIo, writeAllSync } from '../infra/io.js';
import { GRAMMAR, fastArgs } from '../cli/grammar.js';
import { superviseChild } from '../cli/child.js';
import type { ExecOptions } from '../cli/exec-child.js';
import { readInput, withProvider, type Answer, type Call } from './call.js';

// git and registries get a token valid at least this long (as the full commands: git-helper.ts,
// docker-helper.ts).
const HELPER_MIN_VALID = 60;
// docker-helper.ts's bound on a `get` request.
const DOCKER_MAX_INPUT = 64 * 1024;

export async function gitCredential(call: Call, argv: readonly string[]): Promise<Answer> {
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

export async function dockerCredential(call: Call, argv: readonly string[]): Promise<Answer> {
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

export async function kubeCredential(call: Call, argv: readonly string[]): Promise<Answer> {
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

export async function env(call: Call, argv: readonly string[]): Promise<Answer> {
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
export function readExec(call: Call, args: readonly string[]): [string | undefined, string[], ExecFlags] | undefined {
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

/** exec's flags: the options of the full command but its positionals. */
type ExecFlags = Omit<ExecOptions, 'provider' | 'command'>;

export async function exec(call: Call, argv: readonly string[]): Promise<Answer> {
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
