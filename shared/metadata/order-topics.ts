// Ordered topics on self-built clusters. 4.x keeps a topic's order flag (`mqadmin updateTopic -o
// true`) in the name servers' ORDER_TOPIC_CONFIG table, not in the broker: a 4.9.7 broker ignores
// the flag of a create request, copies the table's at its next registration (every 30 s) and clears
// it on topics the table does not name. 5.x brokers keep the request's flag and take the table's
// too. So with every ordered topic it writes, metadata sync writes the table as mqadmin does, and
// takes a topic out of it once the topic is no longer ordered; the brokers' own topic configs,
// which sync reads, follow.
import type { RemotingAdmin } from '../rocketmq/remoting/admin.ts';
import type { TopicConfig } from '../rocketmq/remoting/admin-codec.ts';
import type { TopicItem } from './model.ts';

type Admin = Pick<RemotingAdmin, 'putOrderTopicConfig' | 'deleteOrderTopicConfig'>;

/** The masters a topic is written to, and each one's topic configs before the write. */
interface Written {
  masters: readonly { brokerName: string; address: string }[];
  topics: ReadonlyMap<string, ReadonlyMap<string, TopicConfig>>;
}

/** The table entry for a topic just written to every master. */
export async function writeOrderConfig(admin: Admin, state: Written, t: TopicItem): Promise<void> {
  if (t.order) await admin.putOrderTopicConfig(t.name, state.masters.map((m) => `${m.brokerName}:${t.writeQueueNums}`).join(';'));
  else if (state.masters.some((m) => state.topics.get(m.address)?.get(t.name)?.order)) await admin.deleteOrderTopicConfig(t.name);
}

/** writeOrderConfig for each topic of a many-item write that has no error yet; a failure fails its item. */
export async function writeOrderConfigs(
  admin: Admin,
  state: Written,
  topics: readonly { i: number; item: TopicItem }[],
  errors: readonly (Error | undefined)[],
  fail: (i: number, err: unknown) => void,
): Promise<void> {
  for (const { i, item } of topics) {
    if (errors[i]) continue;
    try {
      await writeOrderConfig(admin, state, item);
    } catch (err) {
      fail(i, err);
    }
  }
}
