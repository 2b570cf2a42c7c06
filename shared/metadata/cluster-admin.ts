// The ClusterAdmin port: what metadata sync needs from a cluster, whatever the cluster is
// (self-built over remoting, a Tencent Cloud cluster through the Cloud API).
import type { ClusterSnapshot } from './model.ts';
import type { SyncAction } from './plan.ts';

export interface ClusterAdmin {
  /** The task's id for this cluster. */
  readonly clusterId: string;
  /**
   * Reads every topic, group and access entry. Throws when the cluster cannot be read as a
   * whole (unreachable, unknown cluster); a kind the cluster cannot serve comes back as
   * `{status: 'unsupported', reason}` instead.
   */
  readSnapshot(): Promise<ClusterSnapshot>;
  /**
   * Writes one action to this cluster. Call readSnapshot first: adapters may use what it read
   * (per-broker configs) to write only differences. Throws MetadataUnsupportedError when the
   * cluster cannot do this at all, anything else when this attempt failed.
   */
  apply(action: SyncAction): Promise<void>;
  /**
   * Optional: writes several actions and returns each one's error (undefined = written), in the
   * same order, without throwing for any one of them — so an adapter can use batch requests and
   * concurrency. The actions it is given are of one kind and all creates/updates or all deletes,
   * so their order among themselves does not matter. Without it, apply is called per action.
   */
  applyMany?(actions: readonly SyncAction[]): Promise<(Error | undefined)[]>;
  close(): void;
}

/** The cluster cannot do this at all (a capability gap, not a failure worth retrying). */
export class MetadataUnsupportedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MetadataUnsupportedError';
  }
}
