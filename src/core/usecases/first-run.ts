import { UsageError } from '../errors.js';
import { suggest } from '../suggest.js';
import type { Provider } from '../config/providers.js';
import { GUIDES, addCommand } from '../config/guides.js';
import { buildProviderConfig } from '../provider-edit.js';
import { saveProvider, type ProviderDeps } from './provider.js';
import type { Io, Prompt } from '../ports.js';

export interface FirstRunDeps extends Omit<ProviderDeps, 'discover'> {
  io: Io;
  /** The questions, made only once there is someone to ask. */
  prompt(): Prompt;
}

/** Whether `vault login <name>` can walk the user through creating the provider (a preset with a guide). */
export function hasGuide(name: string): boolean {
  return Object.hasOwn(GUIDES, name);
}

async function askNonEmpty(ask: () => Promise<string>, what: string): Promise<string> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const answer = await ask();
    if (answer) return answer;
  }
  throw new UsageError(`no ${what} given`);
}

/**
 * `vault login <preset>` before the provider exists. On a terminal it explains how to create the
 * client at the provider, asks for its id and secret (without echo), and saves the provider as
 * `provider add --preset` would, so the login can go on. Anywhere else it cannot ask: exit 2 with
 * the command to run.
 */
export async function firstRun(
  deps: FirstRunDeps,
  name: string,
  opts: { device?: boolean; account?: string },
): Promise<Provider> {
  const guide = GUIDES[name]!;
  if (!deps.io.stdinIsTTY || !deps.io.stderrIsTTY) {
    const input = guide.secret === 'none' ? '' : ', with the client secret on standard input';
    throw new UsageError(
      `provider "${name}" is not configured yet. Create ${guide.client} (run \`${suggest(['login', name], { account: opts.account })}\` in a terminal for a walk-through), then add it${input}:\n\n  ${addCommand(name)}\n`,
    );
  }
  const out = deps.io.stderr;
  out.write(`No provider "${name}" is configured yet. vault needs ${guide.client}:\n\n`);
  guide.steps.forEach((step, i) => out.write(`  ${i + 1}. ${step}\n`));
  out.write('\n');
  const prompt = deps.prompt();
  const clientId = await askNonEmpty(() => prompt.line('Client ID: '), 'client ID');
  let secret: string | undefined;
  if (guide.secret === 'required' || (guide.secret === 'web' && !opts.device)) {
    secret = await askNonEmpty(() => prompt.secret('Client secret (not shown): '), 'client secret');
  } else if (guide.secret === 'web') {
    secret = (await prompt.secret('Client secret (not shown; Enter to skip, --device needs none): ')) || undefined;
  }
  const cfg = buildProviderConfig(name, { preset: name, clientId });
  await saveProvider(deps, name, () => cfg, secret);
  out.write(`Added provider ${name} in ${deps.configFile}.\n\n`);
  return { name, ...cfg };
}
