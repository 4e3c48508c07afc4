/**
 * For `vault store info`: the server, its replicas and persistence (what the consistency promise
 * rests on: README, "Sharing a login across a fleet"), the round trip, the prefix and the key's id.
 */
export async function redisDetails(
  command: (args: string[]) => Promise<unknown>,
  prefix: string,
  keyId: () => Promise<string>,
): Promise<[string, string][]> {
  const started = performance.now();
  await command(['PING']);
  const latency = performance.now() - started;
  const info = String(await command(['INFO']));
  const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
  // A least-privilege user (README's fleet ACL) may not run CONFIG, which would also show the
  // server's passwords: then the setting cannot be seen, which is no finding about it.
  let fsync: string | undefined;
  let unseen = '';
  try {
    const reply = (await command(['CONFIG', 'GET', 'appendfsync'])) as string[] | Record<string, string>;
    fsync = (Array.isArray(reply) ? reply[1] : reply.appendfsync) ?? undefined;
    if (fsync === undefined) unseen = 'cannot check (CONFIG GET gave no appendfsync)';
  } catch (error) {
    unseen = /NOPERM/.test(String((error as Error).message))
      ? 'cannot check (CONFIG not allowed for this user)'
      : 'cannot check (CONFIG not available on this server)';
  }
  const aof = field('aof_enabled') === '1';
  return [
    [
      'server',
      `redis ${field('redis_version') ?? '?'}, ${field('role') ?? '?'}, ${field('connected_slaves') ?? '0'} replica(s), ${latency.toFixed(1)} ms round trip`,
    ],
    [
      'durability',
      aof
        ? fsync === undefined
          ? `appendonly, appendfsync ${unseen}`
          : `appendonly, appendfsync ${fsync}${fsync === 'always' ? '' : ' (use always: a crash can lose the last rotated refresh token)'}`
        : 'no append-only file: a restart can bring back a spent refresh token (set appendonly yes, appendfsync always)',
    ],
    ['prefix', prefix],
    ['key id', await keyId()],
  ];
}
