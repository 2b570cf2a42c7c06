// Destructive commands ask first: `--yes` skips the question; without it a terminal is asked, and
// anything else (a script, a pipe) is refused, naming --yes, rather than deleting unasked.
import { createInterface } from 'node:readline/promises';

/** Asks a yes/no question on a terminal; absent when there is no terminal to ask on. */
export type Confirm = (question: string) => Promise<boolean>;

export type Consent = 'given' | 'declined' | 'no-terminal';

export async function consent(yes: boolean | undefined, confirm: Confirm | undefined, question: string): Promise<Consent> {
  if (yes) return 'given';
  if (!confirm) return 'no-terminal';
  return (await confirm(question)) ? 'given' : 'declined';
}

/** The terminal's confirm, when both stdin and stderr are terminals (the question goes to stderr, like progress). */
export function terminalConfirm(): Confirm | undefined {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  return async (question) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
    } finally {
      rl.close();
    }
  };
}
