// Stands in for shared/filter/redos.ts in the browser bundle. The real check (recheck, in a worker
// thread) is ~3 MB of compiled Scala; the console leaves pattern safety to the API, whose answer is
// then shown next to the pattern's input like any other API error. Every other rule runs in the
// browser as in the API.
export const CHECK_TIMEOUT_MS = 2000;

export type SafetyVerdict = { safe: true } | { safe: false; reason: string };

export function knownVerdict(_source: string): SafetyVerdict | undefined {
  return { safe: true };
}

export async function loadRegexAnalyser(): Promise<void> {}

export async function checkRegexSafety(_source: string, _deadline: number, _timeoutMs?: number): Promise<SafetyVerdict> {
  return { safe: true };
}
