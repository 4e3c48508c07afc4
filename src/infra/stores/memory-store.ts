import type { SecretStore, StoreEntry } from '../../core/ports.js';

/** A store that lives as long as the process: for tests of the core, never for users. */
export class MemoryStore implements SecretStore {
  readonly kind = 'memory' as const;
  readonly location = 'memory';
  readonly #entries = new Map<string, string>();

  async get(key: string): Promise<string | null> {
    return this.#entries.get(key) ?? null;
  }

  async set(key: string, value: string): Promise<void> {
    this.#entries.set(key, value);
  }

  async commit(entries: readonly StoreEntry[]): Promise<void> {
    for (const { key, value } of entries) {
      if (value === null) this.#entries.delete(key);
      else this.#entries.set(key, value);
    }
  }

  async delete(key: string): Promise<boolean> {
    return this.#entries.delete(key);
  }

  async keys(prefix: string): Promise<string[]> {
    return [...this.#entries.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  describe(key: string): string {
    return `memory entry ${key}`;
  }
}
