import { UsageError } from '../core/errors.js';
import type { Provider } from '../core/config/providers.js';
import { Prompter } from '../infra/prompt.js';
import { buildProviderConfig } from '../core/provider-edit.js';
import { saveProvider } from '../core/usecases/provider.js';
import type { Context } from './context.js';

/** How to register vault as a client at a preset's provider. Plain data, like the presets. */
interface Guide {
  /** What to create there, for "vault needs …". */
  client: string;
  steps: string[];
  /**
   * `required`: the token endpoint wants it. `web`: the browser flow needs it, the device flow
   * does not (GitHub OAuth apps). `none`: a public client with PKCE alone.
   */
  secret: 'required' | 'web' | 'none';
}

export const GUIDES: Record<string, Guide> = {
  // https://developers.google.com/identity/protocols/oauth2/native-app
  google: {
    client: 'a Google OAuth client of type "Desktop app"',
    steps: [
      'Open https://console.cloud.google.com/apis/credentials and pick or create a project.',
      'If asked, configure the consent screen: user type "External", and add yourself as a test user.',
      'Click "Create credentials" → "OAuth client ID", choose the application type "Desktop app", name it "vault" and click "Create".',
      'Copy the client ID and the client secret it shows.',
    ],
    secret: 'required',
  },
  // https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps
  github: {
    client: 'a GitHub OAuth app',
    steps: [
      'Open https://github.com/settings/applications/new.',
      'Application name "vault", any homepage URL, and the authorization callback URL http://127.0.0.1/callback (GitHub accepts any port on a loopback callback).',
      'Tick "Enable Device Flow" to allow `--device`, then click "Register application".',
      'Copy the client ID, click "Generate a new client secret" and copy the secret.',
    ],
    secret: 'web',
  },
  // https://docs.gitlab.com/integration/oauth_provider/
  gitlab: {
    client: 'a GitLab application',
    steps: [
      'Open https://gitlab.com/-/user_settings/applications and click "Add new application".',
      'Name it "vault", set the redirect URI http://127.0.0.1/callback, untick "Confidential" (vault uses PKCE), and tick the scopes openid, email, read_repository and write_repository.',
      'Click "Save application" and copy the application ID.',
    ],
    secret: 'none',
  },
};

/** The `vault provider add` command that configures a preset provider by hand. */
export function addCommand(name: string): string {
  const secret = GUIDES[name]?.secret === 'none' ? '' : ' --client-secret-stdin';
  return `vault provider add ${name} --preset ${name} --client-id <ID>${secret}`;
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
export async function firstRun(deps: Context, name: string, opts: { device?: boolean }): Promise<Provider> {
  const guide = GUIDES[name]!;
  if (!deps.io.stdinIsTTY || !deps.io.stderrIsTTY) {
    const input = guide.secret === 'none' ? '' : ', with the client secret on standard input';
    throw new UsageError(
      `provider "${name}" is not configured yet. Create ${guide.client} (run \`vault login ${name}\` in a terminal for a walk-through), then add it${input}:\n\n  ${addCommand(name)}\n`,
    );
  }
  const out = deps.io.stderr;
  out.write(`No provider "${name}" is configured yet. vault needs ${guide.client}:\n\n`);
  guide.steps.forEach((step, i) => out.write(`  ${i + 1}. ${step}\n`));
  out.write('\n');
  const prompter = new Prompter(deps.io.stdin, out);
  const clientId = await askNonEmpty(() => prompter.line('Client ID: '), 'client ID');
  let secret: string | undefined;
  if (guide.secret === 'required' || (guide.secret === 'web' && !opts.device)) {
    secret = await askNonEmpty(() => prompter.secret('Client secret (not shown): '), 'client secret');
  } else if (guide.secret === 'web') {
    secret = (await prompter.secret('Client secret (not shown; Enter to skip, --device needs none): ')) || undefined;
  }
  const cfg = buildProviderConfig(name, { preset: name, clientId });
  await saveProvider(deps, name, () => cfg, secret);
  out.write(`Added provider ${name} in ${deps.configFile}.\n\n`);
  return { name, ...cfg };
}
