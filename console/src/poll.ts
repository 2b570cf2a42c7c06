// Re-runs a loader every few seconds while the page is visible, so lists and charts stay current.
import { useEffect, useRef } from 'preact/hooks';

export const REFRESH_MS = 3000;

export function usePolling(load: () => Promise<void>, deps: unknown[], intervalMs = REFRESH_MS): void {
  const latest = useRef(load);
  latest.current = load;
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      if (document.visibilityState === 'visible') {
        try {
          await latest.current();
        } catch {
          // the loader shows its own errors; keep polling
        }
      }
      if (!stopped) timer = setTimeout(tick, intervalMs);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- callers list what should restart the loop
  }, deps);
}
