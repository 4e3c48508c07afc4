import { spawn } from 'node:child_process';
import { withoutVaultSecrets } from '../core/protocols/exec-env.js';

export interface BrowserDeps {
  env: NodeJS.ProcessEnv;
  debug: (message: string) => void;
}

/**
 * Opens `url` in a browser: the `VAULT_BROWSER` command when set (run through the shell like
 * git's editor settings, the URL as its only argument), else the `open` package. The launcher's
 * output never reaches our stdout, which belongs to the data a script asked for. Resolves false
 * when the launch failed; the URL has been printed already, so the user can still open it. A
 * VAULT_BROWSER command may keep running (a browser in the foreground), so its failure can only
 * be told later: `onFailure` hears of a non-zero exit.
 */
export async function openBrowser(
  url: string,
  deps: BrowserDeps,
  onFailure: (why: string) => void = () => {},
): Promise<boolean> {
  const command = deps.env.VAULT_BROWSER;
  if (command) {
    return new Promise((resolve) => {
      const child =
        process.platform === 'win32'
          ? spawn(command, [url], { stdio: 'ignore', detached: true, env: withoutVaultSecrets(deps.env) })
          : spawn('/bin/sh', ['-c', `${command} "$1"`, 'vault-browser', url], {
              stdio: ['ignore', 'ignore', 'inherit'],
              detached: true,
              env: withoutVaultSecrets(deps.env),
            });
      child.on('error', (error) => {
        deps.debug(`browser: ${command} failed to start: ${error.message}`);
        resolve(false);
      });
      child.on('exit', (code, signal) => {
        if (code) onFailure(`exited with status ${code}`);
        else if (signal) onFailure(`was killed by ${signal}`);
      });
      child.on('spawn', () => {
        deps.debug(`browser: started ${command}`);
        child.unref();
        resolve(true);
      });
    });
  }
  // `open` has no env option: its launcher inherits process.env, swapped for the length of the
  // launch (vault's own code reads the environment it was given, deps.env, not process.env).
  const inherited = process.env;
  try {
    const { default: open } = await import('open');
    process.env = withoutVaultSecrets(inherited);
    const child = await open(url, { wait: false });
    child.on('error', (error) => deps.debug(`browser: launcher failed: ${error.message}`));
    child.unref();
    return true;
  } catch (error) {
    deps.debug(`browser: cannot launch: ${(error as Error).message}`);
    return false;
  } finally {
    process.env = inherited;
  }
}
