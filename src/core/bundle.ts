import type { Provider } from './config/providers.js';
import type { McpDiscovery, RegisteredClient } from './config/mcp.js';
import type { Browser, Clock, Interrupts, Locks, Loopback, OAuthLogin, Prompt, SecretStore, Signals } from './ports.js';

/** OAuth with what the CLI asks of a provider besides grants: a discovery check and a failure's description. */
export interface OAuthService extends OAuthLogin {
  /** Runs discovery at `issuer` once (RFC 8414), to catch a typo now rather than at the first login. */
  discover(issuer: string): Promise<void>;
  /** `provider add --mcp`: the MCP server's resource metadata (RFC 9728) and its authorization server's. */
  discoverMcp(url: string): Promise<McpDiscovery>;
  /** RFC 7591 dynamic registration of a native public client at the discovered authorization server. */
  registerClient(found: McpDiscovery): Promise<RegisteredClient>;
  /** Why an OAuth request failed, in one line without a secret. */
  describe(failure: unknown): Promise<string>;
}

/**
 * Every port of this process, each built on first use and then kept (cli/context.ts builds them
 * once, as one bundle): a use case takes the ones its deps name, nothing else.
 */
export interface Ports {
  readonly env: NodeJS.ProcessEnv;
  readonly clock: Clock;
  debug(message: string): void;
  /** A `warning:` line on stderr. */
  warn(message: string): void;
  /** The store in use (VAULT_STORE). */
  readonly store: SecretStore;
  /** The per-user lock files beside the store. */
  readonly locks: Locks;
  readonly signals: Signals;
  /** Runs `fn` with SIGINT, SIGTERM and SIGHUP held until it is done (Signals.hold). */
  critical<T>(done: string, fn: () => Promise<T>): Promise<T>;
  readonly oauth: OAuthService;
  /** The configured provider of that name (the source of an exchanged provider). */
  provider(name: string): Provider;
  readonly interrupts: Interrupts;
  readonly loopback: Loopback;
  readonly browser: Browser;
  /** Questions to the person at the terminal. */
  prompt(): Prompt;
}
