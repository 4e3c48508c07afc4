import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { getProvider, type Provider } from '../../core/config/providers.js';
import { UsageError, VaultError } from '../../core/errors.js';
import { credentialUrls, helperCommand, isHelperFor, isVaultHelper } from '../../core/protocols/git-credential.js';
import type { Context, Outcome } from '../context.js';

export interface SetupGitOptions {
  provider?: string;
  remove?: boolean;
}

interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs git with argv (no shell); the values written are paths, never secrets. */
async function git(ctx: Context, args: string[]): Promise<GitResult> {
  return new Promise((resolvePromise, reject) => {
    execFile('git', args, { env: ctx.env, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (!error) return resolvePromise({ code: 0, stdout, stderr });
      // A number is git's exit status; a string is why git could not be started at all.
      const code: unknown = error.code;
      if (typeof code === 'number') return resolvePromise({ code, stdout, stderr });
      const why = code === 'ENOENT' ? 'git is not installed (or not on PATH)' : `cannot run git: ${error.message}`;
      reject(new VaultError('failure', why, { cause: error }));
    });
  });
}

async function gitOk(ctx: Context, args: string[]): Promise<void> {
  const result = await git(ctx, args);
  if (result.code !== 0) {
    throw new VaultError(
      'failure',
      `\`git ${args.join(' ')}\` failed: ${result.stderr.trim() || `exit ${result.code}`}`,
    );
  }
}

/** POSIX ERE for exactly `value`: git config matches value patterns as extended regexes. */
function exactPattern(value: string): string {
  return `^${value.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&')}$`;
}

/**
 * Adds our helper to `credential.<url>.helper` unless it is there. git runs every helper of the
 * list in order, so other helpers stay; only an earlier vault entry with another path (vault
 * moved, node upgraded) is replaced, since it would fail on every git command.
 */
async function configure(ctx: Context, url: string, helper: string): Promise<'added' | 'present'> {
  const key = `credential.${url}.helper`;
  const current = await git(ctx, ['config', '--global', '--get-all', key]);
  // Exit 1: the key is not set; anything else is a real failure (say, a broken config file).
  if (current.code !== 0 && current.code !== 1) {
    throw new VaultError('failure', `cannot read the global git config: ${current.stderr.trim()}`);
  }
  const values = current.code === 0 ? current.stdout.split('\n').filter((v) => v !== '') : [];
  if (values.includes(helper)) return 'present';
  for (const stale of new Set(values.filter(isVaultHelper))) {
    await gitOk(ctx, ['config', '--global', '--unset-all', key, exactPattern(stale)]);
  }
  await gitOk(ctx, ['config', '--global', '--add', key, helper]);
  return 'added';
}

/**
 * `setup-git --remove`: removes the helper entries that run this vault (its absolute path, as
 * setup-git writes them) and nothing else — other helpers, a hand-written `!vault git-credential`
 * and other vault installations stay. Only the provider's hosts when one is named, else every
 * `credential.*.helper` of the global config.
 */
async function remove(ctx: Context, urls: string[] | undefined, script: string): Promise<void> {
  const listed = await git(ctx, ['config', '--global', '--get-regexp', '^credential\\..*\\.helper$']);
  if (listed.code !== 0 && listed.code !== 1) {
    throw new VaultError('failure', `cannot read the global git config: ${listed.stderr.trim()}`);
  }
  const keys = urls?.map((url) => `credential.${url}.helper`.toLowerCase());
  let removed = 0;
  for (const line of listed.stdout.split('\n')) {
    const space = line.indexOf(' ');
    if (space === -1) continue;
    const [key, value] = [line.slice(0, space), line.slice(space + 1)];
    if ((keys && !keys.includes(key.toLowerCase())) || !isHelperFor(value, script)) continue;
    await gitOk(ctx, ['config', '--global', '--unset-all', key, exactPattern(value)]);
    ctx.io.stderr.write(`Removed: git ${key}\n`);
    removed++;
  }
  if (!removed) ctx.io.stderr.write(`Nothing to remove: no git credential helper runs ${script}.\n`);
}

export async function setupGitRun(ctx: Context, opts: SetupGitOptions): Promise<Outcome> {
  const providerName = opts.provider;
  const file = ctx.configFile;
  // process.argv[1] is the vault script as it was started (a symlink on PATH stays a symlink).
  const script = resolve(process.argv[1] ?? 'vault');
  if (opts.remove) {
    const urls =
      providerName === undefined
        ? undefined
        : (getProvider(ctx.config(), providerName, file).git_hosts ?? []).flatMap(credentialUrls);
    return remove(ctx, urls, script);
  }
  const config = ctx.config();
  const providers: Provider[] = providerName
    ? [getProvider(config, providerName, file)]
    : Object.entries(config.providers).map(([name, cfg]) => ({ name, ...cfg }));
  const hosts = [...new Set(providers.flatMap((p) => p.git_hosts ?? []))];
  if (!hosts.length) {
    const which = providerName ? `provider ${providerName} has no` : 'no provider has';
    const fix = providerName
      ? `\`vault provider set ${providerName} --git-host git.example.com\``
      : '`vault provider set NAME --git-host git.example.com`';
    throw new UsageError(`${which} git hosts: add one with ${fix} (or \`git_hosts\` in ${file})`);
  }
  const helper = helperCommand(process.execPath, script);
  for (const host of hosts) {
    for (const url of credentialUrls(host)) {
      const outcome = await configure(ctx, url, helper);
      ctx.io.stderr.write(
        `${outcome === 'added' ? 'Configured' : 'Already configured'}: git credential.${url}.helper\n`,
      );
    }
  }
}
