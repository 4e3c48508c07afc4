import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { azureError, azureRoute, azureTokenBody, AZURE_PATH } from '../core/protocols/azure-identity.js';
import type { MetadataEndpoint } from '../core/usecases/metadata-endpoint.js';
import { startLoopbackServer, type MetadataServer } from './metadata-server.js';
import type { LoopbackGuard } from './peer-owner.js';

export interface AzureServer extends MetadataServer {
  /** IDENTITY_ENDPOINT: `http://127.0.0.1:PORT/msi/token`. */
  endpoint: string;
  /** IDENTITY_HEADER: the per-run secret every request must carry. */
  secret: string;
}

/**
 * Serves the App Service managed-identity protocol for `source` on 127.0.0.1 (see
 * startLoopbackServer), behind a fresh secret of 32 random bytes (base64url).
 */
export async function startAzureServer(
  source: MetadataEndpoint,
  port = 0,
  debug: (message: string) => void = () => {},
): Promise<AzureServer> {
  const secret = randomBytes(32).toString('base64url');
  // Digests of equal length, so the comparison takes the same time whatever was sent.
  const digest = (value: string) => createHash('sha256').update(value).digest();
  const expected = digest(secret);
  const matches = (value: string | undefined) => value !== undefined && timingSafeEqual(digest(value), expected);
  const server = await startLoopbackServer(
    (req, res, host, guard) => answer(req, res, host, guard, source, matches),
    port,
    debug,
  );
  return { ...server, endpoint: `http://${server.host}${AZURE_PATH}`, secret };
}

async function answer(
  req: IncomingMessage,
  res: ServerResponse,
  host: string,
  guard: LoopbackGuard,
  source: MetadataEndpoint,
  matches: (value: string | undefined) => boolean,
): Promise<void> {
  res.setHeader('cache-control', 'no-store');
  const refused = await guard.refusal(req);
  if (refused)
    return send(res, azureError(403, `refused: ${refused}; this endpoint serves only the user who started it`));
  const result = azureRoute({ method: req.method ?? '', url: req.url ?? '', headers: req.headers }, host, matches);
  if (result.kind === 'reply') return send(res, result);
  let token;
  try {
    token = await source.token(source.azureScopes(result.resource));
  } catch (error) {
    source.report(
      `azure endpoint: no token for resource ${JSON.stringify(result.resource).slice(0, 200)}: ${(error as Error).message}`,
    );
    return send(res, azureError(503, 'token unavailable; see the stderr of vault'));
  }
  send(res, {
    status: 200,
    body: azureTokenBody(token.accessToken, token.expiresAt, result.resource, source.clientId),
  });
}

function send(res: ServerResponse, answer: { status: number; body: string }): void {
  res.writeHead(answer.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(answer.body),
  });
  res.end(answer.body);
}
