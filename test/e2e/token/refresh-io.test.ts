// What one refresh costs in file operations, counted by strace on a real `vault token` against the
// real test server: config.toml is opened once, credentials.json read at most twice (before and
// under the refresh lock) and rewritten once, with the rotated refresh token and the new access
// token in the same rewrite.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { configFile, dataDir } from '../../../src/infra/paths.js';
import { runCommand, VAULT_BIN } from '../../support/cli.js';
import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { expire, loggedIn, type Vault } from '../../support/vault-sandbox.js';

let server: TestServer;
before(async () => {
  server = await startTestServer({ accessTokenTtl: 300 });
});
after(() => server.close());

/** The file paths named by each traced call, by call name (the opened path; a rename's target). */
function traced(log: string): { opened: string[]; renamedTo: string[] } {
  const opened: string[] = [];
  const renamedTo: string[] = [];
  for (const line of log.split('\n')) {
    const call = /^(?:\[pid\s+\d+\]\s+|\d+\s+)?(openat|rename|renameat|renameat2)\(/.exec(line)?.[1];
    if (!call) continue;
    const paths = [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!);
    if (call === 'openat') opened.push(paths[0]!);
    else renamedTo.push(paths.at(-1)!);
  }
  return { opened, renamedTo };
}

describe('the file operations of one refresh', () => {
  let v: Vault;
  before(async () => {
    v = await loggedIn(server);
  });
  after(() => v.cleanup());

  test('an expired cached token: config.toml opened once, credentials.json read at most twice and rewritten once', async () => {
    await expire(v);
    const oldRefresh = (await v.readLogin())!.refresh_token;
    const refreshes = server.counts.refresh;
    const log = join(v.sb.dir, 'strace.log');
    const r = await runCommand(
      'strace',
      [
        '-f',
        '-qq',
        '-o',
        log,
        '-e',
        'trace=openat,rename,renameat,renameat2',
        process.execPath,
        VAULT_BIN,
        'token',
        'acme',
      ],
      { env: v.env },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(server.counts.refresh, refreshes + 1, 'one refresh grant');

    const login = (await v.readLogin())!;
    assert.notEqual(login.refresh_token, oldRefresh, 'the server rotated the refresh token and vault stored it');
    assert.equal((await v.readAccess())!.access_token, r.stdout.trim(), 'the printed token is the cached one');

    const { opened, renamedTo } = traced(readFileSync(log, 'utf8'));
    const config = configFile(v.env);
    const credentials = join(dataDir(v.env), 'credentials.json');
    assert.equal(opened.filter((p) => p === config).length, 1, 'config.toml opened once');
    const reads = opened.filter((p) => p === credentials).length;
    assert.ok(reads >= 1 && reads <= 2, `credentials.json read ${reads} times`);
    assert.equal(renamedTo.filter((p) => p === credentials).length, 1, 'credentials.json rewritten once');
  });
});
