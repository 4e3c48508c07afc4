import { Command } from 'commander';
import { act, type Run } from '../act.js';
import type { Context } from '../context.js';
import type { ExecOptions } from '../exec-child.js';
import { GRAMMAR } from '../grammar.js';
import { withOptions } from '../options.js';

/** `run` stands in for the command's run function in flag-parsing tests. */
export function execCommand(ctx: Context, run?: Run<ExecOptions>) {
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
  vault exec google --gce -- terraform apply                                            # Google libraries refresh via vault
  vault exec azure --azure -- node deploy.js                                           # Azure SDKs refresh via vault`,
    )
    .action(
      act(
        ctx,
        async () => run ?? (await import('../exec-child.js')).runWithToken,
        (provider: string | undefined, command: string[], flags: object) => ({ ...flags, provider, command }),
      ),
    );
}
