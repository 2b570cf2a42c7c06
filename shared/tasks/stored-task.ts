// A task as Ferry keeps it: its states, its spec in stored form (secrets sealed), and the zod
// schemas the store decodes a row with when it hands one out — so code past the store reads a
// typed TaskSpec and never casts. This module knows nothing of the store (the store imports it).
//
// The schemas check the stored shape only — types, not the field rules of schema.ts, which were
// applied when the task was created — so a task stays readable when a rule gets stricter. Objects
// are loose: keys the schema does not name are kept, not dropped, so a read-modify-write (reset
// offset, the reconciler's updates) writes back exactly what it read.
import { z } from 'zod';
import type { EndpointInput, TaskInput } from './schema.ts';

export type DesiredState = 'running' | 'stopped';
/** stopping: stop was asked and the task's replicators still hold leases; stopped once every one is released or expired. */
export type TaskStatus = 'initializing' | 'running' | 'stopping' | 'stopped' | 'start_failed' | 'deleting';

interface StoredAcl {
  enabled: boolean;
  accessKeySealed?: string;
  secretKeySealed?: string;
  accessKeyMasked?: string;
}

// Omit that keeps the union's variants apart (plain Omit collapses them to the common keys).
export type OmitEach<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Tencent endpoints' Cloud API keys, sealed like the ACL keys. */
interface StoredCloudApi {
  secretIdSealed: string;
  secretKeySealed: string;
  secretIdMasked: string;
}

export type StoredEndpoint = OmitEach<EndpointInput, 'acl' | 'cloudApi'> & { acl?: StoredAcl; cloudApi?: StoredCloudApi };

/** The `spec` column: the definition minus the create-only `start` flag, secrets sealed. */
export interface TaskSpec {
  direction: TaskInput['direction'];
  source: StoredEndpoint;
  target: StoredEndpoint;
  startOffset: TaskInput['startOffset'];
  filter: TaskInput['filter'];
  tpsLimit: number | null;
  idempotentResume: boolean;
  /** Shards per flow: sized by the reconciler, or pinned. Absent in tasks stored before it existed: auto. */
  shards?: 'auto' | number;
  /** Absent in tasks stored before they existed: the defaults of schema.ts (everything, on). */
  groups?: TaskInput['groups'];
  metadataSync?: TaskInput['metadataSync'];
  offsetSync?: Omit<TaskInput['offsetSync'], 'nothingLeftBehind'> & { nothingLeftBehind?: boolean };
  /** Set by reset-offset while stopped; the reconciler rewrites checkpoints before the next start. */
  pendingReset?: { timestamp: number; requestedAt: string };
  /** Bumped by each applied reset: idempotent resume ignores replicas of earlier generations. */
  replayGeneration?: number;
  /**
   * Observed, not defined: the reconciler's health record of a running task (tasks/health.ts decodes
   * it), written without bumping the version; dropped when the task starts again.
   */
  health?: unknown;
  /** The task's last failover (tasks/failover.ts decodes it), moved on by the reconciler's cycles. */
  failover?: unknown;
}

/** A task as the store keeps it and hands it out, its spec decoded. */
export interface StoredTask {
  id: string;
  tenant: string;
  name: string;
  /** The full task definition as the tasks service stored it (secrets already encrypted). */
  spec: TaskSpec;
  desiredState: DesiredState;
  status: TaskStatus;
  statusReason: string | null;
  /** Optimistic-concurrency token: 1 on insert, +1 on every update. */
  version: number;
  createdAt: Date;
  updatedAt: Date;
  startOffsetsCaptured: boolean;
}

// ── the stored shape, as zod schemas ────────────────────────────────────────

export const DesiredStateSchema = z.enum(['running', 'stopped']) satisfies z.ZodType<DesiredState>;
export const TaskStatusSchema = z.enum([
  'initializing',
  'running',
  'stopping',
  'stopped',
  'start_failed',
  'deleting',
]) satisfies z.ZodType<TaskStatus>;

const Protocol = z.enum(['remoting', 'grpc']);
const NetworkType = z.enum(['vpc', 'public']);

const StoredAclSchema = z.looseObject({
  enabled: z.boolean(),
  accessKeySealed: z.string().optional(),
  secretKeySealed: z.string().optional(),
  accessKeyMasked: z.string().optional(),
});

const StoredCloudApiSchema = z.looseObject({
  secretIdSealed: z.string(),
  secretKeySealed: z.string(),
  secretIdMasked: z.string(),
});

const StoredTencentEndpoint = z.looseObject({
  clusterType: z.literal('tencent'),
  region: z.string(),
  clusterId: z.string(),
  protocol: Protocol,
  networkType: NetworkType.optional(),
  acl: StoredAclSchema.optional(),
  cloudApi: StoredCloudApiSchema.optional(),
});

const StoredSelfBuiltEndpoint = z.looseObject({
  clusterType: z.literal('self-built'),
  clusterId: z.string(),
  protocol: Protocol,
  nameServer: z.string(),
  networkType: NetworkType,
  vpc: z.looseObject({ region: z.string(), vpcId: z.string(), subnetId: z.string() }).optional(),
  resourceType: z.enum(['tencent', 'other-cloud']).optional(),
  dedicatedLine: z.looseObject({ type: z.enum(['ccn', 'dcg']), id: z.string() }).optional(),
  acl: StoredAclSchema.optional(),
  cloudApi: StoredCloudApiSchema.optional(),
});

const StoredEndpointSchema = z.discriminatedUnion('clusterType', [StoredTencentEndpoint, StoredSelfBuiltEndpoint]);

const StoredStartOffset = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('latest') }),
  z.looseObject({ type: z.literal('earliest') }),
  z.looseObject({ type: z.literal('timestamp'), timestamp: z.number() }),
]);

const StoredFilter = z.looseObject({
  topics: z.looseObject({ include: z.array(z.string()), exclude: z.array(z.string()) }),
  expression: z.looseObject({ type: z.enum(['TAG', 'SQL92']), value: z.string() }),
});

/** The stored form of a task's spec; what the store decodes the `spec` column with. */
export const TaskSpecSchema = z.looseObject({
  direction: z.enum(['one-way', 'two-way']),
  source: StoredEndpointSchema,
  target: StoredEndpointSchema,
  startOffset: StoredStartOffset,
  filter: StoredFilter,
  tpsLimit: z.number().nullable(),
  idempotentResume: z.boolean(),
  shards: z.union([z.literal('auto'), z.number()]).optional(),
  groups: z.looseObject({ include: z.array(z.string()), exclude: z.array(z.string()) }).optional(),
  metadataSync: z
    .looseObject({
      kinds: z.array(z.enum(['topic', 'group', 'acl'])),
      propagateDeletes: z.boolean(),
      topicsFollowFilter: z.boolean(),
      // Stored before the option existed: secrets were copied then, and are not now unless asked.
      copyRoleSecrets: z.boolean().default(false),
    })
    .optional(),
  offsetSync: z.looseObject({ enabled: z.boolean(), nothingLeftBehind: z.boolean().optional() }).optional(),
  pendingReset: z.looseObject({ timestamp: z.number(), requestedAt: z.string() }).optional(),
  replayGeneration: z.number().optional(),
  // Decoded by tasks/health.ts, which ignores a record it cannot read: never a reason for a task not to load.
  health: z.unknown().optional(),
  failover: z.unknown().optional(),
}) satisfies z.ZodType<TaskSpec>;
