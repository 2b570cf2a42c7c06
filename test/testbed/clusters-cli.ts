// `npm run clusters [-- --version 5.3.3|4.9.8] [--acl] [--brokers 2] [--check]`
// Starts clusters A and B, prints ONE JSON line of their addresses on stdout, and runs until
// Ctrl-C/SIGTERM. With --check: verifies both with Apache's admin tool, stops them, exits 0/1.
import { parseArgs } from 'node:util';
import { RocketMQCluster, type ClusterInfo } from './cluster.ts';
import { mqadmin } from './mqadmin.ts';

const { values } = parseArgs({
  options: {
    version: { type: 'string', default: '5.3.3' },
    acl: { type: 'boolean', default: false },
    brokers: { type: 'string', default: '1' },
    check: { type: 'boolean', default: false },
  },
});

const brokers = values.brokers === '2' ? 2 : 1;
const log = (msg: string) => process.stderr.write(`[clusters] ${msg}\n`);
if (values.version === '4.9.8') log('4.9.8 server jars are not on Maven Central; running 4.9.7, the newest 4.9 server there');

const clusters: RocketMQCluster[] = [];
let stopping: Promise<void> | undefined;
function stopAll(): Promise<void> {
  return (stopping ??= Promise.all(clusters.map((c) => c.stop())).then(() => {
    log('stopped');
  }));
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void stopAll().finally(() => process.exit(0)));

function summary(info: ClusterInfo): Record<string, unknown> {
  const { version, nameServer, brokers: b, proxyRemoting, grpcEndpoint, acl } = info;
  return {
    version,
    nameServer,
    ...(grpcEndpoint ? { grpcEndpoint, proxyRemoting } : {}),
    brokers: b.map((x) => x.address),
    ...(acl ? { acl } : {}),
  };
}

async function check(info: ClusterInfo): Promise<string | undefined> {
  const r = await mqadmin(info.version, ['clusterList', '-n', info.nameServer], { credentials: info.acl });
  const missing = info.brokers.filter((b) => !r.stdout.includes(b.address));
  return missing.length ? `${info.name}: clusterList lacks ${missing.map((b) => b.address).join(', ')}\n${r.stdout}${r.stderr}` : undefined;
}

try {
  const t0 = Date.now();
  const [a, b] = await Promise.all(
    ['A', 'B'].map(async (name) => {
      const c = await RocketMQCluster.start({ name: `ferry-${name}`, version: values.version, acl: values.acl, brokers });
      clusters.push(c);
      log(`${c.info.name} (${c.info.version}) ready after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      return c;
    }),
  );
  log(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  process.stdout.write(`${JSON.stringify({ A: summary(a!.info), B: summary(b!.info) })}\n`);
  for (const c of [a!, b!])
    log(
      `${c.info.name} JVM memory: ${c
        .memory()
        .map((m) => `${m.name} ${m.rssMb ?? '?'} MiB RSS`)
        .join(', ')}`,
    );
  if (values.check) {
    const problems = (await Promise.all([check(a!.info), check(b!.info)])).filter(Boolean);
    await stopAll();
    if (problems.length) {
      log(`check FAILED\n${problems.join('\n')}`);
      process.exit(1);
    }
    log('check passed: both clusters answer Apache mqadmin clusterList with their brokers');
    process.exit(0);
  }
  log('running; Ctrl-C or SIGTERM stops both clusters');
  setInterval(() => undefined, 1 << 30);
} catch (err) {
  log(`failed: ${(err as Error).message}`);
  await stopAll();
  process.exit(1);
}
