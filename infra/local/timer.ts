// A scheduled function on the local runtime: runs `fn` every `ms`, never two at once.
import type { Logger } from '../../shared/log.ts';

export function every(ms: number, name: string, log: Logger, fn: () => Promise<unknown>): { stop(): Promise<void> } {
  let current: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tick = () => {
    current = fn()
      .then((summary) => log.debug({ fn: name, summary }, 'scheduled run'))
      .catch((err: unknown) => log.error({ err, fn: name }, 'scheduled run failed'))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, ms);
      });
  };
  timer = setTimeout(tick, ms);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
}
