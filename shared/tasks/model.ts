// How a task is stored (secrets sealed) and shown (secrets masked), and the state guards.
import type { SecretCipher } from '../secrets/cipher.ts';
import type { TaskRow, TaskStatus } from '../store/store.ts';
import type { EndpointInput, TaskInput } from './schema.ts';

export interface StoredAcl {
  enabled: boolean;
  accessKeySealed?: string;
  secretKeySealed?: string;
  accessKeyMasked?: string;
}

// Omit that keeps the union's variants apart (plain Omit collapses them to the common keys).
type OmitEach<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Tencent endpoints' Cloud API keys, sealed like the ACL keys. */
export interface StoredCloudApi {
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
  /** Set by reset-offset while stopped; the reconciler rewrites checkpoints before the next start. */
  pendingReset?: { timestamp: number; requestedAt: string };
  /** Bumped by each applied reset: idempotent resume ignores replicas of earlier generations. */
  replayGeneration?: number;
}

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
  status: TaskStatus;
  statusReason: string | null;
  desiredState: TaskRow['desiredState'];
  pendingReset: TaskSpec['pendingReset'] | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export function maskAccessKey(ak: string): string {
  return `${ak.slice(0, Math.min(4, Math.floor(ak.length / 2)))}****`;
}

export function sealEndpoint(e: EndpointInput, cipher: SecretCipher): StoredEndpoint {
  const { acl, ...withCloudApi } = e;
  const { cloudApi, ...rest } = withCloudApi as typeof withCloudApi & { cloudApi?: { secretId: string; secretKey: string } };
  const out: StoredEndpoint = rest;
  if (cloudApi) {
    out.cloudApi = { secretIdSealed: cipher.encrypt(cloudApi.secretId), secretKeySealed: cipher.encrypt(cloudApi.secretKey), secretIdMasked: maskAccessKey(cloudApi.secretId) };
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

/** Credentials in the clear, for the functions that connect to clusters. Never returned by the API. */
export function endpointCredentials(e: StoredEndpoint, cipher: SecretCipher): { accessKey: string; secretKey: string } | undefined {
  if (!e.acl?.enabled || !e.acl.accessKeySealed || !e.acl.secretKeySealed) return undefined;
  return { accessKey: cipher.decrypt(e.acl.accessKeySealed), secretKey: cipher.decrypt(e.acl.secretKeySealed) };
}

/** A Tencent endpoint's Cloud API keys in the clear, when the task has its own. Never returned by the API. */
export function endpointCloudApiKeys(e: StoredEndpoint, cipher: SecretCipher): { secretId: string; secretKey: string } | undefined {
  if (!e.cloudApi) return undefined;
  return { secretId: cipher.decrypt(e.cloudApi.secretIdSealed), secretKey: cipher.decrypt(e.cloudApi.secretKeySealed) };
}

function viewEndpoint(e: StoredEndpoint): EndpointView {
  const { acl, cloudApi, ...withoutKeys } = e;
  const rest: EndpointView = cloudApi ? { ...withoutKeys, cloudApi: { secretId: cloudApi.secretIdMasked, secretKeySet: true } } : withoutKeys;
  if (!acl) return rest;
  return acl.enabled ? { ...rest, acl: { enabled: true, accessKey: acl.accessKeyMasked, secretKeySet: true } } : { ...rest, acl: { enabled: false } };
}

export function toView(row: TaskRow): TaskView {
  const spec = row.spec as TaskSpec;
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
    idempotentResume: spec.idempotentResume,
    status: row.status,
    statusReason: row.statusReason,
    desiredState: row.desiredState,
    pendingReset: spec.pendingReset ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    version: row.version,
  };
}

/** "Running" in the spec's sense: started and not failed — editing, deleting and resetting are refused. */
export const isActive = (row: Pick<TaskRow, 'status'>): boolean => row.status === 'initializing' || row.status === 'running';
