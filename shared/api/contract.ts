// The HTTP API's contract: every operation's method, path, success status and response body, as
// zod schemas. One source for three things that must agree:
//   - the router (router.ts) answers each operation with a body typed by its schema (z.input);
//   - the OpenAPI document (openapi.ts) generates its response schemas from these (z.toJSONSchema);
//   - the one fetch client (client.ts) — used by the CLI and the web console — is typed by them
//     (z.output), and can check answers against them (checkResponse, the CLI does).
// Request bodies are the task schemas (../tasks/schema.ts), which also validate them.
//
// Only zod here: no Node APIs and nothing heavy (the task schemas bring the ReDoS checker), so the
// console and the CLI can load it. Objects are zod's default (unknown keys stripped, not refused):
// a client keeps working when a later server adds a field.
import { z } from 'zod';
import { FailoverView } from '../tasks/failover-schema.ts';

// ── errors ─────────────────────────────────────────────────────────────────────────────────────

/** Every refusal: `{error: {code, message, field}}` (errors.ts), `field` naming the offending input. */
export const ErrorBody = z.object({
  error: z.object({
    /**
     * A FerryErrorCode: VALIDATION_FAILED, FIELD_IMMUTABLE, EGRESS_DENIED (a cluster address outside the
     * egress policy), UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, TASK_RUNNING, INVALID_STATE, CONFLICT (a stale
     * version or If-Match, a task name the tenant already has, an Idempotency-Key reused with another request),
     * PAYLOAD_TOO_LARGE (413), INTERNAL.
     */
    code: z.string(),
    message: z.string(),
    field: z.string().optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

// ── tasks ──────────────────────────────────────────────────────────────────────────────────────

export const TaskStatus = z.enum(['initializing', 'running', 'stopping', 'stopped', 'start_failed', 'deleting']);
export type TaskStatus = z.infer<typeof TaskStatus>;

const Protocol = z.enum(['remoting', 'grpc']);
const NetworkType = z.enum(['vpc', 'public']);

/** ACL keys as shown: the access key masked (`ak-v****`), the secret key never — only that it is set. */
export const AclView = z.object({ enabled: z.boolean(), accessKey: z.string().optional(), secretKeySet: z.boolean().optional() });
export type AclView = z.infer<typeof AclView>;

/** A Tencent endpoint's own Cloud API keys as shown: the SecretId masked, the SecretKey never. */
export const CloudApiView = z.object({ secretId: z.string(), secretKeySet: z.literal(true) });
export type CloudApiView = z.infer<typeof CloudApiView>;

const TencentEndpointView = z.object({
  clusterType: z.literal('tencent'),
  region: z.string(),
  clusterId: z.string(),
  protocol: Protocol,
  networkType: NetworkType.optional(),
  acl: AclView.optional(),
  cloudApi: CloudApiView.optional(),
});

const SelfBuiltEndpointView = z.object({
  clusterType: z.literal('self-built'),
  clusterId: z.string(),
  protocol: Protocol,
  nameServer: z.string(),
  networkType: NetworkType,
  vpc: z.object({ region: z.string(), vpcId: z.string(), subnetId: z.string() }).optional(),
  resourceType: z.enum(['tencent', 'other-cloud']).optional(),
  dedicatedLine: z.object({ type: z.enum(['ccn', 'dcg']), id: z.string() }).optional(),
  acl: AclView.optional(),
});

/** One side of a task: its input fields, secrets masked. */
export const EndpointView = z.discriminatedUnion('clusterType', [TencentEndpointView, SelfBuiltEndpointView]);
export type EndpointView = z.infer<typeof EndpointView>;

export const StartOffsetView = z.discriminatedUnion('type', [
  z.object({ type: z.literal('latest') }),
  z.object({ type: z.literal('earliest') }),
  z.object({ type: z.literal('timestamp'), timestamp: z.number() }),
]);

/**
 * How a task replicates. Running tasks: ok; degraded (a cluster unreachable over 30 s, or a flow's lag
 * growing with nothing replicated over 2 min); stalled (a shard no replicator held for two reconciler
 * intervals). start_failed: stalled, the status reason as the reason. Stopped, initializing and
 * deleting tasks: ok, reason and since null. Health changes do not change `version`.
 */
export const TaskHealthView = z.object({
  state: z.enum(['ok', 'degraded', 'stalled']),
  /** Every problem found, most severe first; null when ok. */
  reason: z.string().nullable(),
  /** When the task entered this state; null when its health is not evaluated (not running, or not yet). */
  since: z.string().nullable(),
});
export type TaskHealthView = z.infer<typeof TaskHealthView>;

/** A task: its input fields (secrets masked, defaults applied) plus identity, state and version. */
export const TaskView = z.object({
  id: z.string(),
  tenant: z.string(),
  name: z.string(),
  direction: z.enum(['one-way', 'two-way']),
  source: EndpointView,
  target: EndpointView,
  startOffset: StartOffsetView,
  filter: z.object({
    topics: z.object({ include: z.array(z.string()), exclude: z.array(z.string()) }),
    expression: z.object({ type: z.enum(['TAG', 'SQL92']), value: z.string() }),
  }),
  tpsLimit: z.number().nullable(),
  idempotentResume: z.boolean(),
  shards: z.union([z.literal('auto'), z.number()]),
  /** Consumer groups taken by metadata sync and offset translation. */
  groups: z.object({ include: z.array(z.string()), exclude: z.array(z.string()) }),
  metadataSync: z.object({
    kinds: z.array(z.enum(['topic', 'group', 'acl'])),
    propagateDeletes: z.boolean(),
    topicsFollowFilter: z.boolean(),
    copyRoleSecrets: z.boolean(),
  }),
  offsetSync: z.object({ enabled: z.boolean(), nothingLeftBehind: z.boolean() }),
  status: TaskStatus,
  /** Why the task is in its status (start_failed says what went wrong). */
  statusReason: z.string().nullable(),
  health: TaskHealthView,
  /** The task's last failover and how far it has come (POST /v1/tasks/{id}/failover); null when it never failed over. */
  failover: FailoverView.nullable(),
  desiredState: z.enum(['running', 'stopped']),
  /** A reset-offset waiting for the next start. */
  pendingReset: z.object({ timestamp: z.number(), requestedAt: z.string() }).nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** Optimistic-concurrency token: +1 on every change; an edit (PATCH) may name the version it is based on. */
  version: z.number(),
});
export type TaskView = z.infer<typeof TaskView>;

/** The latest minute of one flow, as GET /v1/tasks/{id} shows it. */
export const FlowSummary = z.object({
  flow: z.string(),
  minuteMs: z.number(),
  lag: z.number().nullable(),
  delayP99Ms: z.number().nullable(),
  replicated: z.number(),
  failed: z.number(),
});
export type FlowSummary = z.infer<typeof FlowSummary>;

/** Per flow: the backlog found when the start offsets were last fixed (first start or reset) and how much of it is done. */
export const FlowCatchUp = z.object({
  flow: z.string(),
  sinceMs: z.number(),
  queues: z.number(),
  backlog: z.number(),
  done: z.number(),
  left: z.number(),
});
export type FlowCatchUp = z.infer<typeof FlowCatchUp>;

export const TaskDetails = TaskView.extend({ summary: z.array(FlowSummary), catchUp: z.array(FlowCatchUp) });
export type TaskDetails = z.infer<typeof TaskDetails>;

/** POST /v1/tasks/preview: per flow, what the topic filter and the groups filter would take from its source cluster now. */
export const TaskPreview = z.object({
  flows: z.array(
    z.object({
      /** `sourceClusterId->targetClusterId`. */
      flow: z.string(),
      /** Every topic of the flow's source cluster; `reason` says what selected it or why not (pattern, system topic). */
      topics: z.array(z.object({ name: z.string(), queues: z.number(), selected: z.boolean(), reason: z.string() })),
      groups: z.array(z.object({ name: z.string(), selected: z.boolean(), reason: z.string() })),
      /** Why the consumer groups could not be listed (then `groups` is empty). */
      groupsError: z.string().optional(),
    }),
  ),
});
export type TaskPreview = z.infer<typeof TaskPreview>;

/** One page of GET /v1/tasks, newest first; nextCursor is null on the last page. */
export const TaskPage = z.object({ items: z.array(TaskView), nextCursor: z.string().nullable() });
export type TaskPage = z.infer<typeof TaskPage>;

// ── monitoring ─────────────────────────────────────────────────────────────────────────────────

/** One flow's minute: counters are sums over the minute, gauges (lag, delays) null when unmeasured. */
export const MetricsPoint = z.object({
  flow: z.string(),
  minuteMs: z.number(),
  consumed: z.number(),
  replicated: z.number(),
  filtered: z.number(),
  loopSkipped: z.number(),
  failed: z.number(),
  throttled: z.number(),
  lag: z.number().nullable(),
  delayP50Ms: z.number().nullable(),
  delayP99Ms: z.number().nullable(),
  delayMaxMs: z.number().nullable(),
});
export type MetricsPoint = z.infer<typeof MetricsPoint>;

export const MetricsSeries = z.object({ from: z.number(), to: z.number(), stepMs: z.number(), points: z.array(MetricsPoint) });
export type MetricsSeries = z.infer<typeof MetricsSeries>;

/** The latest outcome of syncing one topic, group, ACL user/account or role in one direction. */
export const MetadataItemView = z.object({
  kind: z.enum(['topic', 'group', 'acl_user', 'acl', 'acl_account', 'role']),
  name: z.string(),
  direction: z.enum(['source_to_target', 'target_to_source']),
  action: z.enum(['create', 'update', 'delete', 'none']),
  status: z.enum(['synced', 'failed', 'unsupported']),
  error: z.string().nullable(),
  syncedAt: z.string(),
});
export type MetadataItemView = z.infer<typeof MetadataItemView>;

export const MetadataList = z.object({ items: z.array(MetadataItemView) });
export type MetadataList = z.infer<typeof MetadataList>;

/**
 * The latest translation of one consumer group's committed offset on one source queue of a flow:
 * `sourceOffset` is the group's commit there, `targetOffset` where the group stands on the target queue.
 */
export const OffsetSyncItemView = z.object({
  group: z.string(),
  topic: z.string(),
  /** The source queue. */
  broker: z.string(),
  queueId: z.number(),
  flow: z.string(),
  sourceOffset: z.number(),
  targetBroker: z.string().nullable(),
  targetQueueId: z.number().nullable(),
  targetOffset: z.number().nullable(),
  status: z.enum(['synced', 'skipped-active-consumers', 'no-mapping-yet', 'failed']),
  error: z.string().nullable(),
  syncedAt: z.string(),
});
export type OffsetSyncItemView = z.infer<typeof OffsetSyncItemView>;

export const OffsetSyncList = z.object({ items: z.array(OffsetSyncItemView) });
export type OffsetSyncList = z.infer<typeof OffsetSyncList>;

/** A message the replicator could not deliver; `payload` (base64) only with ?includePayload=true. */
export const ParkedMessageView = z.object({
  id: z.number(),
  taskId: z.string(),
  flow: z.string(),
  topic: z.string(),
  broker: z.string(),
  queueId: z.number(),
  queueOffset: z.number(),
  reason: z.string(),
  properties: z.record(z.string(), z.string()),
  flag: z.number(),
  bornTimestamp: z.number().nullable(),
  payload: z.string().optional(),
  payloadSize: z.number(),
  parkedAt: z.string(),
  retryRequestedAt: z.string().nullable(),
  resolvedAt: z.string().nullable(),
});
export type ParkedMessageView = z.infer<typeof ParkedMessageView>;

export const FailureList = z.object({ items: z.array(ParkedMessageView) });
export type FailureList = z.infer<typeof FailureList>;

export const RetryRequested = z.object({ requested: z.number() });
export type RetryRequested = z.infer<typeof RetryRequested>;

/** One change to a task, newest first; before/after are task views (or the change's own facts). */
export const AuditEventView = z.object({
  id: z.number(),
  /** `token:<id>` for an API token (its label in actorLabel), or the name of Ferry's own work (`reconciler`, …). */
  actor: z.string(),
  actorLabel: z.string().nullable().optional(),
  action: z.string(),
  at: z.string(),
  before: z.unknown(),
  after: z.unknown(),
});
export type AuditEventView = z.infer<typeof AuditEventView>;

export const AuditList = z.object({ items: z.array(AuditEventView) });
export type AuditList = z.infer<typeof AuditList>;

// ── tokens, health, the document itself ────────────────────────────────────────────────────────

/** A token minted in the caller's tenant; the only time the token itself is shown. `id` names it later. */
export const TokenIssued = z.object({
  id: z.string(),
  token: z.string(),
  tenant: z.string(),
  role: z.enum(['admin', 'reader']),
  label: z.string(),
  createdAt: z.string().optional(),
  /** null: never expires (POST without expiresInDays). */
  expiresAt: z.string().nullable().optional(),
});
export type TokenIssued = z.infer<typeof TokenIssued>;

/** A token of the tenant as listed: never the token, only its id (the first 16 hex digits of its SHA-256). */
export const TokenView = z.object({
  id: z.string(),
  label: z.string(),
  role: z.enum(['admin', 'reader']),
  createdAt: z.string(),
  /** After this the token is refused (401); null: never expires. */
  expiresAt: z.string().nullable(),
  /** The last request made with it, to within a minute (written at most once a minute); null: never used. */
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type TokenView = z.infer<typeof TokenView>;

export const TokenList = z.object({ items: z.array(TokenView) });
export type TokenList = z.infer<typeof TokenList>;

export const HealthOk = z.object({ status: z.literal('ok'), store: z.enum(['embedded', 'postgres']) });
/** No internals: why the store is unreachable goes to the log, not to an unauthenticated caller. */
export const HealthUnavailable = z.object({ status: z.literal('unavailable'), store: z.enum(['embedded', 'postgres']) });
/** 200 with HealthOk, 503 with HealthUnavailable. */
export const Health = z.discriminatedUnion('status', [HealthOk, HealthUnavailable]);
export type Health = z.infer<typeof Health>;

export const OpenApiDocument = z.looseObject({
  openapi: z.string(),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  components: z.record(z.string(), z.unknown()),
  paths: z.record(z.string(), z.record(z.string(), z.unknown())),
});
export type OpenApiDocument = z.infer<typeof OpenApiDocument>;

// ── operations ─────────────────────────────────────────────────────────────────────────────────

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface Operation {
  method: Method;
  /** `{id}` stands for a task id. */
  path: string;
  /** The success status. */
  status: number;
  /** null: no body (204). */
  response: z.ZodType | null;
}

const op = <const M extends Method, const S extends number, R extends z.ZodType | null>(
  method: M,
  path: string,
  status: S,
  response: R,
) => ({ method, path, status, response });

/** Every route of the API. Health is answered without a token; everything else needs one. */
export const operations = {
  createTask: op('POST', '/v1/tasks', 201, TaskView),
  // Reads the source cluster(s) now; nothing is stored.
  previewTask: op('POST', '/v1/tasks/preview', 200, TaskPreview),
  listTasks: op('GET', '/v1/tasks', 200, TaskPage),
  getTask: op('GET', '/v1/tasks/{id}', 200, TaskDetails),
  // Rename; while stopped or start_failed also edit (a JSON merge patch of the definition, TaskPatchInput).
  updateTask: op('PATCH', '/v1/tasks/{id}', 200, TaskView),
  deleteTask: op('DELETE', '/v1/tasks/{id}', 204, null),
  startTask: op('POST', '/v1/tasks/{id}/start', 202, TaskView),
  stopTask: op('POST', '/v1/tasks/{id}/stop', 202, TaskView),
  resetOffset: op('POST', '/v1/tasks/{id}/reset-offset', 202, TaskView),
  failoverTask: op('POST', '/v1/tasks/{id}/failover', 202, TaskView),
  getMetrics: op('GET', '/v1/tasks/{id}/metrics', 200, MetricsSeries),
  getMetadata: op('GET', '/v1/tasks/{id}/metadata', 200, MetadataList),
  getOffsets: op('GET', '/v1/tasks/{id}/offsets', 200, OffsetSyncList),
  getFailures: op('GET', '/v1/tasks/{id}/failures', 200, FailureList),
  retryFailures: op('POST', '/v1/tasks/{id}/failures/retry', 202, RetryRequested),
  getEvents: op('GET', '/v1/tasks/{id}/events', 200, AuditList),
  getOpenApi: op('GET', '/v1/openapi.json', 200, OpenApiDocument),
  listTokens: op('GET', '/v1/tokens', 200, TokenList),
  createToken: op('POST', '/v1/tokens', 201, TokenIssued),
  deleteToken: op('DELETE', '/v1/tokens/{id}', 204, null),
  revokeToken: op('POST', '/v1/tokens/revoke', 204, null),
  // 503 with HealthUnavailable when the store is unreachable.
  health: op('GET', '/v1/health', 200, Health),
} as const satisfies Record<string, Operation>;

export type OperationId = keyof typeof operations;

type ResponseSchema<K extends OperationId> = (typeof operations)[K]['response'];

/** What a client gets from an operation (undefined: no body). */
export type ResponseOf<K extends OperationId> = ResponseSchema<K> extends z.ZodType ? z.output<ResponseSchema<K>> : undefined;

/** What the server must answer an operation with: anything the response schema accepts (void: no body). */
// biome-ignore lint/suspicious/noConfusingVoidType: a handler of a bodiless operation returns nothing at all
export type ResponseBody<K extends OperationId> = ResponseSchema<K> extends z.ZodType ? z.input<ResponseSchema<K>> : void;

/**
 * Why `body` is not what `operation` answers with (the first problem, with its path), or undefined
 * when it is. Operations without a body accept anything: there is nothing to read.
 */
export function checkResponse(operation: OperationId, body: unknown): string | undefined {
  const schema: z.ZodType | null = operations[operation].response;
  if (schema === null) return undefined;
  const r = schema.safeParse(body);
  if (r.success) return undefined;
  const issue = r.error.issues[0]!;
  return `${issue.path.length ? issue.path.join('.') : 'body'}: ${issue.message}`;
}
