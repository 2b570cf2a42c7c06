// `-o json|yaml|wide`: what a command prints. The default is the table for people; wide adds the
// columns that do not fit a terminal (the same table where a command has nothing more); json and
// yaml print the API's objects as they are, for scripts. `--json` stays as the short form of -o json.

export const OUTPUT_FORMATS = ['json', 'yaml', 'wide'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number] | 'table';

/** What a command has to print: its table, optionally a wider one, and the API objects. */
export interface Printable {
  human: string;
  wide?: string | undefined;
  data: unknown;
}

type YamlStringify = (value: unknown) => string;
let yamlStringify: YamlStringify | undefined;

/** Loads the YAML library ahead of printing (only -o yaml needs it; every other run skips the load). */
export async function prepareOutput(format: OutputFormat): Promise<void> {
  if (format === 'yaml' && !yamlStringify) {
    const { stringify } = await import('yaml');
    yamlStringify = (v) => stringify(v, { lineWidth: 0 });
  }
}

export function render(format: OutputFormat, p: Printable): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(p.data, null, 2)}\n`;
    case 'yaml':
      if (!yamlStringify) throw new Error('prepareOutput("yaml") was not awaited');
      // An absent answer (a delete) is YAML's null, like JSON's.
      return yamlStringify(p.data ?? null);
    case 'wide':
      return p.wide ?? p.human;
    default:
      return p.human;
  }
}
