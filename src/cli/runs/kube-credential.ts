import { execCredential, requestedApiVersion } from '../../core/protocols/kube-credential.js';
import { accessTokenFor } from '../access-token.js';
import type { Context, Outcome } from '../context.js';

export interface KubeCredentialOptions {
  provider?: string;
  account?: string;
  minValid: number;
}

export async function kubeCredentialRun(ctx: Context, opts: KubeCredentialOptions): Promise<Outcome> {
  const apiVersion = requestedApiVersion(ctx.env.KUBERNETES_EXEC_INFO);
  const provider = ctx.provider(opts.provider);
  const record = await accessTokenFor(ctx, provider, ctx.account(opts.account), opts.minValid);
  ctx.io.stdout.write(execCredential(record, apiVersion));
}
