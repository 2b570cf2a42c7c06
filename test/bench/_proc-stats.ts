// CPU time and memory of processes, read from /proc (Linux), for the benchmarks. Not a benchmark
// itself: the leading "_" keeps it out of `npm run bench`'s list.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's time fields. */
export const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Fields of /proc/<pid>/stat after the command name; field n of proc(5) is at index n - 3. */
function statFields(pid: number | 'self'): string[] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined; // gone (reaped)
  }
}

/** utime + stime of a live (or not yet reaped) process, in seconds; 0 once it has been reaped. */
export function cpuSecondsOf(pid: number): number {
  const f = statFields(pid);
  return f ? (Number(f[11]) + Number(f[12])) / CLOCK_TICKS : 0;
}

/** cutime + cstime of this process: CPU seconds of every child it has reaped so far (and of theirs). */
export function reapedChildrenCpuSeconds(): number {
  const f = statFields('self')!;
  return (Number(f[13]) + Number(f[14])) / CLOCK_TICKS;
}

/**
 * CPU seconds used so far by this process's children: the reaped ones (cutime/cstime) plus `live`,
 * the pids of children not reaped yet. Node reaps children in its event loop, never while this
 * synchronous function runs, so each child is counted exactly once — in one term or the other. A
 * difference of two calls is what the children used in between (children reaped in between count
 * in full; other children of this process must not end meanwhile).
 */
export function childrenCpuSeconds(live: readonly number[]): number {
  let s = reapedChildrenCpuSeconds();
  for (const pid of live) s += cpuSecondsOf(pid);
  return s;
}

/** Peak resident set (VmHWM) of a live process in KiB; 0 when it is gone. */
export function peakRssKb(pid: number): number {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Current resident set (VmRSS) of a live process in KiB; 0 when it is gone. */
export function rssKb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Pids of this process's direct children whose command line contains every one of `words`. */
export function childPidsMatching(words: readonly string[]): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const f = statFields(Number(d));
    if (!f || Number(f[1]) !== process.pid) continue;
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    const args = cmd.split('\0');
    if (words.every((w) => args.includes(w))) out.push(Number(d));
  }
  return out;
}

/** Busy CPU seconds of the whole machine so far (every core: /proc/stat minus idle and iowait). */
export function machineBusySeconds(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS;
}

/**
 * Samples, once a second, the CPU the processes `cpu()` measures use and the machine's busy CPU:
 * `stop()` returns both per second (cores), to show what else ran beside a measurement.
 */
export function sampleCpu(cpu: () => number): { stop: () => { pipe: number[]; machine: number[] } } {
  const pipe: number[] = [];
  const machine: number[] = [];
  let last = { t: performance.now(), pipe: cpu(), machine: machineBusySeconds() };
  const timer = setInterval(() => {
    const now = { t: performance.now(), pipe: cpu(), machine: machineBusySeconds() };
    const s = (now.t - last.t) / 1000;
    pipe.push((now.pipe - last.pipe) / s);
    machine.push((now.machine - last.machine) / s);
    last = now;
  }, 1000);
  return {
    stop: () => {
      clearInterval(timer);
      return { pipe, machine };
    },
  };
}
