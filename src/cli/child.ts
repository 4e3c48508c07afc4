import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { exitCodeOf } from '../core/protocols/exec-env.js';

// `vault exec`'s child, shared by the full command and the cached-token path, so both start it,
// forward signals to it and pass on its exit status the same way. node:child_process and node:os
// are loaded only when a child is started: the cached-token path loads this module on every call.

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Whether we are in the foreground process group of our controlling terminal (proc(5): fields
 * pgrp and tpgid of /proc/self/stat). The child shares our group, so a Ctrl-C typed there has
 * reached it already; forwarding it too would deliver a second SIGINT, which tools like terraform
 * take as "exit now, skip the graceful shutdown". Without /proc, a terminal on stdin stands in.
 */
function terminalSignalsReachChild(): boolean {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // The command name in parentheses may contain spaces; the fields after it are fixed.
    const [, , pgrp, , , tpgid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(tpgid) > 0 && tpgid === pgrp;
  } catch {
    return Boolean(process.stdin.isTTY);
  }
}

export interface ChildSupervisor {
  /**
   * Starts the command and resolves its exit status (127/126 when it cannot start; 128+N, without
   * starting it, when signal N arrived before it could start).
   */
  run(file: string, args: readonly string[], env: NodeJS.ProcessEnv, stderr: (text: string) => void): Promise<number>;
  /** Removes the signal handlers. */
  stop(): void;
}

/**
 * Installs the signal handlers. They go in before the child starts, or a signal arriving as it
 * starts would kill vault (node's default), orphan the child and leave a token file behind. Node
 * dispatches signals from the event loop, so by the time a handler runs, the child is set, or the
 * start is called off.
 */
export function superviseChild(debug: (message: string) => void): ChildSupervisor {
  let child: ChildProcess | undefined;
  let early: NodeJS.Signals | undefined;
  const forward = (signal: NodeJS.Signals) => {
    if (signal === 'SIGINT' && terminalSignalsReachChild()) return;
    debug(`exec: forwarding ${signal}`);
    if (child) child.kill(signal);
    else early ??= signal;
  };
  for (const signal of FORWARDED) process.on(signal, forward);
  return {
    async run(file, args, env, stderr) {
      const [{ spawn }, os] = await Promise.all([import('node:child_process'), import('node:os')]);
      const signals = os.constants.signals;
      if (early) return exitCodeOf(null, early, signals);
      const started = (child = spawn(file, args, { stdio: 'inherit', env }));
      return new Promise<number>((resolve) => {
        started.once('error', (error: NodeJS.ErrnoException) => {
          // Shell convention: 127 for a command that is not there, 126 for one that cannot run.
          const notFound = error.code === 'ENOENT';
          stderr(`error: cannot run ${JSON.stringify(file)}: ${notFound ? 'command not found' : error.message}\n`);
          resolve(notFound ? 127 : 126);
        });
        started.once('exit', (code, signal) => resolve(exitCodeOf(code, signal, signals)));
      });
    },
    stop() {
      for (const signal of FORWARDED) process.off(signal, forward);
    },
  };
}
