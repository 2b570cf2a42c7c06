// The task definition users submit, with the spec's field rules. Every rule lives here so the API,
// the OpenAPI document and the console's inline validation all say the same thing.
import { z } from 'zod';
import { FilterPatternError, FilterSyntaxError, compileTopicPatterns, parseSql92, parseTagExpression } from '../filter/index.ts';
import { ID_RE, ID_RULE } from './text.ts';

// 1–200 characters: CJK (Han, kana, Hangul), ASCII letters and digits, '-' and '_'.
const NAME_RE = /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}A-Za-z0-9_-]+$/u;

const TaskName = z
  .string({ error: 'name is required' })
  .min(1, 'name must not be empty')
  .max(200, 'name must be at most 200 characters')
  .regex(NAME_RE, 'name may contain only Chinese (CJK) characters, letters, digits, "-" and "_"');

const HOST_RE =
  /^(?:\[[0-9A-Fa-f:.]+\]|(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*)$/;

/** Name servers one list may hold: a cluster has a handful; each is dialled at every start check. */
export const MAX_NAME_SERVERS = 16;
/** Patterns one include/exclude list may hold: each is run against every topic or group name. */
export const MAX_PATTERNS = 64;

/** `host:port;host:port` — hostnames, IPv4 or [IPv6], ports 1–65535. */
const NameServerList = z.string({ error: 'nameServer is required' }).superRefine((value, ctx) => {
  const parts = value.split(';').map((s) => s.trim());
  if (parts.every((p) => p === '')) {
    ctx.addIssue({ code: 'custom', message: 'nameServer must list at least one host:port' });
    return;
  }
  if (parts.filter((p) => p !== '').length > MAX_NAME_SERVERS) {
    ctx.addIssue({ code: 'custom', message: `nameServer may list at most ${MAX_NAME_SERVERS} name servers` });
    return;
  }
  for (const part of parts) {
    if (part === '') continue; // a trailing ';' is harmless
    const i = part.lastIndexOf(':');
    const host = i > 0 ? part.slice(0, i) : '';
    const port = i > 0 ? part.slice(i + 1) : '';
    const n = Number(port);
    if (!host || !HOST_RE.test(host) || !/^\d{1,5}$/.test(port) || n < 1 || n > 65535) {
      ctx.addIssue({ code: 'custom', message: `"${part}" is not a valid host:port (port 1-65535)` });
      return;
    }
  }
});

const Id = (what: string) =>
  z
    .string({ error: `${what} is required` })
    .trim()
    .min(1, `${what} must not be empty`)
    .max(128, `${what} is too long`)
    .regex(ID_RE, `${what} ${ID_RULE}`);

const AclInput = z
  .object({
    enabled: z.boolean({ error: 'acl.enabled must be true or false' }),
    accessKey: z.string().max(256, 'accessKey is too long').optional(),
    secretKey: z.string().max(256, 'secretKey is too long').optional(),
  })
  .strict()
  .superRefine((acl, ctx) => {
    if (!acl.enabled) return;
    if (!acl.accessKey) ctx.addIssue({ code: 'custom', path: ['accessKey'], message: 'accessKey is required when ACL is enabled' });
    if (!acl.secretKey) ctx.addIssue({ code: 'custom', path: ['secretKey'], message: 'secretKey is required when ACL is enabled' });
  });

const NetworkType = z.enum(['vpc', 'public'], { error: 'networkType must be "vpc" or "public"' });

const Protocol = z.enum(['remoting', 'grpc'], { error: 'protocol must be "remoting" or "grpc"' });

/**
 * The Tencent Cloud API keys (SecretId/SecretKey of a CAM user or role) Ferry manages a Tencent
 * cluster's metadata with. Not the cluster's ACL role keys in `acl`, which clients use on the data
 * plane. Optional: without them the deployment's TENCENTCLOUD_SECRETID/TENCENTCLOUD_SECRETKEY apply.
 */
const CloudApiInput = z
  .object({
    secretId: z.string({ error: 'cloudApi.secretId is required' }).min(1, 'secretId must not be empty').max(256, 'secretId is too long'),
    secretKey: z
      .string({ error: 'cloudApi.secretKey is required' })
      .min(1, 'secretKey must not be empty')
      .max(256, 'secretKey is too long'),
  })
  .strict();

const TencentEndpoint = z
  .object({
    clusterType: z.literal('tencent'),
    region: Id('region'),
    clusterId: Id('clusterId'),
    protocol: Protocol.default('remoting'),
    // Which of the cluster's access points replication uses; absent = VPC (the product's default).
    networkType: NetworkType.optional(),
    acl: AclInput.optional(),
    cloudApi: CloudApiInput.optional(),
  })
  .strict();

const SelfBuiltEndpoint = z
  .object({
    clusterType: z.literal('self-built'),
    clusterId: Id('clusterId'),
    protocol: Protocol.default('remoting'),
    nameServer: NameServerList,
    networkType: NetworkType,
    vpc: z
      .object({ region: Id('vpc.region'), vpcId: Id('vpc.vpcId'), subnetId: Id('vpc.subnetId') })
      .strict()
      .optional(),
    resourceType: z.enum(['tencent', 'other-cloud'], { error: 'resourceType must be "tencent" or "other-cloud"' }).optional(),
    dedicatedLine: z
      .object({ type: z.enum(['ccn', 'dcg'], { error: 'dedicatedLine.type must be "ccn" or "dcg"' }), id: Id('dedicatedLine.id') })
      .strict()
      .optional(),
    acl: AclInput.default({ enabled: false }),
  })
  .strict()
  .superRefine((e, ctx) => {
    if (e.networkType === 'vpc') {
      if (!e.vpc) ctx.addIssue({ code: 'custom', path: ['vpc'], message: 'vpc {region, vpcId, subnetId} is required for a VPC network' });
      if (!e.resourceType) ctx.addIssue({ code: 'custom', path: ['resourceType'], message: 'resourceType is required for a VPC network' });
    }
    if (e.resourceType === 'other-cloud' && !e.dedicatedLine) {
      ctx.addIssue({
        code: 'custom',
        path: ['dedicatedLine'],
        message: 'dedicatedLine {type: ccn|dcg, id} is required for a cluster at another cloud',
      });
    }
  });

export const EndpointInput = z.discriminatedUnion('clusterType', [TencentEndpoint, SelfBuiltEndpoint], {
  error: 'clusterType must be "tencent" or "self-built"',
});

const StartOffset = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('latest') }).strict(),
    z.object({ type: z.literal('earliest') }).strict(),
    z
      .object({
        type: z.literal('timestamp'),
        timestamp: z.number({ error: 'timestamp must be milliseconds since the epoch' }).int().positive(),
      })
      .strict(),
  ],
  { error: 'startOffset.type must be "latest", "earliest" or "timestamp"' },
);

const Patterns = z
  .array(z.string().max(512, 'pattern is too long'), { error: 'must be a list of regular expressions' })
  .max(MAX_PATTERNS, `at most ${MAX_PATTERNS} patterns`);

const FilterInput = z
  .object({
    topics: z
      .object({ include: Patterns.default(['.*']), exclude: Patterns.default([]) })
      .strict()
      .default({ include: ['.*'], exclude: [] })
      .superRefine((t, ctx) => {
        try {
          compileTopicPatterns(t);
        } catch (err) {
          if (!(err instanceof FilterPatternError)) throw err;
          ctx.addIssue({ code: 'custom', path: [err.list, err.index], message: err.message });
        }
      }),
    expression: z
      .object({
        type: z.enum(['TAG', 'SQL92'], { error: 'expression.type must be "TAG" or "SQL92"' }),
        value: z.string().max(4096, 'expression is too long'),
      })
      .strict()
      .default({ type: 'TAG', value: '*' })
      .superRefine((x, ctx) => {
        try {
          if (x.type === 'SQL92') parseSql92(x.value);
          else parseTagExpression(x.value);
        } catch (err) {
          if (!(err instanceof FilterSyntaxError)) throw err;
          ctx.addIssue({ code: 'custom', path: ['value'], message: err.message });
        }
      }),
  })
  .strict();

const Direction = z.enum(['one-way', 'two-way'], { error: 'direction must be "one-way" or "two-way"' });

const TpsLimit = z
  .number({ error: 'tpsLimit must be a number' })
  .int('tpsLimit must be a whole number')
  .min(1, 'tpsLimit must be at least 1')
  .max(1_000_000, 'tpsLimit must be at most 1000000')
  .nullable();

const Shards = z.union(
  [
    z.literal('auto'),
    z.number().int('shards must be a whole number').min(1, 'shards must be at least 1').max(256, 'shards must be at most 256'),
  ],
  { error: 'shards must be "auto" or a number from 1 to 256' },
);

/** Consumer groups a task takes (metadata sync and offset translation): regexes on whole group names. */
const GroupsInput = z
  .object({ include: Patterns.default(['.*']), exclude: Patterns.default([]) })
  .strict()
  .superRefine((g, ctx) => {
    try {
      compileTopicPatterns(g);
    } catch (err) {
      if (!(err instanceof FilterPatternError)) throw err;
      ctx.addIssue({ code: 'custom', path: [err.list, err.index], message: err.message });
    }
  });

export const METADATA_KINDS = ['topic', 'group', 'acl'] as const;
export type MetadataKind = (typeof METADATA_KINDS)[number];

const MetadataSyncInput = z
  .object({
    kinds: z
      .array(z.enum(METADATA_KINDS, { error: 'kinds may hold "topic", "group" and "acl"' }))
      .max(3)
      .refine((k) => new Set(k).size === k.length, 'kinds must not repeat a kind')
      .default([...METADATA_KINDS]),
    propagateDeletes: z.boolean({ error: 'propagateDeletes must be true or false' }).default(true),
    topicsFollowFilter: z.boolean({ error: 'topicsFollowFilter must be true or false' }).default(false),
    // A Tencent role's secret key goes to the other cluster only when asked (else the copy gets keys of its own).
    copyRoleSecrets: z.boolean({ error: 'copyRoleSecrets must be true or false' }).default(false),
  })
  .strict();

const OffsetSyncInput = z
  .object({
    enabled: z.boolean({ error: 'offsetSync.enabled must be true or false' }).default(true),
    // The retry and dead-letter topics of the synced groups are replicated like topics
    // (tasks/replicated-topics.ts), so what a consumer put back or gave up on moves with it.
    nothingLeftBehind: z.boolean({ error: 'offsetSync.nothingLeftBehind must be true or false' }).default(true),
  })
  .strict();

export const DEFAULT_GROUPS = { include: ['.*'], exclude: [] as string[] };
export const DEFAULT_METADATA_SYNC = {
  kinds: [...METADATA_KINDS],
  propagateDeletes: true,
  topicsFollowFilter: false,
  copyRoleSecrets: false,
};
export const DEFAULT_OFFSET_SYNC = { enabled: true, nothingLeftBehind: true };

const IdempotentResume = z.boolean({ error: 'idempotentResume must be true or false' });

export const TaskInput = z
  .object({
    name: TaskName,
    direction: Direction,
    source: EndpointInput,
    target: EndpointInput,
    startOffset: StartOffset.default({ type: 'latest' }),
    filter: FilterInput.default({ topics: { include: ['.*'], exclude: [] }, expression: { type: 'TAG', value: '*' } }),
    tpsLimit: TpsLimit.default(null),
    idempotentResume: IdempotentResume.default(true),
    shards: Shards.default('auto'),
    groups: GroupsInput.default(DEFAULT_GROUPS),
    metadataSync: MetadataSyncInput.default(DEFAULT_METADATA_SYNC),
    offsetSync: OffsetSyncInput.default(DEFAULT_OFFSET_SYNC),
    start: z.boolean({ error: 'start must be true or false' }).default(true),
  })
  .strict();

export type TaskInput = z.output<typeof TaskInput>;
export type EndpointInput = z.output<typeof EndpointInput>;

export const RenameInput = z.object({ name: TaskName, version: z.number().int().positive().optional() }).strict();

/** An object in a PATCH body: the fields to change of the stored one (JSON merge patch, RFC 7396). */
const MergePatch = (what: string, description: string) =>
  z.record(z.string(), z.unknown(), { error: `${what} must be an object of the fields to change` }).describe(description);

/**
 * PATCH /v1/tasks/{id}: a JSON merge patch (RFC 7396) of the task definition. Fields given replace
 * the stored ones, objects (`source`, `target`, `filter`) merge field by field, `null` removes a
 * field (so `"tpsLimit": null` lifts the limit); an omitted `secretKey` (or `accessKey`, Cloud API
 * key) keeps the stored one. The merged definition is checked with TaskInput's rules. `direction`,
 * `startOffset`, `idempotentResume` and each side's `clusterType`/`clusterId` (and a Tencent side's
 * `region`) cannot change: they may be sent with their current value only (FIELD_IMMUTABLE otherwise).
 */
export const TaskPatchInput = z
  .object({
    version: z
      .number({ error: 'version must be a number' })
      .int('version must be a whole number')
      .positive('version must be positive')
      .optional()
      .describe('the version this edit is based on: CONFLICT when the task has changed since'),
    name: TaskName.optional(),
    source: MergePatch('source', 'endpoint fields to change; an omitted secret keeps the stored one').optional(),
    target: MergePatch('target', 'endpoint fields to change; an omitted secret keeps the stored one').optional(),
    filter: MergePatch('filter', 'filter fields to change (topics, expression)').optional(),
    tpsLimit: TpsLimit.optional(),
    shards: Shards.optional(),
    groups: MergePatch('groups', 'group patterns to change (include, exclude)').optional(),
    metadataSync: MergePatch(
      'metadataSync',
      'metadata sync options to change (kinds, propagateDeletes, topicsFollowFilter, copyRoleSecrets)',
    ).optional(),
    offsetSync: MergePatch('offsetSync', 'offset sync options to change (enabled, nothingLeftBehind)').optional(),
    direction: Direction.optional().describe('cannot change: accepted with the current value only'),
    startOffset: StartOffset.optional().describe('cannot change (use reset-offset): accepted with the current value only'),
    idempotentResume: IdempotentResume.optional().describe('cannot change: accepted with the current value only'),
  })
  .strict()
  .describe('A JSON merge patch (RFC 7396) of the task definition: the merged definition is checked like TaskInput');
export type TaskPatchInput = z.output<typeof TaskPatchInput>;

export const ResetOffsetInput = z
  .object({ timestamp: z.number({ error: 'timestamp must be milliseconds since the epoch' }).int().positive() })
  .strict();
