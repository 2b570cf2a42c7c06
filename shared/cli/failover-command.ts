// `ferry tasks failover <id> --mode planned|unplanned [--reverse] [--yes]` and how a task's failover
// reads in `ferry tasks get`. The failover itself runs in the reconciler's cycles; the command asks
// for it and shows where it stands (follow it with `ferry tasks get <id>`).
import { type Command, Option } from 'commander';
import type { FailoverView } from '../tasks/failover-schema.ts';
import type { CommandContext } from './operator-commands.ts';
import { dash, keyValues, table, time } from './format.ts';

const WHAT = {
  planned: 'wait until every queue is copied (lag 0), translate consumer offsets a last time, then stop it',
  unplanned: 'stop it now, translate consumer offsets from what is known, and report what may be missing on the target',
} as const;

export function registerFailoverCommand(tasks: Command, { ctx, mustConfirm }: CommandContext): void {
  tasks
    .command('failover')
    .description('fail a task over to its target cluster: planned (drain first) or unplanned (stop now); asks first on a terminal')
    .argument('<id>', 'task id')
    .addOption(new Option('--mode <mode>', 'planned or unplanned').choices(['planned', 'unplanned']).makeOptionMandatory())
    .option('--reverse', 'then create and start the task that copies the target back to the source (failback)')
    .option('-y, --yes', 'fail over without asking')
    .action(async (id: string, opts: { mode: 'planned' | 'unplanned'; reverse?: boolean; yes?: boolean }, cmd: Command) => {
      const { api, out } = ctx(cmd);
      const then = opts.reverse ? ', then start the target → source task' : '';
      await mustConfirm(cmd, opts.yes, `Fail over task ${id} (${opts.mode}: ${WHAT[opts.mode]}${then})?`);
      const t = await api.failover(id, { mode: opts.mode, reverse: opts.reverse === true });
      out(`Failover of ${id} asked (${opts.mode}); follow it with \`ferry tasks get ${id}\`.\n${failoverText(t.failover)}`, t);
    });
}

/** The failover block of `ferry tasks get` (empty when the task never failed over). */
export function failoverText(f: FailoverView | null): string {
  if (!f) return '';
  let out = `\nFailover:\n${keyValues([
    ['Mode', `${f.mode}${f.reverse ? ' with reverse' : ''}`],
    ['State', f.state],
    ['Started', time(f.startedAt)],
    ['Finished', f.finishedAt ? time(f.finishedAt) : '-'],
    ['Lag at start', dash(f.lagAtStart)],
    ['Lag', dash(f.lag)],
    ['Possible loss', f.possibleLoss ? String(f.possibleLoss.total) : '-'],
    [
      'Offsets',
      f.offsets
        ? `${f.offsets.synced} synced, ${f.offsets.skipped} skipped, ${f.offsets.noMapping} no mapping, ${f.offsets.failed} failed`
        : '-',
    ],
    ['Delayed carried', f.delayed ? `${f.delayed.carried} carried, ${f.delayed.failed} not carried` : '-'],
    ['Reverse task', dash(f.reverseTaskId)],
    ['Reason', dash(f.reason)],
  ])}`;
  if (f.possibleLoss?.queues.length) {
    out += table(
      ['FLOW', 'TOPIC', 'QUEUE', 'SOURCE END', 'REPLICATED', 'MISSING'],
      f.possibleLoss.queues.map((q) => [
        q.flow,
        q.topic,
        `${q.broker}/${q.queueId}`,
        String(q.sourceEnd),
        String(q.replicated),
        String(q.missing),
      ]),
    );
  }
  return out;
}
