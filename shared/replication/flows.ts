// A flow is one direction of a task: forward (source → target) and, for two-way tasks, reverse.
import type { StoredEndpoint, TaskSpec } from '../tasks/model.ts';

export type FlowId = 'forward' | 'reverse';

export interface Flow {
  id: FlowId;
  from: StoredEndpoint;
  to: StoredEndpoint;
}

export function flowsOf(spec: TaskSpec): Flow[] {
  const forward: Flow = { id: 'forward', from: spec.source, to: spec.target };
  return spec.direction === 'two-way' ? [forward, { id: 'reverse', from: spec.target, to: spec.source }] : [forward];
}
