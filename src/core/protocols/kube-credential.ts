import { UsageError } from '../errors.js';
import { isoTime } from '../token-set.js';
import type { AccessRecord } from '../credentials.js';

const V1 = 'client.authentication.k8s.io/v1';
const V1BETA1 = 'client.authentication.k8s.io/v1beta1';

/**
 * The apiVersion kubectl asked for. kubectl puts the exec entry's apiVersion into
 * KUBERNETES_EXEC_INFO (an ExecCredential with only `spec`) and rejects an answer in any other
 * version, so the plugin echoes it: kubeconfigs written for v1beta1 (GKE's, older EKS ones) keep
 * working. Unset means v1, the version every kubectl since 1.22 speaks.
 */
export function requestedApiVersion(execInfo: string | undefined): string {
  if (execInfo === undefined || execInfo === '') return V1;
  let apiVersion: unknown;
  try {
    apiVersion = (JSON.parse(execInfo) as { apiVersion?: unknown }).apiVersion;
  } catch {
    throw new UsageError(
      'KUBERNETES_EXEC_INFO is not JSON; it is set by kubectl, run `vault kube-credential` from a kubeconfig exec entry',
    );
  }
  if (apiVersion === V1 || apiVersion === V1BETA1) return apiVersion;
  const shown = typeof apiVersion === 'string' ? JSON.stringify(apiVersion.slice(0, 100)) : 'no apiVersion';
  throw new UsageError(
    `KUBERNETES_EXEC_INFO asks for ${shown}; vault answers ${V1} or ${V1BETA1}: set one of them as the exec entry's apiVersion`,
  );
}

/**
 * The ExecCredential a kubectl exec credential plugin prints, in `apiVersion` (as kubelogin does).
 * kubectl keeps the token until `expirationTimestamp` and runs the plugin again after that, so the
 * token never sits in a kubeconfig or in kubectl's argv.
 */
export function execCredential(record: AccessRecord, apiVersion: string = V1): string {
  return `${JSON.stringify({
    apiVersion,
    kind: 'ExecCredential',
    status: {
      token: record.access_token,
      // RFC 3339, as the API machinery parses it; omitted for a token that does not expire.
      ...(record.expires_at !== null && { expirationTimestamp: isoTime(record.expires_at).replace(/\.\d{3}Z$/, 'Z') }),
    },
  })}\n`;
}
