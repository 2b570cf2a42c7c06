// Task rows for tests that need a task in the store without the HTTP API: the definition is
// validated and sealed exactly as TaskService.create does it.
import { randomUUID } from 'node:crypto';
import type { SecretCipher } from '../../shared/secrets/cipher.ts';
import type { TaskRow, TaskStore } from '../../shared/store/store.ts';
import { sealEndpoint, type TaskSpec } from '../../shared/tasks/model.ts';
import { TaskInput } from '../../shared/tasks/schema.ts';

export interface TestEndpoint {
  clusterId: string;
  nameServer: string;
  acl?: { accessKey: string; secretKey: string };
}

export function selfBuilt(e: TestEndpoint): Record<string, unknown> {
  return {
    clusterType: 'self-built',
    clusterId: e.clusterId,
    nameServer: e.nameServer,
    networkType: 'public',
    acl: e.acl ? { enabled: true, ...e.acl } : { enabled: false },
  };
}

export function taskSpec(
  body: { direction: 'one-way' | 'two-way'; source: Record<string, unknown>; target: Record<string, unknown> },
  cipher: SecretCipher,
): TaskSpec {
  const input = TaskInput.parse({ name: 'test-task', ...body });
  return {
    direction: input.direction,
    source: sealEndpoint(input.source, cipher),
    target: sealEndpoint(input.target, cipher),
    startOffset: input.startOffset,
    filter: input.filter,
    tpsLimit: input.tpsLimit,
    idempotentResume: input.idempotentResume,
  };
}

/** A stored spec needing no cipher: two self-built clusters without ACL, defaults everywhere else. */
export function plainTaskSpec(overrides: Partial<TaskSpec> = {}): TaskSpec {
  const endpoint = (clusterId: string, nameServer: string): TaskSpec['source'] => ({
    clusterType: 'self-built',
    clusterId,
    protocol: 'remoting',
    nameServer,
    networkType: 'public',
    acl: { enabled: false },
  });
  return {
    direction: 'one-way',
    source: endpoint('cluster-a', '127.0.0.1:9876'),
    target: endpoint('cluster-b', '127.0.0.1:9877'),
    startOffset: { type: 'latest' },
    filter: { topics: { include: ['.*'], exclude: [] }, expression: { type: 'TAG', value: '*' } },
    tpsLimit: null,
    idempotentResume: true,
    ...overrides,
  };
}

export function insertTestTask(
  store: TaskStore,
  spec: TaskSpec,
  state: Partial<Pick<TaskRow, 'desiredState' | 'status' | 'name'>> = {},
): Promise<TaskRow> {
  const id = `task-${randomUUID()}`;
  return store.insertTask({
    id,
    tenant: 'default',
    // Names are unique per tenant.
    name: state.name ?? `metadata-test-${id.slice(5, 13)}`,
    spec,
    desiredState: state.desiredState ?? 'running',
    status: state.status ?? 'running',
  });
}
