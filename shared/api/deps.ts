// The API's dependencies: the core ones plus the task service.
import { TaskService } from '../tasks/service.ts';
import type { CoreDeps } from '../runtime/deps.ts';
import type { ApiDeps } from './router.ts';

export function createApiDeps(core: CoreDeps): ApiDeps {
  const tasks = new TaskService(core.store, core.cipher, { requireManagedSide: core.config.requireManagedSide });
  return { store: core.store, storeKind: core.storeKind, tasks, log: core.log };
}
