// MetadataStateStore on SQL.
import type { SqlExecutor } from '../executor.ts';
import type {
  ClusterSide,
  MetadataAction,
  MetadataItem,
  MetadataItemOutcome,
  MetadataItemStatus,
  MetadataKind,
  MetadataSnapshot,
  MetadataStateStore,
  SyncDirection,
} from '../ports/metadata.ts';
import { json, lastPerKey, taskMustExist } from './common.ts';

interface SnapshotDbRow {
  task_id: string;
  cluster_side: string;
  taken_at: Date;
  items: unknown;
}

interface MetadataItemDbRow {
  task_id: string;
  kind: string;
  name: string;
  direction: string;
  action: string;
  status: string;
  error: string | null;
  synced_at: Date;
}

const toMetadataItem = (r: MetadataItemDbRow): MetadataItem => ({
  taskId: r.task_id,
  kind: r.kind as MetadataKind,
  name: r.name,
  direction: r.direction as SyncDirection,
  action: r.action as MetadataAction,
  status: r.status as MetadataItemStatus,
  error: r.error,
  syncedAt: r.synced_at,
});

export const sqlMetadataStateStore = (db: SqlExecutor): MetadataStateStore => ({
  async saveSnapshot(taskId: string, side: ClusterSide, items: unknown): Promise<void> {
    await taskMustExist(taskId, () =>
      db.query(
        `INSERT INTO metadata_snapshots (task_id, cluster_side, taken_at, items)
         VALUES ($1, $2, clock_timestamp(), $3::jsonb)
         ON CONFLICT (task_id, cluster_side) DO UPDATE SET taken_at = excluded.taken_at, items = excluded.items`,
        [taskId, side, json(items ?? null)],
      ),
    );
  },

  async getSnapshot(taskId: string, side: ClusterSide): Promise<MetadataSnapshot | null> {
    const [row] = await db.query<SnapshotDbRow>('SELECT * FROM metadata_snapshots WHERE task_id = $1 AND cluster_side = $2', [
      taskId,
      side,
    ]);
    return row ? { taskId: row.task_id, side: row.cluster_side as ClusterSide, takenAt: row.taken_at, items: row.items } : null;
  },

  async upsertMetadataItems(taskId: string, items: readonly MetadataItemOutcome[]): Promise<void> {
    if (items.length === 0) return;
    const unique = lastPerKey(items, (i) => JSON.stringify([i.kind, i.name, i.direction]));
    await taskMustExist(taskId, () =>
      db.query(
        `INSERT INTO metadata_items AS mi (task_id, kind, name, direction, action, status, error, synced_at)
         SELECT $1, i.kind, i.name, i.direction, i.action, i.status, i.error, coalesce(i.synced_at, clock_timestamp())
         FROM jsonb_to_recordset($2::jsonb) AS i(
           kind text, name text, direction text, action text, status text, error text, synced_at timestamptz)
         ON CONFLICT (task_id, kind, name, direction) DO UPDATE SET
           action = excluded.action, status = excluded.status, error = excluded.error, synced_at = excluded.synced_at`,
        [
          taskId,
          JSON.stringify(
            unique.map((i) => ({
              kind: i.kind,
              name: i.name,
              direction: i.direction,
              action: i.action,
              status: i.status,
              error: i.error ?? null,
              synced_at: i.syncedAt?.toISOString() ?? null,
            })),
          ),
        ],
      ),
    );
  },

  async listMetadataItems(taskId: string): Promise<MetadataItem[]> {
    const rows = await db.query<MetadataItemDbRow>('SELECT * FROM metadata_items WHERE task_id = $1 ORDER BY kind, name, direction', [
      taskId,
    ]);
    return rows.map(toMetadataItem);
  },
});
