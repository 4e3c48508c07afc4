import { Command } from 'commander';
import { UsageError, VaultError } from '../../core/errors.js';
import {
  formatAssignments,
  githubEnvFileLines,
  githubMaskCommands,
  type EnvFormat,
} from '../../core/protocols/env-format.js';
import type { Context, Outcome } from '../context.js';
import { GRAMMAR } from '../grammar.js';
import { withOptions } from '../options.js';

export interface EnvOptions {
  provider?: string;
  account?: string;
  name?: string[];
  minValid: number;
  format: EnvFormat;
}

export function envCommand(ctx: Context, runF: (opts: EnvOptions) => Promise<Outcome> = (o) => envRun(ctx, o)) {
  return withOptions(
    new Command('env').argument('[provider]').description("print environment assignments for the provider's token"),
    GRAMMAR.env,
  )
    .addHelpText(
      'after',
      `
Examples:
  eval "$(vault env google)"
  vault env google --format fish | source
  vault env acme --format github-actions`,
    )
    .action(async (provider: string | undefined, flags: Omit<EnvOptions, 'provider'>) => {
      await ctx.ready();
      ctx.outcome = await runF({ ...flags, provider });
    });
}

function githubEnvFile(env: NodeJS.ProcessEnv): string {
  const file = env.GITHUB_ENV;
  if (!file)
    throw new UsageError(
      '--format github-actions needs GITHUB_ENV, which the GitHub Actions runner sets in every step; elsewhere use --format sh',
    );
  return file;
}

export async function envRun(ctx: Context, opts: EnvOptions): Promise<Outcome> {
  const { accessTokenFor, targetNames } = await import('../access-token.js');
  const provider = ctx.provider(opts.provider);
  const account = ctx.account(opts.account);
  const names = targetNames(provider, opts.name);
  // Checked before any refresh: a misplaced CI step should fail fast and spend nothing.
  if (opts.format === 'github-actions') githubEnvFile(ctx.env);
  const { access_token: token } = await accessTokenFor(ctx, provider, account, opts.minValid);
  if (opts.format !== 'github-actions') {
    ctx.io.stdout.write(formatAssignments(opts.format, names, token));
    return;
  }
  const githubEnv = githubEnvFile(ctx.env);
  const { randomUUID } = await import('node:crypto');
  const { appendFileSync } = await import('node:fs');
  // @actions/core's delimiter: random, so no value can end the block early.
  const lines = githubEnvFileLines(names, token, `ghadelimiter_${randomUUID()}`);
  // The mask goes out before the value exists anywhere the runner could log it.
  ctx.io.stdout.write(githubMaskCommands(token));
  try {
    appendFileSync(githubEnv, lines, { encoding: 'utf8' });
  } catch (error) {
    throw new VaultError(`cannot append to GITHUB_ENV (${githubEnv}): ${(error as Error).message}`, 'failure', {
      cause: error,
    });
  }
  ctx.io.stderr.write(`Set ${names.join(', ')} for the following steps of this job.\n`);
}
