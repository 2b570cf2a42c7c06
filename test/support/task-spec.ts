// Task rows for tests that need a task in the store without the HTTP API: the definition is
// validated and sealed exactly as TaskService.create does it.
import { randomUUID } from 'node:crypto';
import type { SecretCipher } from '../../shared/secrets/cipher.ts';
import type { Store, TaskRow } from '../../shared/store/store.ts';
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

export function taskSpec(body: { direction: 'one-way' | 'two-way'; source: Record<string, unknown>; target: Record<string, unknown> }, cipher: SecretCipher): TaskSpec {
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

export function insertTestTask(store: Store, spec: TaskSpec, state: Partial<Pick<TaskRow, 'desiredState' | 'status' | 'name'>> = {}): Promise<TaskRow> {
  return store.insertTask({
    id: `task-${randomUUID()}`,
    tenant: 'default',
    name: state.name ?? 'metadata-test',
    spec,
    desiredState: state.desiredState ?? 'running',
    status: state.status ?? 'running',
  });
}
