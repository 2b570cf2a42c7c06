// One replicator invocation in its own process: `node [--import tsx] replicator-process.ts '<job>'`.
// Started by the process invoker (FERRY_INVOKER=process) and by tests that kill replicators; its
// successor is started by that parent, asked over the IPC channel.
import { parentInvoker } from '../../shared/invoker/child-process.ts';
import { ReplicatorJobSchema } from '../../shared/invoker/invoker.ts';
import { ferryFromEnv } from '../../shared/runtime/root.ts';

const job = ReplicatorJobSchema.parse(JSON.parse(process.argv[2] ?? 'null'));
const ferry = await ferryFromEnv({ localInvoker: () => parentInvoker });
const shutdown = new AbortController();
process.once('SIGTERM', () => shutdown.abort());
process.once('SIGINT', () => shutdown.abort());
await ferry.replicate(job, { budgetMs: ferry.config.replicatorBudgetMs, signal: shutdown.signal });
await ferry.close();
process.exit(0);
