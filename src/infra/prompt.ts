import type { Readable, Writable } from 'node:stream';
import { UsageError, VaultError } from '../core/errors.js';

/** The part of a tty.ReadStream a secret prompt needs; absent on pipes. */
interface RawCapable {
  isTTY?: boolean;
  setRawMode?: (mode: boolean) => unknown;
}

const interrupted = () => new VaultError('interrupted', 'cancelled');

/**
 * Questions on a terminal: the question on stderr, the answer from stdin, one line each. Input
 * that arrives ahead of a question (typed ahead, or pasted with several lines) is kept for it.
 */
export class Prompter {
  readonly #stdin: Readable & RawCapable;
  readonly #stderr: Writable;
  #buffer = '';

  constructor(stdin: Readable, stderr: Writable) {
    this.#stdin = stdin as Readable & RawCapable;
    this.#stderr = stderr;
  }

  /** Asks for one line, shown as it is typed. */
  line(question: string): Promise<string> {
    this.#stderr.write(question);
    return this.#read(false);
  }

  /**
   * Asks for a secret without echo: on a terminal the line discipline is switched to raw mode
   * for the answer (no echo, keys handled here), so it never appears on screen or in scrollback.
   */
  async secret(question: string): Promise<string> {
    const raw = this.#stdin.isTTY === true && typeof this.#stdin.setRawMode === 'function';
    // Echo goes off before the question invites typing.
    if (raw) this.#stdin.setRawMode!(true);
    this.#stderr.write(question);
    if (!raw) return this.#read(false);
    try {
      return await this.#read(true);
    } finally {
      this.#stdin.setRawMode!(false);
      this.#stderr.write('\n');
    }
  }

  #read(raw: boolean): Promise<string> {
    return new Promise((resolve, reject) => {
      let answer = '';
      const finish = (error?: VaultError) => {
        this.#stdin.off('data', onData);
        this.#stdin.off('end', onEnd);
        process.off('SIGINT', onSigint);
        this.#stdin.pause();
        if (error) reject(error);
        else resolve(answer.trim());
      };
      // In raw mode the keys arrive as typed; otherwise the terminal (or pipe) delivers lines.
      const consume = (): boolean => {
        while (this.#buffer.length) {
          const ch = this.#buffer[0]!;
          this.#buffer = this.#buffer.slice(1);
          if (ch === '\n' || ch === '\r') {
            if (ch === '\r' && this.#buffer[0] === '\n') this.#buffer = this.#buffer.slice(1);
            finish();
            return true;
          }
          if (raw && ch === '\x03') {
            finish(interrupted());
            return true;
          }
          if (raw && ch === '\x04' && answer === '') {
            finish(new UsageError('no answer given'));
            return true;
          }
          if (raw && (ch === '\x7f' || ch === '\b')) answer = answer.slice(0, -1);
          else if (raw && ch === '\x15') answer = '';
          else if (ch >= ' ' || ch === '\t') answer += ch;
        }
        return false;
      };
      const onData = (chunk: Buffer | string) => {
        this.#buffer += chunk.toString();
        consume();
      };
      const onEnd = () => {
        if (answer) finish();
        else finish(new UsageError('no answer given (standard input ended)'));
      };
      // Ctrl-C in line mode is a signal, not a key.
      const onSigint = () => finish(interrupted());
      if (consume()) return;
      if (this.#stdin.readableEnded) return onEnd();
      this.#stdin.on('data', onData);
      this.#stdin.on('end', onEnd);
      process.on('SIGINT', onSigint);
      this.#stdin.resume();
    });
  }
}
