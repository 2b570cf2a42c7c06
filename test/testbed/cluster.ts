// A real RocketMQ cluster on loopback, made of plain JVMs from Maven Central jars.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rocketmqClasspath } from './classpath.ts';
import type { BrokerInfo, ClusterInfo } from './cluster-info.ts';
import { brokerConf, proxyJson, writeNamesrvConf, writeRocketmqHome, type AdminCredentials } from './config-files.ts';
import { JavaProcess, type JavaProcessSpec } from './java-process.ts';
import { freePortBlock } from './ports.ts';
import { waitUntilReady } from './readiness.ts';
import { isV5, resolveVersion } from './versions.ts';

export type { ClusterInfo } from './cluster-info.ts';

export interface ClusterOptions {
  /** Cluster name, also the brokerClusterName. */
  name?: string;
  version?: string;
  acl?: boolean;
  brokers?: 1 | 2;
  startTimeoutMs?: number;
}

const TESTBED_CREDENTIALS: AdminCredentials = { accessKey: 'ferryAdmin', secretKey: 'ferry-admin-secret' };

const HEAP = {
  namesrv: ['-Xms64m', '-Xmx128m', '-XX:MaxDirectMemorySize=64m', '-XX:+UseSerialGC'],
  broker: ['-Xms256m', '-Xmx256m', '-XX:MaxDirectMemorySize=256m'],
  proxy: ['-Xms384m', '-Xmx384m', '-XX:MaxDirectMemorySize=256m'],
};

let counter = 0;

export class RocketMQCluster {
  private readonly processes: JavaProcess[] = [];
  private readonly brokerProcesses: JavaProcess[] = [];
  private constructor(
    readonly info: ClusterInfo,
    readonly dir: string,
    readonly home: string,
    readonly classpath: string,
  ) {}

  static async start(opts: ClusterOptions = {}): Promise<RocketMQCluster> {
    const version = resolveVersion(opts.version ?? '5.3.3');
    const name = opts.name ?? `ferry-${process.pid}-${++counter}`;
    const brokerCount = opts.brokers ?? 1;
    const acl = opts.acl ? TESTBED_CREDENTIALS : undefined;
    const classpath = await rocketmqClasspath(version);
    const dir = mkdtempSync(join(tmpdir(), `ferry-rmq-${name}-`));
    const home = join(dir, 'home');
    writeRocketmqHome(home, version, acl);

    const base = await freePortBlock(3 + 4 * brokerCount);
    const nameServer = `127.0.0.1:${base}`;
    const brokers: BrokerInfo[] = [];
    for (let i = 0; i < brokerCount; i++) brokers.push({ name: `${name}-b${i}`, address: `127.0.0.1:${base + 5 + 4 * i}` });
    const info: ClusterInfo = { name, version, nameServer, brokers };
    if (isV5(version)) {
      info.proxyRemoting = `127.0.0.1:${base + 1}`;
      info.grpcEndpoint = `127.0.0.1:${base + 2}`;
    }
    if (acl) info.acl = acl;

    const cluster = new RocketMQCluster(info, dir, home, classpath);
    try {
      cluster.launch(base, acl);
      await waitUntilReady(info, opts.startTimeoutMs ?? 90_000, () => cluster.failedProcess());
    } catch (err) {
      const logs = cluster.processes.map((p) => `--- ${p.spec.name} ---\n${p.tail()}`).join('\n');
      await cluster.stop();
      throw new Error(`RocketMQ ${version} cluster ${name} did not start: ${(err as Error).message}\n${logs}`);
    }
    return cluster;
  }

  private launch(base: number, acl: AdminCredentials | undefined): void {
    const { version, name, nameServer } = this.info;
    const common = [`-Drocketmq.home.dir=${this.home}`, `-Duser.home=${this.dir}`];
    const env = { ROCKETMQ_HOME: this.home };
    const namesrvConf = join(this.dir, 'namesrv.properties');
    writeNamesrvConf(namesrvConf, base);
    this.add(
      new JavaProcess({
        name: 'namesrv',
        classpath: this.classpath,
        mainClass: 'org.apache.rocketmq.namesrv.NamesrvStartup',
        args: ['-c', namesrvConf],
        jvmArgs: [...HEAP.namesrv, ...common],
        cwd: this.dir,
        env,
        logFile: join(this.dir, 'namesrv.out'),
      }),
    );
    this.info.brokers.forEach((b, i) => {
      const confFile = join(this.dir, `${b.name}.conf`);
      const listenPort = base + 5 + 4 * i;
      writeFileSync(
        confFile,
        brokerConf({
          version,
          clusterName: name,
          brokerName: b.name,
          nameServer,
          listenPort,
          storeDir: join(this.dir, 'store', b.name),
          acl,
        }),
      );
      // On 5.x the first broker runs inside the proxy (local mode), so both remoting and gRPC are served.
      const inProxy = isV5(version) && i === 0;
      let spec: Pick<JavaProcessSpec, 'name' | 'mainClass' | 'args' | 'jvmArgs'>;
      if (inProxy) {
        const proxyFile = join(this.dir, 'rmq-proxy.json');
        writeFileSync(
          proxyFile,
          proxyJson({ clusterName: name, nameServer, grpcPort: base + 2, remotingPort: base + 1, brokerConfigPath: confFile, acl }),
        );
        spec = {
          name: `proxy+${b.name}`,
          mainClass: 'org.apache.rocketmq.proxy.ProxyStartup',
          args: ['-pm', 'local', '-pc', proxyFile],
          jvmArgs: [...HEAP.proxy, ...common],
        };
      } else {
        spec = {
          name: b.name,
          mainClass: 'org.apache.rocketmq.broker.BrokerStartup',
          args: ['-c', confFile],
          jvmArgs: [...HEAP.broker, ...common],
        };
      }
      const p = new JavaProcess({ ...spec, classpath: this.classpath, cwd: this.dir, env, logFile: join(this.dir, `${b.name}.out`) });
      this.add(p);
      this.brokerProcesses.push(p);
    });
  }

  private add(p: JavaProcess): void {
    this.processes.push(p);
    p.start();
  }

  private failedProcess(): string | undefined {
    const dead = this.processes.find((p) => !p.running);
    return dead ? `${dead.spec.name} exited` : undefined;
  }

  /** Resident memory of each JVM of the cluster, MiB. */
  memory(): { name: string; rssMb: number | undefined }[] {
    return this.processes.map((p) => ({ name: p.spec.name, rssMb: p.rssMb() }));
  }

  /** Process id of each JVM of the cluster (undefined once it has exited), e.g. to read its CPU time from /proc. */
  pids(): { name: string; pid: number | undefined }[] {
    return this.processes.map((p) => ({ name: p.spec.name, pid: p.running ? p.pid : undefined }));
  }

  /** Kills broker i abruptly (SIGKILL), as a crash would. */
  async killBroker(i = 0): Promise<void> {
    await this.brokerProcesses[i]?.kill();
  }

  /** Starts broker i again on the same ports and store, and waits until it is registered. */
  async restartBroker(i = 0, timeoutMs = 90_000): Promise<void> {
    const p = this.brokerProcesses[i];
    if (!p) throw new Error(`no broker ${i}`);
    p.start();
    await waitUntilReady(this.info, timeoutMs, () => this.failedProcess());
  }

  async stop(): Promise<void> {
    // Brokers first, so they unregister while the namesrv still listens.
    await Promise.all(this.brokerProcesses.map((p) => p.stop()));
    await Promise.all(this.processes.map((p) => p.stop()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
