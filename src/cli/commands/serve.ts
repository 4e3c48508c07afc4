import { Command } from 'commander';
import { act } from '../act.js';
import type { Context } from '../context.js';
import { accountOption, minValidOption, portOption } from '../options.js';

export function serveCommand(ctx: Context) {
  return new Command('serve')
    .argument('[provider]')
    .description('serve a local GCE metadata or Azure managed-identity endpoint for the login until interrupted')
    .addOption(accountOption())
    .option('--gce', 'speak the GCE metadata protocol (Google client libraries, gcloud)')
    .option('--azure', 'speak the App Service managed-identity protocol (Azure SDKs)')
    .addOption(portOption('port on 127.0.0.1 (default: any free port)'))
    .addOption(minValidOption(300, 'seconds each token handed out stays valid'))
    .addHelpText(
      'after',
      `
Prints the variables that point the clients at it (sh), then serves until SIGINT or SIGTERM.
--gce answers only requests with Metadata-Flavor: Google and Host 127.0.0.1:PORT; --azure only
requests carrying the secret it exports as IDENTITY_HEADER.

Examples:
  vault serve google --gce --port 8173 &   # then export GCE_METADATA_HOST=127.0.0.1:8173 (and _IP, _ROOT)
  eval "$(vault serve azure --azure &)"    # IDENTITY_ENDPOINT and IDENTITY_HEADER for Azure SDKs
  vault exec google --gce -- ./job.sh      # the same, for one command's lifetime`,
    )
    .action(act(ctx, async () => (await import('../runs/serve.js')).serveRun));
}
