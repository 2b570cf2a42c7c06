// A process that loads the gRPC client and then lets a promise reject unhandled:
//   node --import tsx grpc-guard-child.ts <client|ours>
// `client`: the rejection comes from inside rocketmq-client-nodejs (a send on a producer that never
// started) — absorbed, the process lives on and reports what it absorbed. `ours`: Ferry's own —
// Node's default stays, the process dies.
import { absorbed, loadGrpcLibrary } from '../../shared/rocketmq/grpc/library.ts';

const mode = process.argv[2];
const lib = await loadGrpcLibrary();
const quiet = { info() {}, warn() {}, error() {}, debug() {} };
if (mode === 'client') {
  const producer = new lib.Producer({ endpoints: '127.0.0.1:1', namespace: '', logger: quiet });
  void producer.send({ topic: 'never', body: Buffer.from('x') });
} else {
  void Promise.reject(new Error('a rejection of our own'));
}
await new Promise((r) => setTimeout(r, 300));
process.stdout.write(`${JSON.stringify({ alive: true, absorbed })}\n`);
// The client keeps a timer from construction on (idle connection cleanup): end explicitly.
process.exit(0);
