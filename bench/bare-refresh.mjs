// The baseline for vault's refresh path: the least a Node program needs for one refresh grant
// with openid-client — discovery, the refresh grant, and keeping the rotated refresh token.
// The refresh token is read from and written back to BENCH_RT_FILE (never argv).
import { readFileSync, writeFileSync } from 'node:fs';
import * as client from 'openid-client';

const { BENCH_ISSUER: issuer, BENCH_CLIENT_ID: clientId, BENCH_RT_FILE: file } = process.env;
const config = await client.discovery(new URL(issuer), clientId, undefined, client.None(), {
  execute: [client.allowInsecureRequests],
});
const tokens = await client.refreshTokenGrant(config, readFileSync(file, 'utf8'));
if (tokens.refresh_token) writeFileSync(file, tokens.refresh_token);
process.stdout.write(`${tokens.access_token}\n`);
