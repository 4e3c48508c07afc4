import { appendFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { UsageError, VaultError } from '../../core/errors.js';
import {
  formatAssignments,
  githubEnvFileLines,
  githubMaskCommands,
  type EnvFormat,
} from '../../core/protocols/env-format.js';
import { accessTokenFor, targetNames } from '../access-token.js';
import { accountOf, loadProvider, parseSeconds } from '../context.js';
import type { Deps } from '../../ports.js';

export interface EnvOptions {
  account?: string;
  name?: string[];
  minValid: string;
  format: EnvFormat;
}

function githubEnvFile(env: NodeJS.ProcessEnv): string {
  const file = env.GITHUB_ENV;
  if (!file)
    throw new UsageError(
      '--format github-actions needs GITHUB_ENV, which the GitHub Actions runner sets in every step; elsewhere use --format sh',
    );
  return file;
}

export async function run(deps: Deps, providerName: string | undefined, opts: EnvOptions): Promise<number> {
  const minValid = parseSeconds(opts.minValid, '--min-valid');
  const provider = loadProvider(deps, providerName);
  const account = accountOf(deps, opts.account);
  const names = targetNames(provider, opts.name);
  // Checked before any refresh: a misplaced CI step should fail fast and spend nothing.
  if (opts.format === 'github-actions') githubEnvFile(deps.env);
  const { access_token: token } = await accessTokenFor(deps, provider, account, minValid);
  if (opts.format !== 'github-actions') {
    deps.io.stdout.write(formatAssignments(opts.format, names, token));
    return 0;
  }
  const githubEnv = githubEnvFile(deps.env);
  // @actions/core's delimiter: random, so no value can end the block early.
  const lines = githubEnvFileLines(names, token, `ghadelimiter_${randomUUID()}`);
  // The mask goes out before the value exists anywhere the runner could log it.
  deps.io.stdout.write(githubMaskCommands(token));
  try {
    appendFileSync(githubEnv, lines, { encoding: 'utf8' });
  } catch (error) {
    throw new VaultError(`cannot append to GITHUB_ENV (${githubEnv}): ${(error as Error).message}`, 'failure', {
      cause: error,
    });
  }
  deps.io.stderr.write(`Set ${names.join(', ')} for the following steps of this job.\n`);
  return 0;
}
