import type { AccessRecord } from './token-set.js';

/**
 * The ExecCredential a kubectl exec credential plugin prints (client.authentication.k8s.io/v1,
 * as kubelogin does). kubectl keeps the token until `expirationTimestamp` and runs the plugin
 * again after that, so the token never sits in a kubeconfig or in kubectl's argv.
 */
export function execCredential(record: AccessRecord): string {
  return `${JSON.stringify({
    apiVersion: 'client.authentication.k8s.io/v1',
    kind: 'ExecCredential',
    status: {
      token: record.access_token,
      // RFC 3339, as the API machinery parses it; omitted for a token that does not expire.
      ...(record.expires_at !== null && { expirationTimestamp: new Date(record.expires_at).toISOString().replace(/\.\d{3}Z$/, 'Z') }),
    },
  })}\n`;
}
