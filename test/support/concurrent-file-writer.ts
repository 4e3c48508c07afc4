// Child process for file-store.test.ts: one of several writers racing on the same credentials file.
// Usage: node --import tsx concurrent-file-writer.ts <file> <writer> <count>
import { FileStore } from '../../src/infra/stores/file-store.js';

const [file, writer, count] = process.argv.slice(2);
if (!file || !writer || !count) throw new Error('usage: concurrent-file-writer.ts <file> <writer> <count>');
const store = new FileStore(file);
for (let i = 0; i < Number(count); i++) {
  await store.set(`rt:writer${writer}:k${i}`, `value ${writer}/${i}`);
}
