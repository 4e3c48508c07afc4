import { execCredential, requestedApiVersion } from '../../core/protocols/kube-credential.js';
import { accessTokenFor } from '../access-token.js';
import { accountOf, loadProvider, parseSeconds } from '../context.js';
import type { Deps } from '../../ports.js';

export interface KubeCredentialOptions {
  account?: string;
  minValid: string;
}

export async function run(deps: Deps, providerName: string | undefined, opts: KubeCredentialOptions): Promise<number> {
  const minValid = parseSeconds(opts.minValid, '--min-valid');
  const apiVersion = requestedApiVersion(deps.env.KUBERNETES_EXEC_INFO);
  const provider = loadProvider(deps, providerName);
  const record = await accessTokenFor(deps, provider, accountOf(deps, opts.account), minValid);
  deps.io.stdout.write(execCredential(record, apiVersion));
  return 0;
}
