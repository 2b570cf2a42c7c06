// `--wait`: poll a task until it runs, telling the user what happens meanwhile (status changes and,
// while nothing changes, a heartbeat with the elapsed time).
import type { ApiClient } from '../api/client.ts';
import type { TaskView } from '../api/contract.ts';
import { seconds } from './format.ts';

export type WaitOutcome = { ok: true; task: TaskView } | { ok: false; task: TaskView; reason: string };

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  heartbeatMs?: number;
  progress: (line: string) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export async function waitForRunning(api: ApiClient, first: TaskView, opts: WaitOptions): Promise<WaitOutcome> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const interval = opts.intervalMs ?? 500;
  const heartbeat = opts.heartbeatMs ?? 10_000;
  const t0 = now();
  let task = first;
  let lastStatus = '';
  let lastLine = t0;
  opts.progress(`waiting for ${task.id} to reach running (timeout ${seconds(opts.timeoutMs)})`);
  for (;;) {
    const elapsed = now() - t0;
    if (task.status !== lastStatus) {
      opts.progress(`  ${seconds(elapsed).padStart(7)}  ${task.status}${task.statusReason ? `: ${task.statusReason}` : ''}`);
      lastStatus = task.status;
      lastLine = now();
    } else if (now() - lastLine >= heartbeat) {
      opts.progress(`  ${seconds(elapsed).padStart(7)}  still ${task.status}`);
      lastLine = now();
    }
    if (task.status === 'running') return { ok: true, task };
    if (task.status === 'start_failed')
      return { ok: false, task, reason: `${task.id} failed to start: ${task.statusReason ?? 'no reason given'}` };
    // Someone else stopped or deleted it while we waited: it will not run without another start.
    if (task.status === 'stopped' || task.status === 'deleting' || task.desiredState !== 'running') {
      return { ok: false, task, reason: `${task.id} is ${task.status} (desired state ${task.desiredState}); it will not reach running` };
    }
    if (elapsed >= opts.timeoutMs)
      return { ok: false, task, reason: `${task.id} did not reach running within ${seconds(opts.timeoutMs)} (status: ${task.status})` };
    await sleep(Math.min(interval, Math.max(0, opts.timeoutMs - elapsed)));
    task = await api.getTask(task.id);
  }
}
