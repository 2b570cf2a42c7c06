// RocketMQ's delay levels: a broker's `messageDelayLevel` setting ("1s 5s 10s 30s 1m … 2h" by
// default) names the delay of level 1, 2, … . A message of level L waits in queue L − 1 of the
// schedule topic until its store time plus that delay; 5.x timer messages carry their due time instead.

export const DEFAULT_DELAY_LEVELS = '1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The delay of each level in ms (index 0 is level 1); the default table when the text does not parse. */
export function parseDelayLevels(text: string | undefined): number[] {
  const parts = (text ?? '').trim().split(/\s+/);
  const levels = parts.map((p) => {
    const m = /^(\d+)([smhd])$/.exec(p);
    return m ? Number(m[1]) * UNIT_MS[m[2]!]! : NaN;
  });
  return levels.length > 0 && levels.every((ms) => Number.isSafeInteger(ms) && ms > 0) ? levels : parseDelayLevels(DEFAULT_DELAY_LEVELS);
}

/** When a message of `level` stored at `storeTimestamp` is due; undefined for a level the table lacks. */
export function dueOfLevel(levels: readonly number[], level: number, storeTimestamp: number): number | undefined {
  const delay = levels[level - 1];
  return delay === undefined ? undefined : storeTimestamp + delay;
}

/**
 * The level whose delay is nearest to `remainingMs` (ties go to the shorter one), for a broker that has
 * no timer messages; 0 (no delay) when sending now is nearer than the first level.
 */
export function nearestLevel(levels: readonly number[], remainingMs: number): number {
  let best = 0;
  let bestGap = Math.abs(remainingMs);
  levels.forEach((ms, i) => {
    const gap = Math.abs(ms - remainingMs);
    if (gap < bestGap) [best, bestGap] = [i + 1, gap];
  });
  return best;
}
