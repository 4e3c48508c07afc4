// `vault env`: every format read back by what consumes it (dash, bash, fish, the GitHub Actions
// runner's GITHUB_ENV parser), with a real token and with a hostile one.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';

import { fishQuote, powershellQuote, shQuote } from '../../../src/core/protocols/shell.js';
import { runVault, VAULT_BIN, type Sandbox } from '../../support/cli.js';
import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { loggedIn, withProvider } from '../../support/vault-sandbox.js';
import { assertSameSecret, run } from '../../support/integrations.js';

// What a token must never be able to do to the shell that evaluates it.
const HOSTILE = `it's "q" $HOME \`touch pwned\` $(touch pwned) \\' \\" %0A ‘’‚‛ ;&|*?~!# \t\nsecond line\r\nend\\`;
const HOSTILE_NO_CR = HOSTILE.replace(/\r/g, '');

let server: TestServer;
let real: Sandbox;
let hostile: Sandbox;

before(async () => {
  server = await startTestServer({ accessTokenTtl: 600 });
  real = await loggedIn(server, { provider: { scopes: [] } });
  hostile = await withProvider(server, { provider: { scopes: [] } });
});
after(async () => {
  real?.cleanup();
  hostile?.cleanup();
  await server?.close();
});

/** Environment for a shell that runs vault as "$NODE" "$VAULT". */
function shellEnv(box: Sandbox, token?: string): NodeJS.ProcessEnv {
  return {
    ...box.env,
    NODE: process.execPath,
    VAULT: VAULT_BIN,
    ...(token !== undefined && { VAULT_ACME_ACCESS_TOKEN: token }),
  };
}

/** Runs a shell command in a scratch directory and checks the token's payload ran nowhere. */
async function inShell(shell: string, args: string[], env: NodeJS.ProcessEnv) {
  const cwd = mkdtempSync(join(tmpdir(), 'vault-shell-'));
  try {
    const result = await run(shell, args, { env, cwd });
    assert.equal(existsSync(join(cwd, 'pwned')), false, `${shell} ran a command from the token`);
    return result;
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

const POSIX_EVAL = 'eval "$("$NODE" "$VAULT" env acme)" && printf %s "$ACME_ACCESS_TOKEN"';
const FISH_SOURCE = '"$NODE" "$VAULT" env acme --format fish | source; and printf %s "$ACME_ACCESS_TOKEN"';

test('sh format: eval in dash and bash yields the token, a real one and a hostile one', async () => {
  const printed = await runVault(['token', 'acme'], { env: real.env });
  const token = printed.stdout.trim();
  assert.equal((await server.introspect(token)).active, true);
  for (const shell of ['sh', 'bash']) {
    const fromReal = await inShell(shell, ['-c', POSIX_EVAL], shellEnv(real));
    assert.equal(fromReal.stderr, '');
    assertSameSecret(fromReal.stdout, token, `${shell}: $ACME_ACCESS_TOKEN`);
    const fromHostile = await inShell(shell, ['-c', POSIX_EVAL], shellEnv(hostile, HOSTILE));
    assert.equal(fromHostile.stdout, HOSTILE, `${shell}: ${fromHostile.stderr}`);
  }
});

test('fish format: source in fish yields the token', async () => {
  const printed = await runVault(['token', 'acme'], { env: real.env });
  const fromReal = await inShell('fish', ['--no-config', '-c', FISH_SOURCE], shellEnv(real));
  assert.equal(fromReal.stderr, '');
  assertSameSecret(fromReal.stdout, printed.stdout.trim(), 'fish: $ACME_ACCESS_TOKEN');
  const fromHostile = await inShell('fish', ['--no-config', '-c', FISH_SOURCE], shellEnv(hostile, HOSTILE));
  assert.equal(fromHostile.stdout, HOSTILE, fromHostile.stderr);
});

test("--name sets each name given instead of the provider's", async () => {
  const script =
    'eval "$("$NODE" "$VAULT" env acme --name A_TOKEN --name B_TOKEN)" && printf "%s|%s|%s" "$A_TOKEN" "$B_TOKEN" "${ACME_ACCESS_TOKEN-unset}"';
  const result = await inShell('sh', ['-c', script], shellEnv(hostile, 'tok'));
  assert.equal(result.stdout, 'tok|tok|unset');
  const bad = await runVault(['env', 'acme', '--name', 'NOT-A-NAME'], { env: shellEnv(hostile, 'tok') });
  assert.equal(bad.code, 2);
});

/** Characters a token could carry, and then some: printable ASCII, tab, line breaks, non-ASCII. */
const tokenChars = fc.oneof(
  fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  fc.constantFrom('\t', '\n', '\r', 'é', '‘', '’', '‚', '‛', '😀'),
);

/** Evaluates many quoted values in one shell run; the values come back NUL-separated. */
async function roundTrip(
  shell: string,
  args: (script: string) => string[],
  assign: (v: string) => string,
  values: string[],
) {
  const script = values.map((v) => `${assign(v)}\nprintf '%s\\000' "$v"\n`).join('');
  const result = await inShell(shell, args(script), {
    PATH: process.env.PATH,
    HOME: hostile.env.HOME,
    LANG: 'C.UTF-8',
  });
  assert.equal(result.stderr, '');
  assert.deepEqual(result.stdout.split('\0').slice(0, -1), values);
}

test('sh and fish quoting round-trip arbitrary values through dash, bash and fish', async () => {
  const values = fc.sample(fc.string({ unit: tokenChars, maxLength: 40 }), { numRuns: 300, seed: 20260101 });
  await roundTrip(
    'sh',
    (s) => ['-c', s],
    (v) => `v=${shQuote(v)}`,
    values,
  );
  await roundTrip(
    'bash',
    (s) => ['-c', s],
    (v) => `v=${shQuote(v)}`,
    values,
  );
  await roundTrip(
    'fish',
    (s) => ['--no-config', '-c', s],
    (v) => `set v ${fishQuote(v)}`,
    values,
  );
});

/**
 * PowerShell's reading of what powershellQuote emits (about_Quoting_Rules): in a '…' string any of
 * ' ‘ ’ ‚ ‛ ends it unless another one follows (the pair stands for one); "`n" and "`r" are line
 * breaks; pieces are joined with +. pwsh is not installed here, so this is the reference.
 */
function evalPowerShell(expr: string): string {
  const quotes = "'\u2018\u2019\u201A\u201B";
  let out = '';
  let i = 0;
  for (;;) {
    if (expr.startsWith('"`n"', i)) {
      out += '\n';
      i += 4;
    } else if (expr.startsWith('"`r"', i)) {
      out += '\r';
      i += 4;
    } else if (quotes.includes(expr[i] ?? 'x')) {
      for (i++; ; i++) {
        const c = expr[i];
        if (c === undefined) throw new Error(`unterminated string in ${JSON.stringify(expr)}`);
        if (!quotes.includes(c)) out += c;
        else if (quotes.includes(expr[i + 1] ?? 'x')) out += expr[++i];
        else break;
      }
      i++;
    } else {
      throw new Error(`unexpected ${JSON.stringify(expr.slice(i))} in ${JSON.stringify(expr)}`);
    }
    if (i === expr.length) return out;
    if (!expr.startsWith(' + ', i)) throw new Error(`expected + at ${i} in ${JSON.stringify(expr)}`);
    i += 3;
  }
}

test("powershell format: quoting survives PowerShell's rules and keeps each assignment on one line", async () => {
  assert.equal(powershellQuote("it's"), "'it''s'");
  assert.equal(powershellQuote('a’b'), "'a’’b'");
  assert.equal(powershellQuote('a\nb'), `'a' + "\`n" + 'b'`);
  assert.equal(powershellQuote('$env:HOME `x`'), "'$env:HOME `x`'");
  fc.assert(
    fc.property(fc.string({ unit: tokenChars, maxLength: 60 }), (value) => {
      const expr = powershellQuote(value);
      assert.ok(!/[\r\n]/.test(expr));
      assert.equal(evalPowerShell(expr), value);
    }),
    { numRuns: 2000 },
  );
  const result = await runVault(['env', 'acme', '--format', 'powershell'], { env: shellEnv(hostile, HOSTILE) });
  assert.equal(result.code, 0, result.stderr);
  const m = /^\$Env:ACME_ACCESS_TOKEN = (.*)\n$/.exec(result.stdout);
  assert.ok(m, result.stdout);
  assert.equal(evalPowerShell(m[1]!), HOSTILE);
});

test('dotenv and json formats', async () => {
  const token = 'ya29.a0AfB_by-Token~with+b64/chars==';
  const dotenv = await runVault(['env', 'acme', '--format', 'dotenv', '--name', 'A', '--name', 'B'], {
    env: shellEnv(hostile, token),
  });
  assert.equal(dotenv.stdout, `A=${token}\nB=${token}\n`);
  // .env readers disagree on quotes and escapes: a token needing them is refused, not mangled.
  const refused = await runVault(['env', 'acme', '--format', 'dotenv'], { env: shellEnv(hostile, HOSTILE) });
  assert.equal(refused.code, 1);
  assert.equal(refused.stdout, '');
  assert.ok(!refused.stderr.includes('second line'), 'the token leaked into the error');
  const json = await runVault(['env', 'acme', '--format', 'json'], { env: shellEnv(hostile, HOSTILE) });
  assert.deepEqual(JSON.parse(json.stdout), { ACME_ACCESS_TOKEN: HOSTILE });
});

/**
 * The runner's reading of $GITHUB_ENV (actions/runner SetEnvFileCommand): lines split at LF, CRLF
 * or CR; `NAME=value`, or `NAME<<DELIMITER` followed by lines up to one equal to DELIMITER,
 * joined with LF.
 */
function parseGithubEnv(text: string): Record<string, string> {
  const lines = text.split(/\r\n|\r|\n/);
  const env: Record<string, string> = {};
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const eq = line.indexOf('=');
    const heredoc = line.indexOf('<<');
    if (eq >= 0 && (heredoc < 0 || eq < heredoc)) {
      env[line.slice(0, eq)] = line.slice(eq + 1);
      continue;
    }
    assert.ok(heredoc > 0, `invalid line ${JSON.stringify(line)}`);
    const delimiter = line.slice(heredoc + 2);
    const value: string[] = [];
    for (i++; lines[i] !== delimiter; i++) {
      assert.ok(i < lines.length, `no closing ${delimiter}`);
      value.push(lines[i]!);
    }
    env[line.slice(0, heredoc)] = value.join('\n');
  }
  return env;
}

function unescapeWorkflowData(value: string): string {
  return value.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}

test('github-actions format: mask on stdout, NAME<<DELIM blocks in $GITHUB_ENV', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vault-gha-'));
  try {
    const file = join(dir, 'github_env');
    writeFileSync(file, 'EARLIER=kept\n');
    const result = await runVault(
      ['env', 'acme', '--format', 'github-actions', '--name', 'GH_TOKEN', '--name', 'OTHER'],
      {
        env: { ...shellEnv(hostile, HOSTILE_NO_CR), GITHUB_ENV: file },
      },
    );
    assert.equal(result.code, 0, result.stderr);
    const masks = result.stdout.split('\n').filter(Boolean);
    assert.ok(
      masks.every((l) => l.startsWith('::add-mask::')),
      result.stdout,
    );
    const masked = masks.map((l) => unescapeWorkflowData(l.slice('::add-mask::'.length)));
    assert.equal(masked[0], HOSTILE_NO_CR);
    for (const line of HOSTILE_NO_CR.split('\n'))
      assert.ok(masked.includes(line), `line ${JSON.stringify(line)} is not masked`);
    assert.deepEqual(parseGithubEnv(readFileSync(file, 'utf8')), {
      EARLIER: 'kept',
      GH_TOKEN: HOSTILE_NO_CR,
      OTHER: HOSTILE_NO_CR,
    });

    const real_ = await runVault(['env', 'acme', '--format', 'github-actions'], {
      env: { ...real.env, GITHUB_ENV: file },
    });
    assert.equal(real_.code, 0, real_.stderr);
    const token = (await runVault(['token', 'acme'], { env: real.env })).stdout.trim();
    assertSameSecret(real_.stdout, `::add-mask::${token}\n`, 'the mask line');
    assertSameSecret(
      parseGithubEnv(readFileSync(file, 'utf8')).ACME_ACCESS_TOKEN,
      token,
      'ACME_ACCESS_TOKEN in GITHUB_ENV',
    );

    // The runner would turn a CR into a line break: refused rather than changed.
    const before = readFileSync(file, 'utf8');
    const cr = await runVault(['env', 'acme', '--format', 'github-actions'], {
      env: { ...shellEnv(hostile, 'a\rb'), GITHUB_ENV: file },
    });
    assert.equal(cr.code, 1);
    assert.equal(readFileSync(file, 'utf8'), before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('github-actions format without GITHUB_ENV: exit 2, nothing printed', async () => {
  const result = await runVault(['env', 'acme', '--format', 'github-actions'], { env: real.env });
  assert.equal(result.code, 2);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /GITHUB_ENV/);
});
