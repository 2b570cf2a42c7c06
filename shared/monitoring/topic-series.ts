// Per-topic counters for /metrics, bounded: a task may replicate thousands of topics (a wildcard),
// and every topic is a series per counter in every scrape.

export interface TopicSeries<L> {
  labels: L;
  /** Label sets are compared by this key (task, flow). */
  key: string;
  topic: string;
  consumed: number;
  replicated: number;
  failed: number;
}

export const OTHER_TOPIC = '_other';

/**
 * At most `max` topic series, the rest summed per (task, flow) under topic="_other". Which topics
 * keep their own series is decided by key then topic name, not by traffic, so a topic does not
 * move in and out of "_other" from one scrape to the next (its counters would jump); only a new
 * topic sorting before it can push it out. A topic named "_other" itself is summed there too.
 */
export function boundTopicSeries<L>(series: readonly TopicSeries<L>[], max: number): TopicSeries<L>[] {
  const sorted = [...series].sort((a, b) => cmp(a.key, b.key) || cmp(a.topic, b.topic));
  const kept: TopicSeries<L>[] = [];
  const other = new Map<string, TopicSeries<L>>();
  for (const s of sorted) {
    if (kept.length < max && s.topic !== OTHER_TOPIC) {
      kept.push({ ...s });
      continue;
    }
    const o = other.get(s.key) ?? { ...s, topic: OTHER_TOPIC, consumed: 0, replicated: 0, failed: 0 };
    o.consumed += s.consumed;
    o.replicated += s.replicated;
    o.failed += s.failed;
    other.set(s.key, o);
  }
  return [...kept, ...other.values()];
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
