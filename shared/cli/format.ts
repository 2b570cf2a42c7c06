// Plain-text output for people: aligned tables and key/value blocks. Task names may be Chinese,
// so widths count East Asian wide characters as two terminal columns.

// Wide: Hangul Jamo, CJK radicals … Yi, Hangul syllables, CJK compatibility, fullwidth forms, CJK ext. B+.
const WIDE = /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{20000}-\u{3fffd}]/u;

export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += WIDE.test(ch) ? 2 : 1;
  return w;
}

const pad = (s: string, width: number) => s + ' '.repeat(Math.max(0, width - displayWidth(s)));

/** Columns separated by two spaces; the last column is not padded (no trailing blanks). */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : pad(c, widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(headers), ...rows.map(line)].join('\n')}\n`;
}

/** `Key:  value` lines with the values aligned. */
export function keyValues(pairs: [string, string][]): string {
  const w = Math.max(...pairs.map(([k]) => displayWidth(k))) + 1;
  return `${pairs.map(([k, v]) => `${pad(`${k}:`, w + 1)}${v}`).join('\n')}\n`;
}

/** ISO-8601 in UTC to the second: unambiguous whatever the reader's time zone. */
export const time = (ms: number | string): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export const dash = (v: number | string | null | undefined): string => (v === null || v === undefined || v === '' ? '-' : String(v));

export const ms = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : `${v} ms`);

export const seconds = (elapsedMs: number): string => `${(elapsedMs / 1000).toFixed(1)}s`;
