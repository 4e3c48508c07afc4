/** How to register vault as a client at a preset's provider. Plain data, like the presets. */
export interface Guide {
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
