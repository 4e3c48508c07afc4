import { Command } from 'commander';
import { act } from '../act.js';
import type { Context } from '../context.js';
import { accountOption, minValidOption, portOption } from '../options.js';

export function serveCommand(ctx: Context) {
  return new Command('serve')
    .argument('[provider]')
    .description('serve a local GCE metadata endpoint for the login until interrupted')
    .addOption(accountOption())
    .requiredOption('--gce', 'speak the GCE metadata protocol (Google client libraries, gcloud)')
    .addOption(portOption('port on 127.0.0.1 (default: any free port)'))
    .addOption(minValidOption(300, 'seconds each token handed out stays valid'))
    .addHelpText(
      'after',
      `
Prints the variables that point Google's libraries and gcloud at it (sh), then serves until
SIGINT or SIGTERM. Only requests with Metadata-Flavor: Google and Host 127.0.0.1:PORT are answered.

Examples:
  vault serve google --gce --port 8173 &   # then export GCE_METADATA_HOST=127.0.0.1:8173 (and _IP, _ROOT)
  vault exec google --gce -- ./job.sh      # the same, for one command's lifetime`,
    )
    .action(act(ctx, async () => (await import('../runs/serve.js')).serveRun));
}
