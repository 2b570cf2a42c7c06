// The metadata-state port: what metadata sync last saw of each cluster, and each item's outcome.

export type ClusterSide = 'source' | 'target';

export interface MetadataSnapshot {
  taskId: string;
  side: ClusterSide;
  takenAt: Date;
  items: unknown;
}

/** acl_user/acl: ACL 2.0 users and ACLs (5.3+); acl_account: ACL 1.0 accounts; role: Tencent Cloud roles. */
export type MetadataKind = 'topic' | 'group' | 'acl_user' | 'acl' | 'acl_account' | 'role';
export type SyncDirection = 'source_to_target' | 'target_to_source';
export type MetadataAction = 'create' | 'update' | 'delete' | 'none';
export type MetadataItemStatus = 'synced' | 'failed' | 'unsupported';

export interface MetadataItemOutcome {
  kind: MetadataKind;
  name: string;
  direction: SyncDirection;
  action: MetadataAction;
  status: MetadataItemStatus;
  error?: string | null;
  /** Defaults to the database clock. */
  syncedAt?: Date;
}

export interface MetadataItem extends Required<MetadataItemOutcome> {
  taskId: string;
  error: string | null;
}

export interface MetadataStateStore {
  /** Replaces the side's previous snapshot. */
  saveSnapshot(taskId: string, side: ClusterSide, items: unknown): Promise<void>;
  getSnapshot(taskId: string, side: ClusterSide): Promise<MetadataSnapshot | null>;
  /** Records each item's latest outcome, keyed by (kind, name, direction). */
  upsertMetadataItems(taskId: string, items: readonly MetadataItemOutcome[]): Promise<void>;
  /** By kind, name, direction. */
  listMetadataItems(taskId: string): Promise<MetadataItem[]>;
}
