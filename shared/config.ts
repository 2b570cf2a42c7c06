// Runtime configuration, read once at start-up from the environment and validated.
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { CLOUD_DEFAULT_ALLOW, LOCAL_DEFAULT_ALLOW, parseRange } from './egress/policy.ts';

/** A setting the environment gets wrong: the message names the variable (never its value, which may be a secret). */
export class ConfigError extends Error {
  constructor(
    readonly variables: string[],
    message: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

const whole = (min: number, max?: number) =>
  z.coerce
    .number()
    .int()
    .min(min)
    .max(max ?? Number.MAX_SAFE_INTEGER)
    .meta({ expects: max === undefined ? `a whole number of at least ${min}` : `a whole number from ${min} to ${max}` });

const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values).meta({ expects: `one of ${values.join(', ')}` });

const FLAG = ['true', 'false', '1', '0'] as const;

/** 32 bytes as 64 hex characters or base64 (shared/secrets parses it the same way). */
const SecretKey = z
  .string()
  .refine((t) => /^[0-9a-fA-F]{64}$/.test(t.trim()) || Buffer.from(t.trim(), 'base64').length === 32)
  .meta({ expects: '32 bytes, as 64 hex characters or base64 (e.g. `openssl rand -base64 32`)' });

/** One FERRY_TENCENT_CLUSTERS entry: `tenant:id,id` (a tenant may hold ':'; `*` for every tenant or cluster). */
const TENCENT_CLUSTERS_ENTRY = /^\s*(\*|[A-Za-z0-9._:-]+)\s*:\s*(\*|[A-Za-z0-9._-]+)(\s*,\s*(\*|[A-Za-z0-9._-]+))*\s*$/;

const EnvSchema = z.object({
  PORT: whole(0, 65535).default(3000),
  FERRY_DATA_DIR: z.string().min(1).default('.ferry'),
  DATABASE_URL: z
    .string()
    .regex(/^(postgres|postgresql|socket):\/\/\S+$/)
    .optional()
    .meta({ expects: 'a PostgreSQL URL such as postgres://user@host:5432/db' }),
  // Getting a PostgreSQL connection, and each statement (0: no limit; a long migration may need it).
  FERRY_PG_CONNECT_TIMEOUT_MS: whole(100, 600_000).default(5000),
  FERRY_PG_STATEMENT_TIMEOUT_MS: whole(0, 3_600_000).default(30_000),
  LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  FERRY_SECRET_KEY: SecretKey.optional(),
  // Older keys, comma-separated: they still open what they sealed until `npm run reseal` (key rotation).
  FERRY_PREVIOUS_SECRET_KEYS: z
    .string()
    .refine((t) => t.split(',').every((k) => SecretKey.safeParse(k).success))
    .optional()
    .meta({ expects: 'a comma-separated list of 32-byte keys (64 hex characters or base64 each)' }),
  FERRY_API_TOKEN: z.string().min(16).optional().meta({ expects: 'at least 16 characters' }),
  FERRY_REQUIRE_MANAGED_SIDE: oneOf(FLAG).default('false'),
  FERRY_REPLICATOR_BUFFER_MB: whole(4, 4096).default(64),
  FERRY_REPLICATOR_BUDGET_MS: whole(5_000, 900_000).default(300_000),
  FERRY_LEASE_TTL_MS: whole(1000, 300_000).default(15_000),
  FERRY_RECONCILE_INTERVAL_MS: whole(200).default(3000),
  FERRY_HEALTH_UNREACHABLE_MS: whole(1000).default(30_000),
  FERRY_HEALTH_LAG_MS: whole(1000).default(120_000),
  FERRY_METADATA_SYNC_INTERVAL_MS: whole(200).default(10_000),
  FERRY_INVOKER: oneOf(['local', 'process', 'aws-lambda', 'tencent-scf']).default('local'),
  FERRY_REPLICATOR_FUNCTION: z.string().min(1).default('ferry-dev-replicator'),
  FERRY_INVOKER_REGION: z.string().min(1).optional(),
  FERRY_INVOKER_ENDPOINT: z.string().min(1).optional(),
  FERRY_TENCENT_API_ENDPOINT: z.string().min(1).optional(),
  // Clusters the deployment's Tencent Cloud keys may serve, per tenant (shared/tencent-cloud/cluster-policy.ts).
  FERRY_TENCENT_CLUSTERS: z
    .string()
    .refine((t) => t.split(';').every((e) => e.trim() === '' || TENCENT_CLUSTERS_ENTRY.test(e)))
    .optional()
    .meta({ expects: 'entries `tenant:clusterId,clusterId` separated by `;` (`*` for every tenant or cluster), e.g. a:rmq-1,rmq-2;b:*' }),
  FERRY_API_BASE_PATH: z.string().optional(),
  FERRY_EMF: oneOf(FLAG).optional(),
  FERRY_METRICS_PER_TOPIC: oneOf(FLAG).default('false'),
  FERRY_METRICS_TOPIC_SERIES_MAX: whole(1, 1_000_000).default(1000),
  FERRY_MAX_TASKS_PER_TENANT: whole(1).default(1000),
  FERRY_RATE_LIMIT_RPS: whole(1, 100_000).optional(),
  FERRY_EGRESS_ALLOW: z
    .string()
    .refine((t) => t.split(',').every((r) => parseRange(r) !== undefined))
    .optional()
    .meta({ expects: 'a comma-separated list of CIDR ranges or addresses, e.g. 10.0.0.0/8,fc00::/7' }),
  // Set by Lambda in every function: EMF lines are then on unless FERRY_EMF says otherwise.
  AWS_LAMBDA_FUNCTION_NAME: z.string().min(1).optional(),
  // Set by Tencent SCF inside a function.
  SCF_NAMESPACE: z.string().min(1).optional(),
});

/** What a variable must be, from its schema's `expects` (or zod's own words). */
function expectation(variable: string, fallback: string): string {
  const shape = EnvSchema.shape as Record<string, z.ZodType>;
  let s: z.ZodType | undefined = shape[variable];
  // Through .default()/.optional() to the schema that carries the description.
  while (s) {
    const meta = s.meta() as { expects?: string } | undefined;
    if (meta?.expects) return `must be ${meta.expects}`;
    const inner = (s as unknown as { def: { innerType?: z.ZodType } }).def.innerType;
    s = inner;
  }
  return fallback;
}

export interface FerryConfig {
  port: number;
  dataDir: string;
  databaseUrl: string | undefined;
  /** PostgreSQL pool and statement timeouts (FERRY_PG_CONNECT_TIMEOUT_MS, FERRY_PG_STATEMENT_TIMEOUT_MS). */
  postgres: { connectTimeoutMs: number; statementTimeoutMs: number };
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
  secretKey: string | undefined;
  /** Keys that open older envelopes only (FERRY_PREVIOUS_SECRET_KEYS). */
  previousSecretKeys: string[];
  apiToken: string | undefined;
  requireManagedSide: boolean;
  /** Message bytes one replicator invocation may hold across all its queues. */
  replicatorBufferBytes: number;
  /** Local runtime: how long one in-process replicator invocation runs before handing over. */
  replicatorBudgetMs: number;
  /** A crashed replicator's shard is taken over once its lease expires. */
  leaseTtlMs: number;
  reconcileIntervalMs: number;
  /** Health: a cluster failing its probe this long degrades a running task. */
  healthUnreachableMs: number;
  /** Health: a flow's lag growing with nothing replicated this long degrades a running task. */
  healthLagMs: number;
  metadataSyncIntervalMs: number;
  /** local: replicators in this process; process: a child process each (needs PostgreSQL); or a function platform. */
  invoker: 'local' | 'process' | 'aws-lambda' | 'tencent-scf';
  replicatorFunction: string;
  invokerRegion: string | undefined;
  /** Tests only: where the invoker's SDK sends its requests. */
  invokerEndpoint: string | undefined;
  /**
   * Where Tencent Cloud API calls for cluster metadata go instead of `<service>.tencentcloudapi.com`:
   * a host or URL, `{service}` standing for tdmq/trocket (e.g. `{service}.internal.tencentcloudapi.com`
   * inside a VPC); without the placeholder every service goes to that one address (tests' fake).
   */
  tencentApiEndpoint: string | undefined;
  /** A path prefix the HTTP edge keeps in front of the API's routes (an API Gateway stage, say). */
  apiBasePath: string | undefined;
  /** Write CloudWatch embedded-metric-format lines to stdout: on Lambda, or when FERRY_EMF is set. */
  emf: boolean;
  /** Running as an AWS Lambda function. */
  onLambda: boolean;
  /** Replicators also count by source topic, and /metrics shows it (ferry_topic_messages_*_total). */
  metricsPerTopic: boolean;
  /** Per-topic series one scrape shows at most: topics beyond it are summed under topic="_other". */
  metricsTopicSeriesMax: number;
  /**
   * The ranges (CIDR) Ferry may connect to clusters in: FERRY_EGRESS_ALLOW, else loopback and the
   * private ranges locally, the private ranges only in a cloud function. Link-local and metadata
   * addresses stay refused unless named (shared/egress/policy.ts).
   */
  egressAllow: readonly string[];
  /** Tasks one tenant may hold: a create beyond it is QUOTA_EXCEEDED. */
  maxTasksPerTenant: number;
  /** API requests per second per token (burst: twice that), in this API process's memory; unset = no limit. */
  rateLimitRps: number | undefined;
  /** The environment this configuration came from, for child processes (replicators) to inherit. */
  childEnv: Readonly<NodeJS.ProcessEnv>;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): FerryConfig {
  // An empty variable means "not set", as shells and CI templates often leave them.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    // Every variable that is wrong, in one line: fixing them one start at a time is tedious.
    const problems = new Map<string, string>();
    for (const issue of parsed.error.issues) {
      const variable = String(issue.path[0]);
      if (!problems.has(variable)) problems.set(variable, expectation(variable, issue.message));
    }
    const list = [...problems].map(([variable, problem]) => `${variable} ${problem}`);
    const noun = problems.size === 1 ? 'variable' : 'variables';
    throw new ConfigError([...problems.keys()], `invalid environment ${noun}: ${list.join('; ')}`);
  }
  const e = parsed.data;
  // In a cloud function the embedded store and a generated key would live and die with one instance:
  // tasks and sealed credentials would vanish silently. Refuse to start instead.
  if (e.AWS_LAMBDA_FUNCTION_NAME !== undefined || e.SCF_NAMESPACE !== undefined) {
    const missing = (['DATABASE_URL', 'FERRY_SECRET_KEY'] as const).filter((v) => e[v] === undefined);
    if (missing.length > 0) {
      const what = missing.join(' and ');
      throw new ConfigError(
        [...missing],
        `${what} must be set in a cloud function (the embedded store and a generated key do not persist)`,
      );
    }
  }
  // The embedded store lives in one process: replicators in other processes cannot share it.
  if (e.FERRY_INVOKER === 'process' && !e.DATABASE_URL)
    throw new ConfigError(['FERRY_INVOKER'], 'invalid environment variable: FERRY_INVOKER "process" needs DATABASE_URL (PostgreSQL)');
  return {
    port: e.PORT,
    dataDir: resolve(e.FERRY_DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    postgres: { connectTimeoutMs: e.FERRY_PG_CONNECT_TIMEOUT_MS, statementTimeoutMs: e.FERRY_PG_STATEMENT_TIMEOUT_MS },
    logLevel: e.LOG_LEVEL,
    secretKey: e.FERRY_SECRET_KEY,
    previousSecretKeys: (e.FERRY_PREVIOUS_SECRET_KEYS ?? '')
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean),
    apiToken: e.FERRY_API_TOKEN,
    requireManagedSide: e.FERRY_REQUIRE_MANAGED_SIDE === 'true' || e.FERRY_REQUIRE_MANAGED_SIDE === '1',
    replicatorBufferBytes: e.FERRY_REPLICATOR_BUFFER_MB * 1024 * 1024,
    replicatorBudgetMs: e.FERRY_REPLICATOR_BUDGET_MS,
    leaseTtlMs: e.FERRY_LEASE_TTL_MS,
    reconcileIntervalMs: e.FERRY_RECONCILE_INTERVAL_MS,
    healthUnreachableMs: e.FERRY_HEALTH_UNREACHABLE_MS,
    healthLagMs: e.FERRY_HEALTH_LAG_MS,
    metadataSyncIntervalMs: e.FERRY_METADATA_SYNC_INTERVAL_MS,
    invoker: e.FERRY_INVOKER,
    replicatorFunction: e.FERRY_REPLICATOR_FUNCTION,
    invokerRegion: e.FERRY_INVOKER_REGION,
    invokerEndpoint: e.FERRY_INVOKER_ENDPOINT,
    tencentApiEndpoint: e.FERRY_TENCENT_API_ENDPOINT,
    apiBasePath: e.FERRY_API_BASE_PATH,
    emf: e.FERRY_EMF === undefined ? e.AWS_LAMBDA_FUNCTION_NAME !== undefined : e.FERRY_EMF === 'true' || e.FERRY_EMF === '1',
    onLambda: e.AWS_LAMBDA_FUNCTION_NAME !== undefined,
    metricsPerTopic: e.FERRY_METRICS_PER_TOPIC === 'true' || e.FERRY_METRICS_PER_TOPIC === '1',
    metricsTopicSeriesMax: e.FERRY_METRICS_TOPIC_SERIES_MAX,
    maxTasksPerTenant: e.FERRY_MAX_TASKS_PER_TENANT,
    rateLimitRps: e.FERRY_RATE_LIMIT_RPS,
    egressAllow:
      e.FERRY_EGRESS_ALLOW?.split(',').map((r) => r.trim()) ??
      (e.AWS_LAMBDA_FUNCTION_NAME !== undefined || e.SCF_NAMESPACE !== undefined ? CLOUD_DEFAULT_ALLOW : LOCAL_DEFAULT_ALLOW),
    childEnv: { ...env },
  };
}

/**
 * The EMF library picks its sink from the environment when it loads: off Lambda it would probe EC2
 * instance metadata, then look for a CloudWatch agent on TCP. "Local" is its documented switch for
 * plain stdout. The one write to the environment, kept here with the reads.
 */
export function useLocalEmfSink(env: NodeJS.ProcessEnv = process.env): void {
  env.AWS_EMF_ENVIRONMENT ||= 'Local';
}

/** The Tencent Cloud deployment's own variables (SCF sets them inside a function). */
export interface TencentDeploymentEnv {
  TENCENTCLOUD_SECRETID?: string | undefined;
  TENCENTCLOUD_SECRETKEY?: string | undefined;
  TENCENTCLOUD_SESSIONTOKEN?: string | undefined;
  TENCENTCLOUD_REGION?: string | undefined;
  SCF_NAMESPACE?: string | undefined;
  /** Also a setting of FerryConfig; here for the callers that are handed only an endpoint (replicators). */
  FERRY_TENCENT_API_ENDPOINT?: string | undefined;
  /** The clusters the deployment's keys may serve, per tenant (tencent-cloud/cluster-policy.ts). */
  FERRY_TENCENT_CLUSTERS?: string | undefined;
}

/**
 * Read at each use, not once at start-up like the rest: inside SCF the execution role's temporary
 * keys are refreshed in the environment while an instance lives.
 */
export function tencentDeploymentEnv(env: NodeJS.ProcessEnv = process.env): TencentDeploymentEnv {
  const {
    TENCENTCLOUD_SECRETID,
    TENCENTCLOUD_SECRETKEY,
    TENCENTCLOUD_SESSIONTOKEN,
    TENCENTCLOUD_REGION,
    SCF_NAMESPACE,
    FERRY_TENCENT_API_ENDPOINT,
    FERRY_TENCENT_CLUSTERS,
  } = env;
  return {
    TENCENTCLOUD_SECRETID,
    TENCENTCLOUD_SECRETKEY,
    TENCENTCLOUD_SESSIONTOKEN,
    TENCENTCLOUD_REGION,
    SCF_NAMESPACE,
    FERRY_TENCENT_API_ENDPOINT,
    FERRY_TENCENT_CLUSTERS,
  };
}

/**
 * This process's runtime id: a replicator child gets its parent runtime's in FERRY_RUNTIME_ID; a
 * runtime's own is its host and pid. Lease owners start with it (replication/runtime-share.ts).
 */
export function runtimeId(env: NodeJS.ProcessEnv = process.env): string {
  return env.FERRY_RUNTIME_ID || `${hostname()}-${process.pid}`;
}
