// "Sync this task's metadata now", for a replicator that finds a target topic missing. One cycle
// per task at a time in this process; the store lease keeps other processes' cycles apart too.
import type { MetadataSyncRunDeps } from './run.ts';
import { syncTaskMetadata } from './sync.ts';

export function onDemandMetadataSync(deps: MetadataSyncRunDeps): (taskId: string) => void {
  const running = new Set<string>();
  return (taskId) => {
    if (running.has(taskId)) return;
    running.add(taskId);
    void (async () => {
      const task = (await deps.store.listAllTasks()).find((t) => t.id === taskId);
      if (task) await syncTaskMetadata(task, deps);
    })()
      .catch((err: unknown) => deps.log.warn({ err, taskId }, 'on-demand metadata sync failed'))
      .finally(() => running.delete(taskId));
  };
}
