// How a task is stored (secrets sealed) and shown (secrets masked), and the state guards.
import { DEFAULT_GROUPS, DEFAULT_METADATA_SYNC, DEFAULT_OFFSET_SYNC, type EndpointInput, type TaskInput } from './schema.ts';
import type { FailoverView } from './failover-schema.ts';
import { failoverView } from './failover.ts';
import { taskHealth, type TaskHealth } from './health.ts';
import type { DesiredState, OmitEach, StoredEndpoint, StoredTask, TaskSpec, TaskStatus } from './stored-task.ts';

// The stored form lives in stored-task.ts, whose schemas the store decodes rows with.
export type { StoredEndpoint, TaskSpec } from './stored-task.ts';

export type AclView = { enabled: boolean; accessKey?: string; secretKeySet?: boolean };
export type CloudApiView = { secretId: string; secretKeySet: true };
export type EndpointView = OmitEach<EndpointInput, 'acl' | 'cloudApi'> & { acl?: AclView; cloudApi?: CloudApiView };

export interface TaskView {
  id: string;
  tenant: string;
  name: string;
  direction: TaskSpec['direction'];
  source: EndpointView;
  target: EndpointView;
  startOffset: TaskSpec['startOffset'];
  filter: TaskSpec['filter'];
  tpsLimit: number | null;
  idempotentResume: boolean;
  shards: 'auto' | number;
  groups: TaskInput['groups'];
  metadataSync: TaskInput['metadataSync'];
  offsetSync: TaskInput['offsetSync'];
  status: TaskStatus;
  statusReason: string | null;
  health: TaskHealth;
  failover: FailoverView | null;
  desiredState: DesiredState;
  pendingReset: NonNullable<TaskSpec['pendingReset']> | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}

function maskAccessKey(ak: string): string {
  return `${ak.slice(0, Math.min(4, Math.floor(ak.length / 2)))}****`;
}

/** What sealing asks of a cipher (shared/secrets' SecretCipher is one). */
export interface Sealer {
  encrypt(plain: string): string;
}

export function sealEndpoint(e: EndpointInput, cipher: Sealer): StoredEndpoint {
  const { acl, ...withCloudApi } = e;
  const { cloudApi, ...rest } = withCloudApi as typeof withCloudApi & { cloudApi?: { secretId: string; secretKey: string } };
  const out: StoredEndpoint = rest;
  if (cloudApi) {
    out.cloudApi = {
      secretIdSealed: cipher.encrypt(cloudApi.secretId),
      secretKeySealed: cipher.encrypt(cloudApi.secretKey),
      secretIdMasked: maskAccessKey(cloudApi.secretId),
    };
  }
  if (!acl) return out;
  if (!acl.enabled || !acl.accessKey || !acl.secretKey) return { ...out, acl: { enabled: false } };
  return {
    ...out,
    acl: {
      enabled: true,
      accessKeySealed: cipher.encrypt(acl.accessKey),
      secretKeySealed: cipher.encrypt(acl.secretKey),
      accessKeyMasked: maskAccessKey(acl.accessKey),
    },
  };
}

function viewEndpoint(e: StoredEndpoint): EndpointView {
  const { acl, cloudApi, ...withoutKeys } = e;
  const rest: EndpointView = cloudApi
    ? { ...withoutKeys, cloudApi: { secretId: cloudApi.secretIdMasked, secretKeySet: true } }
    : withoutKeys;
  if (!acl) return rest;
  return acl.enabled
    ? { ...rest, acl: { enabled: true, accessKey: acl.accessKeyMasked, secretKeySet: true } }
    : { ...rest, acl: { enabled: false } };
}

export function toView(row: StoredTask): TaskView {
  const spec = row.spec;
  return {
    id: row.id,
    tenant: row.tenant,
    name: row.name,
    direction: spec.direction,
    source: viewEndpoint(spec.source),
    target: viewEndpoint(spec.target),
    startOffset: spec.startOffset,
    filter: spec.filter,
    tpsLimit: spec.tpsLimit,
    shards: spec.shards ?? 'auto',
    ...taskOptions(spec),
    idempotentResume: spec.idempotentResume,
    status: row.status,
    statusReason: row.statusReason,
    health: taskHealth(row),
    failover: failoverView(spec.failover),
    desiredState: row.desiredState,
    pendingReset: spec.pendingReset ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    version: row.version,
  };
}

/** The groups filter and the metadata / offset sync options, defaults filled in for tasks stored before them. */
export function taskOptions(
  spec: Pick<TaskSpec, 'groups' | 'metadataSync' | 'offsetSync'>,
): Pick<TaskInput, 'groups' | 'metadataSync' | 'offsetSync'> {
  return {
    groups: spec.groups ?? DEFAULT_GROUPS,
    // Fields added later (copyRoleSecrets) take their defaults on tasks stored before them.
    metadataSync: { ...DEFAULT_METADATA_SYNC, ...spec.metadataSync },
    // Fields added later (nothingLeftBehind) take their defaults on tasks stored before them.
    offsetSync: { ...DEFAULT_OFFSET_SYNC, ...spec.offsetSync },
  };
}

/** "Running" in the spec's sense: started and not failed — editing, deleting and resetting are refused. */
export const isActive = (row: Pick<StoredTask, 'status'>): boolean => row.status === 'initializing' || row.status === 'running';
