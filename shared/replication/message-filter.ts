// A task's message filter (TAG or SQL92 expression) as a predicate; undefined when it takes
// everything. Not filter/index.ts: that brings the pattern analyser, which a replicator does not run.
import { evaluateSql92, parseSql92 } from '../filter/sql92.ts';
import { matchesTag, parseTagExpression } from '../filter/tag.ts';
import type { StoredMessage } from '../rocketmq/message.ts';
import type { TaskSpec } from '../tasks/model.ts';

export function messageFilter(spec: Pick<TaskSpec, 'filter'>): ((m: StoredMessage) => boolean) | undefined {
  const x = spec.filter.expression;
  if (x.type === 'SQL92') {
    const expr = parseSql92(x.value);
    return (m) => evaluateSql92(expr, m.properties);
  }
  if (x.value.trim() === '*' || x.value.trim() === '') return undefined;
  const expr = parseTagExpression(x.value);
  return (m) => matchesTag(expr, m.tags);
}
