// `ferry completion bash|zsh`: a completion script generated from the command tree itself, so it
// knows every command and option the CLI has. Bash: `source <(ferry completion bash)`; zsh loads
// the same function through bashcompinit: `source <(ferry completion zsh)`.
import type { Command, Option } from 'commander';

export const SHELLS = ['bash', 'zsh'] as const;
export type Shell = (typeof SHELLS)[number];

interface Level {
  /** `/tasks/list`: the command path, '' for the program itself. */
  path: string;
  words: string[];
}

const flags = (o: Option) => [o.short, o.long].filter((f): f is string => !!f);

function levels(cmd: Command, path: string, globals: string[]): Level[] {
  const own = cmd.options.filter((o) => !o.hidden).flatMap(flags);
  const args = cmd.registeredArguments.flatMap((a) => a.argChoices ?? []);
  const subs = cmd.commands.map((c) => c.name());
  const here: Level = { path, words: [...subs, ...args, ...own, ...(path ? globals : []), '--help'] };
  return [here, ...cmd.commands.flatMap((c) => levels(c, `${path}/${c.name()}`, globals))];
}

/** Options whose value is one of a list, anywhere in the tree: `-o` → json yaml wide. */
function choiceOptions(cmd: Command): { flags: string[]; choices: string[] }[] {
  const here = cmd.options.filter((o) => o.argChoices?.length).map((o) => ({ flags: flags(o), choices: o.argChoices! }));
  return [...here, ...cmd.commands.flatMap(choiceOptions)];
}

/** Quoting for a word list inside double quotes: the CLI's words are plain, but be safe. */
const quote = (words: string[]) => words.map((w) => w.replace(/[^A-Za-z0-9_./:-]/g, '')).join(' ');

export function completionScript(program: Command, shell: Shell): string {
  const name = program.name();
  const fn = `_${name.replace(/\W/g, '_')}_complete`;
  const globals = program.options.filter((o) => !o.hidden).flatMap(flags);
  const all = levels(program, '', globals);
  const paths = all.filter((l) => l.path).map((l) => l.path);
  const seen = new Set<string>();
  const choices = choiceOptions(program).filter((c) => {
    const k = c.flags.join('|');
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  const bash = [
    `${fn}() {`,
    '  local cur prev path w i words',
    `  cur="\${COMP_WORDS[COMP_CWORD]}"`,
    `  prev="\${COMP_WORDS[COMP_CWORD-1]}"`,
    '  path=""',
    '  for ((i = 1; i < COMP_CWORD; i++)); do',
    `    w="\${COMP_WORDS[i]}"`,
    '    case "$path/$w" in',
    `      ${paths.map((p) => `"${p}"`).join('|')}) path="$path/$w" ;;`,
    '    esac',
    '  done',
    '  case "$prev" in',
    ...choices.map((c) => `    ${c.flags.join('|')}) COMPREPLY=($(compgen -W "${quote(c.choices)}" -- "$cur")); return 0 ;;`),
    '  esac',
    '  case "$path" in',
    ...all.map((l) => `    "${l.path}") words="${quote(l.words)}" ;;`),
    '  esac',
    '  COMPREPLY=($(compgen -W "$words" -- "$cur"))',
    '}',
    `complete -F ${fn} ${name}`,
  ];
  const header =
    shell === 'bash'
      ? [`# ${name} completion for bash. Load it: source <(${name} completion bash)`]
      : [
          `#compdef ${name}`,
          `# ${name} completion for zsh. Load it: source <(${name} completion zsh)`,
          'autoload -U +X bashcompinit && bashcompinit',
        ];
  return `${[...header, ...bash].join('\n')}\n`;
}
