// One function invocation in its own process, as a platform runs it:
//   node --import tsx function-child.ts <replicator|reconciler|metadata-sync> '<event JSON>' <remaining ms>
// The handler's stdout is the function's log stream (what CloudWatch Logs would receive); its
// result goes to stderr as one JSON line.
import { closeFerryFromEnv } from '../../shared/runtime/root.ts';

const FUNCTIONS = ['replicator', 'reconciler', 'metadata-sync'] as const;
type FunctionName = (typeof FUNCTIONS)[number];

const [name, event = 'null', remaining = '60000'] = process.argv.slice(2);
if (!FUNCTIONS.includes(name as FunctionName)) throw new Error(`unknown function ${String(name)}: one of ${FUNCTIONS.join(', ')}`);
const mod = (await import(`../../functions/${name}/handler.ts`)) as { handler(event: unknown, context: unknown): Promise<unknown> };
const deadline = Date.now() + Number(remaining);
const result = await mod.handler(JSON.parse(event), { getRemainingTimeInMillis: () => deadline - Date.now() });
process.stderr.write(`${JSON.stringify({ result })}\n`);
await closeFerryFromEnv();
process.exit(0);
