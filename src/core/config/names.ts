import { UsageError } from '../errors.js';

const PROVIDER_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
// Accounts become part of store keys and lock file names: no separators, no path characters.
const ACCOUNT_NAME = /^[A-Za-z0-9][A-Za-z0-9@._+-]{0,127}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const GIT_HOST = /^[a-z0-9]([a-z0-9.-]{0,252})(:[0-9]{1,5})?$/;

export function checkProviderName(name: string): string {
  if (!PROVIDER_NAME.test(name)) {
    throw new UsageError(
      `invalid provider name ${JSON.stringify(name)}: use lowercase letters, digits, '-' and '_' (at most 63, starting with a letter or digit)`,
    );
  }
  return name;
}

export function checkAccountName(name: string): string {
  if (!ACCOUNT_NAME.test(name)) {
    throw new UsageError(
      `invalid account name ${JSON.stringify(name)}: use letters, digits and '@._+-' (at most 128, starting with a letter or digit)`,
    );
  }
  return name;
}

/** `-a`, else `VAULT_ACCOUNT`, else `default`. */
export function chosenAccount(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return checkAccountName(flag ?? env.VAULT_ACCOUNT ?? 'default');
}

export function checkEnvName(name: string): string {
  if (!ENV_NAME.test(name)) {
    throw new UsageError(
      `invalid environment variable name ${JSON.stringify(name)}: use letters, digits and '_', not starting with a digit`,
    );
  }
  return name;
}

export function checkGitHost(host: string): string {
  const lower = host.toLowerCase();
  if (!GIT_HOST.test(lower)) {
    throw new UsageError(`invalid git host ${JSON.stringify(host)}: expected a host name with an optional :port`);
  }
  return lower;
}

// A host with an optional port, optionally behind one leading wildcard label part: `*.gcr.io`
// (any one label before .gcr.io) or `*-docker.pkg.dev` (a label ending in -docker).
const REGISTRY_HOST = /^(\*[.-])?[a-z0-9]([a-z0-9.-]{0,252})(:[0-9]{1,5})?$/;

export function checkRegistryHost(host: string): string {
  const lower = host.toLowerCase();
  if (!REGISTRY_HOST.test(lower)) {
    throw new UsageError(
      `invalid registry host ${JSON.stringify(host)}: expected a host name with an optional :port, or *.domain / *-domain`,
    );
  }
  return lower;
}

/** `my-api` → `MY_API`: the provider's part of `VAULT_<NAME>_ACCESS_TOKEN` and of default env names. */
export function envStem(provider: string): string {
  return provider.toUpperCase().replace(/-/g, '_');
}

/** The configured name nearest to a typo: edit distance at most 2 (1 for short names), or a prefix. */
export function closestName(name: string, names: string[]): string | undefined {
  const limit = name.length <= 3 ? 1 : 2;
  let best: { name: string; distance: number } | undefined;
  for (const candidate of names) {
    const distance = candidate.startsWith(name) || name.startsWith(candidate) ? 1 : editDistance(name, candidate);
    if (distance <= limit && (!best || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

/** Levenshtein distance, with a swap of two neighbours counted as one edit (a typo's usual shape). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}
