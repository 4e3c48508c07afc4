import { Command } from 'commander';
import type { Context, Outcome } from '../context.js';
import { accountOption, minValidOption, nameOption } from '../options.js';

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
  azure?: boolean;
}

export function execCommand(ctx: Context, runF: (opts: ExecOptions) => Promise<Outcome> = (o) => execRun(ctx, o)) {
  return new Command('exec')
    .argument('[provider]')
    .usage('[options] [provider] [--] <command> [args...]')
    .description("run a command with the provider's token in its environment")
    .addOption(accountOption())
    .addOption(nameOption())
    .addOption(minValidOption(300))
    .option('--allow-nested', 'run even inside `vault exec` for the same provider (see $VAULT_EXEC_PROVIDERS)')
    .option(
      '--token-file <VAR>',
      'keep the token in a private file, rewritten before it expires, and set VAR to its path',
    )
    .option(
      '--gce',
      'serve a GCE metadata endpoint for the command, so Google libraries and gcloud refresh through vault',
    )
    .option('--azure', 'serve an Azure managed-identity endpoint for the command, so Azure SDKs refresh through vault')
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
  vault exec google --gce -- terraform apply                                            # Google libraries refresh via vault
  vault exec azure --azure -- node deploy.js                                           # Azure SDKs refresh via vault`,
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
