// The file store's promises beyond the shared contract: private permissions, atomic writes,
// encryption at rest, and refusing (loudly, without destroying anything) what it cannot read.
import { describe, test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileStore, type FileStoreOptions } from '../../../../src/infra/stores/file-store.js';
import { StoreError } from '../../../../src/core/errors.js';
import { exitCodeFor } from '../../../../src/cli/root.js';

const ROOT = fileURLToPath(new URL('../../../..', import.meta.url));
const WRITER = fileURLToPath(new URL('../../../support/concurrent-file-writer.ts', import.meta.url));

let dir: string;
let dataDir: string;
let file: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vault-file-store-'));
  dataDir = join(dir, 'data', 'vault');
  file = join(dataDir, 'credentials.json');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function open(options: FileStoreOptions = {}): FileStore {
  return new FileStore(file, options);
}

/** The pid of a process that has exited (and was reaped): no writer can be alive under it. */
async function deadPid(): Promise<number> {
  const child = spawn('true', { stdio: 'ignore' });
  await once(child, 'exit');
  return child.pid!;
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

/** Writes `text` as the credentials file, with a private mode unless told otherwise. */
function plant(text: string, fileMode = 0o600): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(file, text);
  chmodSync(file, fileMode);
}

/** The promise rejects with a StoreError (exit 5) whose message names the file and matches `pattern`. */
async function rejectsNamingFile(promise: Promise<unknown>, pattern: RegExp): Promise<StoreError> {
  let caught: unknown;
  await promise.then(
    () => assert.fail('expected a StoreError'),
    (error: unknown) => (caught = error),
  );
  assert.ok(caught instanceof StoreError, `expected a StoreError, got ${String(caught)}`);
  assert.equal(exitCodeFor(caught.kind), 5);
  assert.ok(caught.message.includes(file), `message does not name ${file}: ${caught.message}`);
  assert.match(caught.message, pattern);
  assert.ok(!caught.message.includes('\n'), 'message is one line');
  return caught;
}

describe('file store on disk', () => {
  test('a temporary file left by a writer killed mid-write is removed by the next write', async () => {
    await open().set('a', '1');
    const leftover = join(dataDir, `.credentials.json.${await deadPid()}.deadbeef.tmp`);
    writeFileSync(leftover, '{"v":1,"entries":{"a":"secret-from-a-dead-writer"}}', { mode: 0o600 });
    await open().set('b', '2');
    assert.deepEqual(readdirSync(dataDir).sort(), ['credentials.json', 'locks']);
    assert.equal(await open().get('a'), '1');
  });

  test("a live writer's temporary file is left alone until it is older than the lock's stale time", async () => {
    await open().set('a', '1');
    const writer = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const live = join(dataDir, `.credentials.json.${writer.pid}.cafe.tmp`);
      writeFileSync(live, 'being written', { mode: 0o600 });
      await open().set('b', '2');
      assert.equal(readFileSync(live, 'utf8'), 'being written', "another writer's temporary file was removed");
      // Older than a lock can stay unrefreshed: its writer lost the lock, and the file goes.
      const old = new Date(Date.now() - 60_000);
      utimesSync(live, old, old);
      await open().set('c', '3');
      assert.deepEqual(readdirSync(dataDir).sort(), ['credentials.json', 'locks']);
    } finally {
      writer.kill('SIGKILL');
    }
  });

  test('creates the file 0600 inside a 0700 directory', async () => {
    await open().set('rt:acme:default', 'secret');
    assert.equal(mode(file), 0o600);
    assert.equal(mode(dataDir), 0o700);
  });

  test('leaves no temporary files behind after writes and deletes', async () => {
    const store = open();
    for (let i = 0; i < 5; i++) await store.set(`rt:p${i}:default`, `v${i}`);
    await store.delete('rt:p0:default');
    await store.set('rt:p1:default', 'changed');
    assert.deepEqual(readdirSync(dataDir).sort(), ['credentials.json', 'locks']);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { v: number; entries: Record<string, string> };
    assert.equal(doc.v, 1);
    assert.deepEqual(Object.keys(doc.entries).sort(), [
      'rt:p1:default',
      'rt:p2:default',
      'rt:p3:default',
      'rt:p4:default',
    ]);
    assert.equal(doc.entries['rt:p1:default'], 'changed');
  });

  test('an open file mode (0644) is closed to 0600 again, with a warning naming the file', async () => {
    plant(JSON.stringify({ v: 1, entries: { 'rt:acme:default': 'kept' } }), 0o644);
    const warnings: string[] = [];
    const store = open({ warn: (m) => warnings.push(m) });
    assert.equal(await store.get('rt:acme:default'), 'kept');
    assert.equal(mode(file), 0o600);
    assert.equal(warnings.length, 1);
    assert.ok(warnings[0]!.includes(file), warnings[0]);
    assert.match(warnings[0]!, /644/);
  });
});

describe('file store encryption (VAULT_FILE_PASSPHRASE)', () => {
  const value = 'refresh-token-PLAINTEXT-9f8e7d';

  test('the file holds AES-256-GCM ciphertext: neither the value nor the key name appears', async () => {
    await open({ passphrase: 'pw-1' }).set('rt:secret-provider:default', value);
    const raw = readFileSync(file, 'utf8');
    assert.ok(!raw.includes(value), 'plaintext value found in the encrypted file');
    assert.ok(!raw.includes('secret-provider'), 'key name found in the encrypted file');
    const doc = JSON.parse(raw) as {
      v: number;
      cipher: string;
      kdf: { name: string };
      iv: string;
      tag: string;
      data: string;
    };
    assert.equal(doc.v, 1);
    assert.equal(doc.cipher, 'aes-256-gcm');
    assert.equal(doc.kdf.name, 'scrypt');
    assert.equal(mode(file), 0o600);
    assert.equal(await open({ passphrase: 'pw-1' }).get('rt:secret-provider:default'), value);
  });

  test('a wrong passphrase is a StoreError naming the file, and neither get nor set changes the file', async () => {
    await open({ passphrase: 'right-passphrase' }).set('rt:acme:default', value);
    const before = readFileSync(file);
    const wrong = open({ passphrase: 'wrong-passphrase' });
    const error = await rejectsNamingFile(wrong.get('rt:acme:default'), /passphrase/i);
    assert.ok(
      !error.message.includes('wrong-passphrase') && !error.message.includes('right-passphrase'),
      'a passphrase leaked into the message',
    );
    await rejectsNamingFile(wrong.set('rt:other:default', 'x'), /passphrase/i);
    assert.deepEqual(readFileSync(file), before);
    assert.equal(await open({ passphrase: 'right-passphrase' }).get('rt:acme:default'), value);
  });

  test('an encrypted file without a passphrase is a StoreError that says to set VAULT_FILE_PASSPHRASE', async () => {
    await open({ passphrase: 'pw-2' }).set('rt:acme:default', value);
    const before = readFileSync(file);
    await rejectsNamingFile(open().get('rt:acme:default'), /encrypted.*VAULT_FILE_PASSPHRASE/);
    await rejectsNamingFile(open().set('rt:acme:default', 'plain'), /VAULT_FILE_PASSPHRASE/);
    assert.deepEqual(readFileSync(file), before);
  });

  test('altered ciphertext is refused, not decoded into garbage', async () => {
    await open({ passphrase: 'pw-3' }).set('rt:acme:default', value);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { data: string };
    const data = Buffer.from(doc.data, 'base64');
    data[0] = data[0]! ^ 0xff;
    doc.data = data.toString('base64');
    plant(JSON.stringify(doc));
    await rejectsNamingFile(open({ passphrase: 'pw-3' }).get('rt:acme:default'), /altered|decrypt/);
  });
});

describe('file store refuses what it cannot read, and loses nothing', () => {
  test('corrupt JSON is a StoreError naming the file, and a later set() does not overwrite it', async () => {
    const corrupt = '{"v":1,"entries":{"rt:acme:default":"half-writ';
    plant(corrupt);
    const store = open();
    await rejectsNamingFile(store.get('rt:acme:default'), /corrupt/);
    await rejectsNamingFile(store.keys('rt:'), /corrupt/);
    await rejectsNamingFile(store.set('rt:new:default', 'value'), /corrupt/);
    await rejectsNamingFile(store.delete('rt:acme:default'), /corrupt/);
    assert.equal(readFileSync(file, 'utf8'), corrupt);
    assert.deepEqual(readdirSync(dataDir).sort(), ['credentials.json', 'locks']);
  });

  test('JSON of the wrong shape (non-string entry) is reported as corrupt, not dropped', async () => {
    const text = JSON.stringify({ v: 1, entries: { 'rt:acme:default': 42 } });
    plant(text);
    await rejectsNamingFile(open().get('rt:acme:default'), /corrupt/);
    await rejectsNamingFile(open().set('rt:acme:default', 'x'), /corrupt/);
    assert.equal(readFileSync(file, 'utf8'), text);
  });

  test('a file from a newer vault ({"v":2}) is refused with a message saying to upgrade, and kept', async () => {
    const text = JSON.stringify({ v: 2, entries: { 'rt:acme:default': 'x' }, future: true });
    plant(text);
    await rejectsNamingFile(open().get('rt:acme:default'), /upgrade/);
    await rejectsNamingFile(open().set('rt:acme:default', 'y'), /upgrade/);
    assert.equal(readFileSync(file, 'utf8'), text);
  });
});

describe('file store under concurrent writers', () => {
  test('8 processes writing 10 keys each into one file lose no update', async () => {
    const writers = 8;
    const perWriter = 10;
    const results = await Promise.all(
      Array.from(
        { length: writers },
        (_, w) =>
          new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
            const child = spawn(process.execPath, ['--import', 'tsx', WRITER, file, String(w), String(perWriter)], {
              cwd: ROOT,
              stdio: ['ignore', 'ignore', 'pipe'],
            });
            let stderr = '';
            child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
            // Only against a hang: eight tsx start-ups on a busy machine can take most of a minute.
            const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
            child.on('error', reject);
            child.on('close', (code) => {
              clearTimeout(timer);
              resolve({ code, stderr });
            });
          }),
      ),
    );
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { v: number; entries: Record<string, string> };
    assert.equal(doc.v, 1);
    assert.equal(Object.keys(doc.entries).length, writers * perWriter);
    for (let w = 0; w < writers; w++) {
      for (let i = 0; i < perWriter; i++) assert.equal(doc.entries[`rt:writer${w}:k${i}`], `value ${w}/${i}`);
    }
    assert.equal((await open().keys('rt:writer')).length, writers * perWriter);
    assert.deepEqual(readdirSync(dataDir).sort(), ['credentials.json', 'locks']);
  });
});
