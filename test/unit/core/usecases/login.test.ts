// The login use case in-process: the real memory store and loopback listener, a fake OAuth port
// (the grants a real server would answer), a browser that follows the redirect at once, and
// signals the test sends. What is asked for, what is stored, and how a wait ends.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { Provider } from '../../../../src/core/config/providers.js';
import { accessKey, clientSecretKey, loginKey, type LoginRecord } from '../../../../src/core/credentials.js';
import { VaultError } from '../../../../src/core/errors.js';
import type { TokenResult } from '../../../../src/core/token-set.js';
import {
  authorizationParams,
  login,
  loginScopes,
  type LoginDeps,
  type LoginRequest,
} from '../../../../src/core/usecases/login.js';
import { loopbackListener } from '../../../../src/infra/adapters.js';
import type { Browser, LoginClient, TerminationSignal } from '../../../../src/core/ports.js';
import { MemoryStore, fakeClock, fakeLocks } from '../../../support/fakes.js';
import { launchedAt } from '../../../support/fetch-browser.js';

const PROVIDER: Provider = { name: 'acme', client_id: 'vault-public', issuer: 'https://issuer.test' };
const TOKENS: TokenResult = {
  access_token: 'at-new',
  token_type: 'Bearer',
  refresh_token: 'rt-new',
  expires_at: Date.UTC(2027, 0, 1),
  identity: 'ada@example.test',
};

interface Options {
  scopesSupported?: string[];
  /** What the code exchange (or the device poll) answers. */
  grant?: () => Promise<TokenResult>;
  /** What the user's browser does with the authorization URL; default: approves at once. */
  browser?: Browser['open'];
  /** Seconds until the device code expires. */
  expiresIn?: number;
  /** false: the user never approves the device code. */
  approves?: boolean;
}

interface World {
  store: MemoryStore;
  deps: LoginDeps;
  /** What the fake server saw, in order. */
  seen: string[];
  /** The client secret the OAuth port was asked to use. */
  secrets: (string | undefined)[];
  /** The authorization parameters vault asked for (scope, prompt, ...). */
  params: Record<string, string>[];
  /** Sends a termination signal to the login, as a user or a supervisor would. */
  send(signal: TerminationSignal): void;
  /** Whether anything still listens for signals. */
  watching(): boolean;
  /** Whether the grant ran with signals held (see Signals.hold). */
  heldDuringGrant: boolean[];
}

/** The user approves in the browser (started on the listener's launch URL): the server redirects back with a code and the state. */
const approve: Browser['open'] = async (url) => {
  const target = new URL(await launchedAt(url));
  const callback = new URL(target.searchParams.get('redirect_uri')!);
  callback.search = new URLSearchParams({ code: 'code-1', state: target.searchParams.get('state')! }).toString();
  await fetch(callback);
  return true;
};

function world(options: Options = {}): World {
  const store = new MemoryStore();
  let onSignal: ((signal: TerminationSignal) => void) | undefined;
  let holding = false;
  const grant = options.grant ?? (async () => TOKENS);
  const w: World = {
    store,
    seen: [],
    secrets: [],
    params: [],
    heldDuringGrant: [],
    send: (signal) => onSignal?.(signal),
    watching: () => onSignal !== undefined,
    deps: undefined as unknown as LoginDeps,
  };
  const tokens = async () => {
    w.heldDuringGrant.push(holding);
    w.seen.push('grant');
    return grant();
  };
  const client: LoginClient = {
    revocationEndpoint: undefined,
    refresh: async () => assert.fail('a login makes no refresh grant'),
    revoke: async () => {},
    exchange: async () => assert.fail('a login makes no token exchange'),
    scopesSupported: options.scopesSupported ?? [],
    async authorize(params) {
      w.params.push(params);
      return {
        state: 'state-1',
        url: (redirectUri) =>
          `https://issuer.test/auth?${new URLSearchParams({ ...params, redirect_uri: redirectUri, state: 'state-1' })}`,
        exchange: async (callback) => {
          w.seen.push(`exchange ${callback.searchParams.get('code')}`);
          return tokens();
        },
      };
    },
    async startDevice(scope) {
      w.params.push({ scope });
      return {
        verificationUri: 'https://issuer.test/device',
        verificationUriComplete: undefined,
        userCode: 'ABCD-EFGH',
        expiresIn: options.expiresIn ?? 600,
        poll: (signal) =>
          new Promise<TokenResult>((resolve, reject) => {
            signal.addEventListener('abort', () => {
              w.seen.push('poll aborted');
              reject(new Error('aborted'));
            });
            // The user approves once the code is shown, unless the test sends a signal first.
            setImmediate(() => {
              if (!signal.aborted && options.approves !== false) resolve(tokens());
            });
          }),
      };
    },
  };
  w.deps = {
    store,
    locks: fakeLocks(),
    clock: fakeClock(),
    debug: () => {},
    warn: () => {},
    env: {},
    oauth: {
      client: async (_provider, secret) => {
        w.secrets.push(secret);
        return client;
      },
    },
    signals: {
      hold: async (_done, fn) => {
        holding = true;
        try {
          return await fn();
        } finally {
          holding = false;
        }
      },
    },
    interrupts: {
      watch(on) {
        onSignal = on;
        return () => (onSignal = undefined);
      },
    },
    browser: { open: options.browser ?? approve },
    loopback: loopbackListener(() => {}),
    view: {
      authorizationUrl: () => w.seen.push('url shown'),
      deviceCode: async (_provider, device) => void w.seen.push(`code ${device.userCode} shown`),
      waiting: () => ({ note: () => {}, clear: () => {} }),
    },
  };
  return w;
}

function request(overrides: Partial<LoginRequest> = {}): LoginRequest {
  return { provider: PROVIDER, account: 'default', browser: true, port: 0, timeoutSec: 300, ...overrides };
}

async function storedLogin(store: MemoryStore, account = 'default'): Promise<LoginRecord | null> {
  const raw = await store.get(loginKey('acme', account));
  return raw === null ? null : (JSON.parse(raw) as LoginRecord);
}

test('scopes: --scope first, then the provider’s, then openid with offline_access when the server lists it', () => {
  assert.deepEqual(loginScopes({ ...PROVIDER, scopes: ['repo'] }, ['email'], ['offline_access']), ['email']);
  assert.deepEqual(loginScopes({ ...PROVIDER, scopes: ['repo'] }, [], ['offline_access']), ['repo']);
  assert.deepEqual(loginScopes(PROVIDER, undefined, ['openid', 'offline_access']), ['openid', 'offline_access']);
  assert.deepEqual(loginScopes(PROVIDER, undefined, ['openid', 'email']), ['openid']);
});

test('prompt=consent goes with offline_access, unless a preset or the provider decides the prompt', () => {
  assert.deepEqual(authorizationParams(PROVIDER, ['openid', 'offline_access']), { prompt: 'consent' });
  assert.deepEqual(authorizationParams(PROVIDER, ['openid']), {});
  assert.deepEqual(authorizationParams({ ...PROVIDER, preset: 'google' }, ['openid', 'offline_access']), {});
  assert.deepEqual(
    authorizationParams({ ...PROVIDER, params: { prompt: 'login', project_id: 'p-1', hd: 'example.test' } }, [
      'offline_access',
    ]),
    { prompt: 'login', hd: 'example.test' },
    'GCE metadata settings are no authorization parameters',
  );
});

test('a browser login asks for the chosen scopes and stores the login and its access token with signals held', async () => {
  const w = world({ scopesSupported: ['openid', 'offline_access'] });
  await w.store.set(accessKey('acme', 'default', ['email']), '{"v":1}');
  const result = await login(request(), w.deps);
  assert.equal(result.identity, 'ada@example.test');
  assert.deepEqual(w.params, [{ prompt: 'consent', scope: 'openid offline_access' }]);
  assert.deepEqual(w.seen, ['url shown', 'exchange code-1', 'grant']);
  assert.deepEqual(w.heldDuringGrant, [true], 'a signal waits until the rotated grant is stored');
  const stored = await storedLogin(w.store);
  assert.equal(stored?.refresh_token, 'rt-new');
  assert.equal(stored?.scope, 'openid offline_access');
  const access = JSON.parse((await w.store.get(accessKey('acme', 'default')))!) as { access_token: string };
  assert.equal(access.access_token, 'at-new');
  assert.equal(await w.store.get(accessKey('acme', 'default', ['email'])), null, 'the old grant’s tokens are gone');
  assert.equal(w.watching(), false, 'signals are no longer watched once the wait is over');
});

test('the stored client secret is the one the OAuth client uses', async () => {
  const w = world();
  await w.store.set(clientSecretKey('acme'), JSON.stringify({ v: 1, client_secret: 'cs-stored' }));
  await login(request({ scopes: ['openid'] }), w.deps);
  assert.deepEqual(w.secrets, ['cs-stored']);
});

for (const [signal, kind] of [
  ['SIGINT', 'interrupted'],
  ['SIGTERM', 'terminated'],
  ['SIGHUP', 'hangup'],
] as const) {
  test(`${signal} while waiting for the browser ends the login as ${kind} and stores nothing`, async () => {
    const w = world({
      browser: async () => {
        setImmediate(() => w.send(signal));
        return true;
      },
    });
    await assert.rejects(login(request(), w.deps), (error: VaultError) => error.kind === kind);
    assert.deepEqual(w.seen, ['url shown']);
    assert.deepEqual(await w.store.keys(''), []);
    assert.equal(w.watching(), false);
  });
}

test('a signal while the device code waits for approval aborts the polling', async () => {
  const w = world({ approves: false, grant: async () => assert.fail('no grant after the signal') });
  w.deps.view.deviceCode = async () => void setImmediate(() => w.send('SIGINT'));
  await assert.rejects(login(request({ device: true }), w.deps), (error: VaultError) => error.kind === 'interrupted');
  assert.deepEqual(w.seen, ['poll aborted']);
  assert.deepEqual(await w.store.keys(''), []);
});

test('a device login shows the code, then stores what the approval granted', async () => {
  const w = world();
  await login(request({ device: true, scopes: ['openid', 'offline_access'] }), w.deps);
  assert.deepEqual(w.params, [{ scope: 'openid offline_access' }]);
  assert.deepEqual(w.seen, ['code ABCD-EFGH shown', 'grant']);
  assert.equal((await storedLogin(w.store))?.refresh_token, 'rt-new');
});

test('the wait for the browser ends at the timeout with a failure', async () => {
  const w = world({ browser: async () => true });
  await assert.rejects(login(request({ timeoutSec: 0.05 }), w.deps), (error: VaultError) => {
    assert.equal(error.kind, 'failure');
    assert.match(error.message, /^login timed out after 0\.05s waiting for the browser$/);
    return true;
  });
  assert.deepEqual(await w.store.keys(''), []);
});

test('a device code that expires before the timeout ends the wait when it expires', async () => {
  const w = world({ approves: false, expiresIn: 0.05 });
  await assert.rejects(login(request({ device: true }), w.deps), /device code for acme expired after 0\.05s/);
  assert.deepEqual(await w.store.keys(''), []);
});

test('a failed code exchange stores nothing, and the old login stays', async () => {
  const w = world({
    grant: async () => {
      throw new VaultError('failure', 'login to acme failed: invalid_grant');
    },
  });
  const old: LoginRecord = { v: 1, refresh_token: 'rt-old', scope: 'openid', obtained_at: 0 };
  await w.store.set(loginKey('acme', 'default'), JSON.stringify(old));
  await assert.rejects(login(request(), w.deps), /invalid_grant/);
  assert.deepEqual(await storedLogin(w.store), old);
  assert.deepEqual(await w.store.keys(''), [loginKey('acme', 'default')]);
});

test('an error in the callback is the provider’s answer, escaped, and nothing is exchanged', async () => {
  const w = world({
    browser: async (url) => {
      const target = new URL(await launchedAt(url));
      const callback = new URL(target.searchParams.get('redirect_uri')!);
      callback.search = `state=state-1&error=access_denied&error_description=${encodeURIComponent('no\x1b[2J')}`;
      await fetch(callback);
      return true;
    },
  });
  await assert.rejects(
    login(request(), w.deps),
    /^VaultError: login to acme failed: the provider answered access_denied \(no\\x1b\[2J\)$/,
  );
  assert.deepEqual(w.seen, ['url shown']);
  assert.deepEqual(await w.store.keys(''), []);
});

test('an expiring access token without a refresh token is refused, and nothing is stored', async () => {
  const w = world({ grant: async () => ({ ...TOKENS, refresh_token: undefined }) });
  await assert.rejects(login(request({ scopes: ['openid'] }), w.deps), /returned no refresh token.*offline_access/);
  assert.deepEqual(await w.store.keys(''), []);
});
