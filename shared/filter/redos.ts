// Is a regular expression safe to run against topic names? Decided by recheck (automata analysis
// with a fuzzing fallback), which finds exponential AND polynomial backtracking and its degree.
// safe-regex2 was the first candidate but only measures star height: it misses `(a|a)*$` and
// `(\w|\d)+$` (both exponential) and refuses the everyday `[a-z]+(-[a-z]+)*` and any lookbehind.
//
// recheck's checks are synchronous and a hard pattern takes seconds: on the event loop, five of
// them held every other request (health included) for 3 s. They run in worker threads instead
// (regex-worker.mjs, started on first need, stopped when idle), which also keeps recheck's
// megabytes out of the main bundle and out of every process that never checks a pattern.
// The caller gives a deadline (one per request, shared by all its patterns); a worker still busy
// past it is terminated, so a pattern recheck cannot bound by itself still costs no more.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * Topic names are at most 127 characters (RocketMQ's TopicValidator), where n^3 backtracking costs
 * well under a millisecond but n^4 tens of milliseconds per name; `.*-.*` (degree 2) is common.
 */
const MAX_POLYNOMIAL_DEGREE = 3;
/** recheck's own wall-clock limit for one pattern; beyond it the verdict is "unknown", so unsafe. */
export const CHECK_TIMEOUT_MS = 2000;
/**
 * Workers checking at once: two, so one request's hard patterns do not queue every other request's,
 * but never every core: a core is left to the event loop that answers requests (one worker on 2 cores).
 */
const POOL_SIZE = Math.max(1, Math.min(2, availableParallelism() - 1));
/** An idle worker is stopped after this long (it holds tens of MB). */
const IDLE_MS = 30_000;
/** How long past the deadline a busy worker is given before it is terminated. */
const OVERRUN_GRACE_MS = 250;

export type SafetyVerdict = { safe: true } | { safe: false; reason: string };

/**
 * `^(?:a|b-c.*|.*d_1)$` as topic-pattern.ts anchors it: alternatives of literal names with at most two
 * `.*` each (`.*-.*` backtracks to the power 2 at most, within the limit). The everyday filter needs no
 * analysis, so a cold or busy analyser cannot hold it up.
 */
const EVERYDAY = /^\^\(\?:(?:[A-Za-z0-9_%-]*(?:\.\*)?){1,3}(?:\|(?:[A-Za-z0-9_%-]*(?:\.\*)?){1,3})*\)\$$/;
const MAX_EVERYDAY_STARS = 2;

function everyday(source: string): boolean {
  if (!EVERYDAY.test(source)) return false;
  return source
    .slice(4, -2)
    .split('|')
    .every((alt) => alt.split('.*').length - 1 <= MAX_EVERYDAY_STARS && alt !== '');
}
const cache = new Map<string, SafetyVerdict>();
const CACHE_LIMIT = 1000;

/** What regex-worker.mjs answers for one pattern. */
interface WorkerAnswer {
  id: number;
  status: 'safe' | 'vulnerable' | 'unknown' | 'failed';
  complexity?: { type: 'polynomial' | 'exponential' | 'safe'; degree: number };
  error?: { kind: string; message?: string };
  message?: string;
}

interface Job {
  id: number;
  source: string;
  timeoutMs: number;
  deadline: number;
  /** Checked once more after recheck's own limit ran out (a busy machine, not the pattern, may be why). */
  retried?: boolean;
  done: (v: SafetyVerdict) => void;
  fail: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  job?: Job;
  watchdog?: NodeJS.Timeout;
  idle?: NodeJS.Timeout;
}

const queue: Job[] = [];
const slots: Slot[] = [];
let nextId = 1;

const overBudget = (): SafetyVerdict => ({
  safe: false,
  reason: 'it could not be checked for safety within the time allowed for one request; simplify the patterns or send fewer at once',
});

/** The verdict without asking a worker: literal names, or a pattern checked before. */
export function knownVerdict(source: string): SafetyVerdict | undefined {
  if (everyday(source)) return { safe: true };
  return cache.get(source);
}

/** Starts a worker ahead of the first check (it warms recheck up, which takes a second or more). */
export async function loadRegexAnalyser(): Promise<void> {
  if (slots.length === 0) spawn();
}

/** Checks `source` (compiled without flags, as it will run) in a worker, giving up at `deadline` (epoch ms). */
export function checkRegexSafety(source: string, deadline: number, timeoutMs = CHECK_TIMEOUT_MS): Promise<SafetyVerdict> {
  const known = knownVerdict(source);
  if (known) return Promise.resolve(known);
  if (Date.now() >= deadline) return Promise.resolve(overBudget());
  return new Promise((done, fail) => {
    queue.push({ id: nextId++, source, timeoutMs, deadline, done, fail });
    pump();
  });
}

function pump(): void {
  while (queue.length > 0) {
    const job = queue[0]!;
    if (Date.now() >= job.deadline) {
      queue.shift();
      job.done(overBudget());
      continue;
    }
    const slot = slots.find((s) => s.ready && !s.job);
    if (!slot) {
      // Every worker busy (or warming up): start another while the pool has room.
      if (slots.length < POOL_SIZE && slots.every((s) => s.ready)) spawn();
      return;
    }
    queue.shift();
    run(slot, job);
  }
}

function run(slot: Slot, job: Job): void {
  clearTimeout(slot.idle);
  slot.job = job;
  slot.worker.ref();
  slot.worker.postMessage({ id: job.id, source: job.source, timeoutMs: job.timeoutMs, deadline: job.deadline });
  // recheck honours its timeout between steps only; a worker still busy after the deadline is stopped.
  slot.watchdog = setTimeout(
    () => {
      if (slot.job !== job) return;
      remove(slot);
      job.done(overBudget());
      pump();
    },
    job.deadline - Date.now() + OVERRUN_GRACE_MS,
  );
}

function spawn(): Slot {
  // None of the parent's node options: some are invalid for a file (`--input-type` of `node -e`), none are needed.
  const worker = new Worker(new URL('./regex-worker.mjs', import.meta.url), { execArgv: [] });
  const slot: Slot = { worker, ready: false };
  slots.push(slot);
  worker.unref();
  // Answered once the module's top level (the warm-up check) has run: the worker is then ready.
  worker.postMessage({ id: 0, source: 'a', timeoutMs: CHECK_TIMEOUT_MS, deadline: Date.now() + 60_000 });
  worker.on('message', (a: WorkerAnswer) => {
    if (a.id === 0) {
      slot.ready = true;
      idle(slot);
      pump();
      return;
    }
    const job = slot.job;
    if (!job || job.id !== a.id) return;
    clearTimeout(slot.watchdog);
    slot.job = undefined;
    idle(slot);
    if (a.status === 'failed') job.fail(new Error(`the regex analyser failed: ${a.message ?? 'unknown error'}`));
    else if (a.status === 'unknown' && a.error?.kind === 'timeout') {
      // Cut short by the request's deadline: the budget ran out, not the pattern's own time. Else the
      // pattern's own limit ran out, which a busy machine also causes: once more while the budget lasts.
      if (Date.now() >= job.deadline - 20) job.done(overBudget());
      else if (!job.retried) queue.unshift({ ...job, retried: true });
      else job.done(remember(job.source, a));
    } else job.done(remember(job.source, a));
    pump();
  });
  worker.on('error', (err) => {
    remove(slot);
    slot.job?.fail(new Error(`the regex analyser's worker failed: ${err.message}`, { cause: err }));
    // Without a worker that starts, queued checks cannot be answered: fail them rather than wait.
    if (!slot.ready) for (const j of queue.splice(0)) j.fail(new Error(`the regex analyser's worker did not start: ${err.message}`));
    pump();
  });
  return slot;
}

function idle(slot: Slot): void {
  slot.worker.unref();
  clearTimeout(slot.idle);
  slot.idle = setTimeout(() => remove(slot), IDLE_MS);
  slot.idle.unref();
}

function remove(slot: Slot): void {
  clearTimeout(slot.watchdog);
  clearTimeout(slot.idle);
  const i = slots.indexOf(slot);
  if (i >= 0) slots.splice(i, 1);
  void slot.worker.terminate();
}

function remember(source: string, a: WorkerAnswer): SafetyVerdict {
  const verdict = verdictOf(a);
  // Timeouts depend on the machine's load at the time; only lasting verdicts are remembered.
  if (a.status !== 'unknown') {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(source, verdict);
  }
  return verdict;
}

function verdictOf(a: WorkerAnswer): SafetyVerdict {
  if (a.status === 'safe') return { safe: true };
  if (a.status === 'vulnerable') {
    const c = a.complexity ?? { type: 'exponential', degree: 0 };
    if (c.type !== 'exponential' && c.degree <= MAX_POLYNOMIAL_DEGREE) return { safe: true };
    return {
      safe: false,
      reason:
        c.type === 'exponential'
          ? 'it can backtrack exponentially (catastrophically) on some names'
          : `its backtracking grows with the name's length to the power ${c.degree} (at most ${MAX_POLYNOMIAL_DEGREE} is allowed)`,
    };
  }
  const e = a.error ?? { kind: 'unknown' };
  return {
    safe: false,
    reason:
      e.kind === 'timeout'
        ? 'it could not be proven safe in the time allowed; simplify it'
        : `it could not be checked for safety (${e.kind}${e.message ? `: ${e.message}` : ''})`,
  };
}
