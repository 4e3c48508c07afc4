import type { Command, Option } from 'commander';

/**
 * Shell completion answered from the commander tree itself, the way `gh` and `kubectl` answer
 * theirs (`__complete`): the shell scripts only forward the words typed so far, so completion
 * can never drift from the commands, options and choices that exist.
 */

/** A candidate and its description (shown by zsh and fish). */
export type Candidate = [value: string, description: string];

/** What to offer: candidates, or the shell's own file or command-name completion. */
export type Completion = { kind: 'words'; candidates: Candidate[] } | { kind: 'files' } | { kind: 'commands' };

export interface CompletionSources {
  /** Configured provider names, for `<provider>` arguments; errors mean "none". */
  providers(): string[];
}

function visibleCommands(cmd: Command): Command[] {
  return cmd.createHelp().visibleCommands(cmd);
}

/** The options `cmd` accepts: its own and those of its ancestors (commander accepts program options after a subcommand). */
function optionsOf(cmd: Command): Option[] {
  const all = cmd.createHelp().visibleOptions(cmd);
  for (let c = cmd.parent; c; c = c.parent) {
    all.push(
      ...c
        .createHelp()
        .visibleOptions(c)
        .filter((o) => o.long !== '--help' && o.long !== '--version'),
    );
  }
  return all;
}

function findOption(cmd: Command, flag: string): Option | undefined {
  return optionsOf(cmd).find((o) => o.long === flag || o.short === flag);
}

/** Whether a positional argument names a provider: `<provider>`, and `provider show|remove <name>`. */
function isProviderArgument(cmd: Command, name: string): boolean {
  return name === 'provider' || (cmd.parent?.name() === 'provider' && name === 'name' && cmd.name() !== 'add');
}

function byPrefix(candidates: Candidate[], prefix: string): Completion {
  const seen = new Set<string>();
  return {
    kind: 'words',
    candidates: candidates.filter(([v]) => v.startsWith(prefix) && !seen.has(v) && seen.add(v)),
  };
}

/**
 * Completes the last of `words` (the arguments after `vault`, the last one being the word under
 * the cursor, possibly empty).
 */
export function complete(program: Command, words: string[], sources: CompletionSources): Completion {
  const current = words.at(-1) ?? '';
  const before = words.slice(0, -1);
  let cmd = program;
  let positionals = 0;
  let pending: Option | undefined;
  let afterDashDash = -1;
  for (const word of before) {
    if (afterDashDash >= 0) {
      afterDashDash++;
      continue;
    }
    if (pending) {
      pending = undefined;
      continue;
    }
    if (word === '--') {
      afterDashDash = 0;
      continue;
    }
    if (word.startsWith('-') && word !== '-') {
      const option = word.includes('=') ? undefined : findOption(cmd, word);
      if (option?.required) pending = option;
      continue;
    }
    const sub =
      positionals === 0 ? visibleCommands(cmd).find((c) => c.name() === word || c.aliases().includes(word)) : undefined;
    if (sub) cmd = sub;
    else positionals++;
  }
  if (afterDashDash >= 0) return afterDashDash === 0 ? { kind: 'commands' } : { kind: 'files' };
  if (pending)
    return byPrefix(
      (pending.argChoices ?? []).map((c) => [c, pending!.description]),
      current,
    );
  if (current.startsWith('-')) {
    const flags: Candidate[] = [];
    for (const o of optionsOf(cmd)) {
      if (o.long) flags.push([o.long, o.description]);
      else if (o.short) flags.push([o.short, o.description]);
    }
    if (cmd.registeredArguments.some((a) => a.variadic))
      flags.push(['--', "end of vault's options: the command follows"]);
    return byPrefix(flags, current);
  }
  const subcommands = visibleCommands(cmd);
  if (subcommands.length && positionals === 0) {
    return byPrefix(
      subcommands.map((c) => [c.name(), c.description()]),
      current,
    );
  }
  const args = cmd.registeredArguments;
  const arg = args[positionals] ?? (args.at(-1)?.variadic ? args.at(-1) : undefined);
  if (!arg) return { kind: 'words', candidates: [] };
  if (arg.variadic && cmd.registeredArguments.length > 1) {
    // `vault exec <provider> -- <command...>`: the command comes after `--`.
    return byPrefix([['--', "end of vault's options: the command follows"]], current);
  }
  if (isProviderArgument(cmd, arg.name()))
    return byPrefix(
      sources.providers().map((p) => [p, 'provider']),
      current,
    );
  return byPrefix(
    (arg.argChoices ?? []).map((c) => [c, arg.description]),
    current,
  );
}

/** The lines `vault __complete` prints: `value<TAB>description`, or `:files` / `:commands`. */
export function formatCompletion(completion: Completion): string {
  if (completion.kind !== 'words') return `:${completion.kind}\n`;
  return completion.candidates.map(([v, d]) => `${v}\t${d.replace(/\s+/g, ' ')}\n`).join('');
}

const BASH = `# bash completion for vault; load it with:  source <(vault completion bash)
_vault() {
  local cur words cword
  if declare -F _get_comp_words_by_ref >/dev/null; then
    # bash-completion keeps "--format=sh" and "api:read" whole.
    _get_comp_words_by_ref -n =: cur words cword
  else
    cur=\${COMP_WORDS[COMP_CWORD]} words=("\${COMP_WORDS[@]}") cword=$COMP_CWORD
  fi
  local out line tab=$'\\t'
  out=$("\${words[0]}" __complete -- "\${words[@]:1:cword}" 2>/dev/null) || return 0
  case $out in
    :files) compopt -o default 2>/dev/null; COMPREPLY=(); return 0 ;;
    :commands) COMPREPLY=($(compgen -c -- "$cur")); return 0 ;;
  esac
  COMPREPLY=()
  while IFS= read -r line; do
    [ -n "$line" ] && COMPREPLY+=("\${line%%\${tab}*}")
  done <<<"$out"
  if declare -F __ltrim_colon_completions >/dev/null; then __ltrim_colon_completions "$cur"; fi
  return 0
}
complete -F _vault vault
`;

const ZSH = `#compdef vault
# zsh completion for vault; load it with:  source <(vault completion zsh)
# or save it as _vault in a directory of your $fpath.
_vault() {
  local out line tab=$'\\t'
  local -a candidates
  out=$(\${words[1]} __complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null) || return 1
  case $out in
    :files) _files; return ;;
    :commands) _command_names -e; return ;;
  esac
  for line in "\${(@f)out}"; do
    [[ -n $line ]] || continue
    candidates+=("\${\${line%%\${tab}*}//:/\\\\:}:\${line#*\${tab}}")
  done
  _describe -t vault-words 'vault' candidates
}
if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
  _vault "$@"
else
  (( $+functions[compdef] )) || { autoload -Uz compinit && compinit; }
  compdef _vault vault
fi
`;

const FISH = `# fish completion for vault; load it with:  vault completion fish | source
# or save it as ~/.config/fish/completions/vault.fish
function __vault_complete
    set -l words (commandline -opc)
    set -l current (commandline -ct)
    set -l out ($words[1] __complete -- $words[2..-1] $current 2>/dev/null)
    switch "$out[1]"
        case :files
            __fish_complete_path $current
        case :commands
            __fish_complete_command $current
        case '*'
            printf '%s\\n' $out
    end
end
complete -c vault -f -a '(__vault_complete)'
`;

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

export function completionScript(shell: Shell): string {
  return { bash: BASH, zsh: ZSH, fish: FISH }[shell];
}
