// A small stand-in for GitHub's OAuth endpoints, where GitHub departs from RFC 6749 in ways no
// standards-based test server reproduces: the token endpoint answers errors (and the device
// flow's authorization_pending and slow_down) with HTTP 200 and an `error` member, JSON only when
// asked for with Accept, and issues access tokens without expires_in or a refresh token (OAuth
// apps). https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export interface GitHubStandInOptions {
  /** Answers to the first device polls, before the access token; default none. */
  deviceAnswers?: ('authorization_pending' | 'slow_down')[];
  /** The device flow's `interval`, seconds; GitHub's is 5, default 1 to keep tests short. */
  interval?: number;
}

export interface Poll {
  /** ms since the epoch, when the poll arrived. */
  at: number;
  answer: string;
}

export interface GitHubStandIn {
  /** e.g. http://127.0.0.1:PORT, in place of https://github.com. */
  url: string;
  clientId: string;
  clientSecret: string;
  /** Every access token issued. */
  issued: string[];
  /** Every device-flow poll and what it got. */
  polls: Poll[];
  /** Requests to the token endpoint, by kind. */
  tokenRequests: { code: number; device: number };
  close(): Promise<void>;
}

interface PendingCode {
  redirectUri: string;
  scope: string;
  challenge?: string;
}

export async function startGitHubStandIn(options: GitHubStandInOptions = {}): Promise<GitHubStandIn> {
  const clientId = 'Iv1.standin0123456789';
  const clientSecret = `standin-secret-${randomBytes(8).toString('hex')}`;
  const interval = options.interval ?? 1;
  const codes = new Map<string, PendingCode>();
  const devices = new Map<string, { scope: string; answers: string[]; interval: number; lastPoll?: number }>();
  const state: GitHubStandIn = {
    url: '',
    clientId,
    clientSecret,
    issued: [],
    polls: [],
    tokenRequests: { code: 0, device: 0 },
    close: async () => {},
  };

  const issue = (scope: string) => {
    const token = `gho_${randomBytes(18).toString('base64url')}`;
    state.issued.push(token);
    // GitHub lists scopes with commas and sends no expires_in and no refresh_token for OAuth apps.
    return { access_token: token, token_type: 'bearer', scope: scope.split(/\s+/).filter(Boolean).join(',') };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', state.url);
    if (req.method === 'GET' && url.pathname === '/login/oauth/authorize') return authorize(url, res);
    const body = req.method === 'POST' ? new URLSearchParams(await text(req)) : undefined;
    if (body && url.pathname === '/login/device/code') {
      if (body.get('client_id') !== clientId) return answer(req, res, 200, { error: 'unauthorized_client' });
      const deviceCode = randomBytes(20).toString('hex');
      devices.set(deviceCode, {
        scope: body.get('scope') ?? '',
        answers: [...(options.deviceAnswers ?? [])],
        interval,
      });
      return answer(req, res, 200, {
        device_code: deviceCode,
        user_code: 'WDJB-MJHT',
        verification_uri: `${state.url}/login/device`,
        expires_in: 899,
        interval,
      });
    }
    if (body && url.pathname === '/login/oauth/access_token') return token(req, res, body);
    res.writeHead(404).end();
  };
  const server = createServer((req, res) => void handle(req, res));

  // The user has authorized the app before: GitHub sends the browser straight back.
  function authorize(url: URL, res: ServerResponse) {
    const redirectUri = url.searchParams.get('redirect_uri') ?? '';
    if (url.searchParams.get('client_id') !== clientId || !redirectUri.startsWith('http://127.0.0.1:')) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('bad authorization request');
      return;
    }
    const code = randomBytes(10).toString('hex');
    codes.set(code, {
      redirectUri,
      scope: url.searchParams.get('scope') ?? '',
      ...(url.searchParams.get('code_challenge_method') === 'S256' && {
        challenge: url.searchParams.get('code_challenge') ?? '',
      }),
    });
    const back = new URL(redirectUri);
    back.searchParams.set('code', code);
    const stateParam = url.searchParams.get('state');
    if (stateParam !== null) back.searchParams.set('state', stateParam);
    res.writeHead(302, { location: back.href }).end();
  }

  function token(req: IncomingMessage, res: ServerResponse, body: URLSearchParams) {
    const { id, secret } = clientCredentials(req, body);
    if (body.get('grant_type') === DEVICE_GRANT) {
      state.tokenRequests.device++;
      if (id !== clientId) return answer(req, res, 200, { error: 'incorrect_client_credentials' });
      const device = devices.get(body.get('device_code') ?? '');
      if (!device) return answer(req, res, 200, { error: 'incorrect_device_code' });
      const now = Date.now();
      // Like GitHub: a poll before the interval has passed is told to slow down, 5 s more each time.
      const early = device.lastPoll !== undefined && now - device.lastPoll < device.interval * 1000;
      device.lastPoll = now;
      const scripted = early ? 'slow_down' : device.answers.shift();
      state.polls.push({ at: now, answer: scripted ?? 'access_token' });
      if (scripted === 'slow_down') {
        device.interval += 5;
        return answer(req, res, 200, {
          error: 'slow_down',
          error_description: 'Too many requests have been made in the same timeframe.',
          interval: device.interval,
        });
      }
      if (scripted)
        return answer(req, res, 200, {
          error: scripted,
          error_description: 'The authorization request is still pending.',
        });
      devices.delete(body.get('device_code')!);
      return answer(req, res, 200, issue(device.scope));
    }
    state.tokenRequests.code++;
    if (id !== clientId || secret !== clientSecret) {
      return answer(req, res, 200, {
        error: 'incorrect_client_credentials',
        error_description: 'The client_id and/or client_secret passed are incorrect.',
      });
    }
    const code = body.get('code') ?? '';
    const pending = codes.get(code);
    codes.delete(code);
    const verifier = body.get('code_verifier') ?? '';
    const verified =
      pending?.challenge === undefined ||
      createHash('sha256').update(verifier).digest('base64url') === pending.challenge;
    if (!pending || !verified || body.get('redirect_uri') !== pending.redirectUri) {
      return answer(req, res, 200, {
        error: 'bad_verification_code',
        error_description: 'The code passed is incorrect or expired.',
      });
    }
    return answer(req, res, 200, issue(pending.scope));
  }

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = async () => {
    const closed = once(server, 'close');
    server.close();
    server.closeAllConnections();
    await closed;
  };
  return state;
}

/** GitHub accepts the client's credentials in the body or with HTTP Basic. */
function clientCredentials(req: IncomingMessage, body: URLSearchParams): { id?: string; secret?: string } {
  const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
  if (basic) {
    const [id, secret] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':').map(decodeURIComponent);
    return { id, secret };
  }
  return { id: body.get('client_id') ?? undefined, secret: body.get('client_secret') ?? undefined };
}

/** JSON when the client asks for it, else GitHub's default form encoding. */
function answer(req: IncomingMessage, res: ServerResponse, status: number, body: Record<string, unknown>) {
  if ((req.headers.accept ?? '').includes('application/json')) {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
  } else {
    const form = new URLSearchParams(Object.entries(body).map(([k, v]): [string, string] => [k, String(v)]));
    res.writeHead(status, { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }).end(form.toString());
  }
}

async function text(req: IncomingMessage): Promise<string> {
  let data = '';
  for await (const chunk of req) data += chunk;
  return data;
}
