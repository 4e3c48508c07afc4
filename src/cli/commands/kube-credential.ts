import { Command } from 'commander';
import type { Context, Outcome } from '../context.js';
import { GRAMMAR } from '../grammar.js';
import { withOptions } from '../options.js';

export interface KubeCredentialOptions {
  provider?: string;
  account?: string;
  minValid: number;
}

export function kubeCredentialCommand(
  ctx: Context,
  runF: (opts: KubeCredentialOptions) => Promise<Outcome> = (o) => kubeCredentialRun(ctx, o),
) {
  return withOptions(
    new Command('kube-credential')
      .argument('[provider]')
      .description('kubectl exec credential plugin: print an ExecCredential with a valid token'),
    GRAMMAR['kube-credential'],
  )
    .addHelpText(
      'after',
      `
kubectl runs it (users[].user.exec in the kubeconfig) and keeps the token until it expires, so the
token is never written to the kubeconfig nor passed in argv.

Examples:
  users[].user.exec in ~/.kube/config: {apiVersion: client.authentication.k8s.io/v1, command: vault, args: [kube-credential, acme]}
  vault kube-credential acme -a work`,
    )
    .action(async (provider: string | undefined, flags: Omit<KubeCredentialOptions, 'provider'>) => {
      await ctx.ready();
      ctx.outcome = await runF({ ...flags, provider });
    });
}

export async function kubeCredentialRun(ctx: Context, opts: KubeCredentialOptions): Promise<Outcome> {
  const { execCredential, requestedApiVersion } = await import('../../core/protocols/kube-credential.js');
  const { accessTokenFor } = await import('../access-token.js');
  const apiVersion = requestedApiVersion(ctx.env.KUBERNETES_EXEC_INFO);
  const provider = ctx.provider(opts.provider);
  const record = await accessTokenFor(ctx, provider, ctx.account(opts.account), opts.minValid);
  ctx.io.stdout.write(execCredential(record, apiVersion));
}
