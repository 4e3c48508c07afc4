import { UsageError } from '../../core/errors.js';

/** Where a fleet store lives, with its credentials kept apart from what may be shown. */
export interface RedisTarget {
  tls: boolean;
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  /** `redis://host:port/db`: the only form messages, `--debug` and `status` ever show. */
  display: string;
}

/** Whether `VAULT_STORE` names a fleet store. */
export function isRedisUrl(value: string): boolean {
  return /^rediss?:\/\//i.test(value);
}

/**
 * Parses `redis://[user[:password]@]host[:port][/db]` (`rediss://` for TLS). The password may
 * instead come from VAULT_REDIS_PASSWORD, so that the URL itself can sit in a non-secret variable.
 * Errors never repeat the URL: it may carry the password.
 */
export function parseRedisUrl(raw: string, env: NodeJS.ProcessEnv): RedisTarget {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError('invalid VAULT_STORE: not a URL of the form redis://[user[:password]@]host[:port][/db]');
  }
  const tls = url.protocol === 'rediss:';
  if (!tls && url.protocol !== 'redis:')
    throw new UsageError('invalid VAULT_STORE: the scheme must be redis:// or rediss://');
  if (!url.hostname) throw new UsageError('invalid VAULT_STORE: the redis URL names no host');
  if (url.search || url.hash) throw new UsageError('invalid VAULT_STORE: the redis URL takes no query or fragment');
  const path = url.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d{1,4}$/.test(path))
    throw new UsageError('invalid VAULT_STORE: the path of a redis URL is a database number (redis://host:6379/0)');
  const port = url.port ? Number(url.port) : 6379;
  const db = path === '' ? 0 : Number(path);
  const password = url.password ? decodeURIComponent(url.password) : env.VAULT_REDIS_PASSWORD || undefined;
  const username = url.username ? decodeURIComponent(url.username) : undefined;
  return {
    tls,
    host: url.hostname,
    port,
    db,
    ...(username !== undefined && { username }),
    ...(password !== undefined && { password }),
    display: `${tls ? 'rediss' : 'redis'}://${url.host.replace(/:\d+$/, '')}:${port}/${db}`,
  };
}
