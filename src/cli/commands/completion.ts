import type { Command } from 'commander';
import { loadConfig } from '../../infra/config-file.js';
import { configFile } from '../../infra/paths.js';
import { complete, completionScript, formatCompletion, type Shell } from '../completion.js';
import type { Deps } from '../../ports.js';

/** `vault completion <shell>`: prints the script that the shell loads once. */
export async function run(deps: Deps, shell: Shell): Promise<number> {
  deps.io.stdout.write(completionScript(shell));
  return 0;
}

function root(cmd: Command): Command {
  let c = cmd;
  while (c.parent) c = c.parent;
  return c;
}

/** `vault __complete -- <words...>`: what the completion scripts ask on every Tab. */
export async function completeRun(deps: Deps, words: string[], _opts: unknown, cmd: Command): Promise<number> {
  const completion = complete(root(cmd), words.length ? words : [''], {
    providers: () => {
      try {
        return Object.keys(loadConfig(configFile(deps.env)).providers).sort();
      } catch {
        // A malformed config file is reported by the commands that use it, not in the middle of a Tab.
        return [];
      }
    },
  });
  deps.io.stdout.write(formatCompletion(completion));
  return 0;
}
