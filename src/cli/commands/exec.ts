import { Command } from 'commander';
import type { Context, Outcome } from '../context.js';
import { GRAMMAR } from '../grammar.js';
import { withOptions } from '../options.js';

export interface ExecOptions {
  provider?: string;
  /** The command and its arguments. */
  command: string[];
  account?: string;
  name?: string[];
  minValid: number;
  allowNested?: boolean;
  tokenFile?: string;
  gce?: boolean;
}

export function execCommand(ctx: Context, runF: (opts: ExecOptions) => Promise<Outcome> = (o) => execRun(ctx, o)) {
  return withOptions(
    new Command('exec')
      .argument('[provider]')
      .usage('[options] [provider] [--] <command> [args...]')
      .description("run a command with the provider's token in its environment"),
    GRAMMAR.exec,
  )
    .argument('<command...>', "the command and its arguments (after the provider and exec's options; `--` is optional)")
    .addHelpText(
      'after',
      `
The token is passed in the environment only, never in argv. Signals (INT, TERM, HUP) are
forwarded to the command; vault exits with its exit code, or 128+N if signal N killed it.

Examples:
  vault exec google -- terraform plan
  vault exec github -- gh repo list
  vault exec acme --name API_TOKEN -- ./deploy.sh
  vault exec google --token-file CLOUDSDK_AUTH_ACCESS_TOKEN_FILE -- gcloud storage ls   # jobs longer than a token
  vault exec google --gce -- terraform apply                                            # Google libraries refresh via vault`,
    )
    .action(
      async (provider: string | undefined, command: string[], flags: Omit<ExecOptions, 'provider' | 'command'>) => {
        await ctx.ready();
        ctx.outcome = await runF({ ...flags, provider, command });
      },
    );
}

/** Runs the command with the token (see exec-child.ts); its exit status is vault's. */
export async function execRun(ctx: Context, opts: ExecOptions): Promise<Outcome> {
  const { runWithToken } = await import('../exec-child.js');
  return runWithToken(ctx, opts);
}
