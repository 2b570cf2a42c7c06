// Configuration files for test-bed JVMs: small stores, loopback addresses, optional ACL.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerVersion } from './versions.ts';
import { isV5 } from './versions.ts';

export interface AdminCredentials {
  accessKey: string;
  secretKey: string;
}

export interface BrokerFileSpec {
  version: ServerVersion;
  clusterName: string;
  brokerName: string;
  nameServer: string;
  listenPort: number;
  storeDir: string;
  acl: AdminCredentials | undefined;
}

const LOGBACK = (file: string) => `<?xml version="1.0" encoding="UTF-8"?>
<configuration>
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <file>\${user.home}/logs/${file}</file>
    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level [%thread] %logger{0} - %msg%n</pattern></encoder>
  </appender>
  <root level="WARN"><appender-ref ref="FILE"/></root>
</configuration>
`;

/** A ROCKETMQ_HOME with the conf files each version expects (4.9 exits without its logback files). */
export function writeRocketmqHome(home: string, version: ServerVersion, acl: AdminCredentials | undefined): void {
  const conf = join(home, 'conf');
  mkdirSync(conf, { recursive: true });
  if (!isV5(version)) {
    for (const role of ['namesrv', 'broker', 'tools']) writeFileSync(join(conf, `logback_${role}.xml`), LOGBACK(`${role}.log`));
    if (acl) {
      // No global white list: loopback clients must sign like anyone else.
      writeFileSync(
        join(conf, 'plain_acl.yml'),
        [
          'globalWhiteRemoteAddresses: []',
          'accounts:',
          `  - accessKey: ${acl.accessKey}`,
          `    secretKey: ${acl.secretKey}`,
          '    whiteRemoteAddress:',
          '    admin: true',
          '',
        ].join('\n'),
      );
    }
  }
}

/** conf/tools.yml is where Apache's admin tool reads the credentials it signs with. */
export function writeToolsCredentials(home: string, creds: AdminCredentials | undefined): void {
  const file = join(home, 'conf', 'tools.yml');
  writeFileSync(file, creds ? `accessKey: ${creds.accessKey}\nsecretKey: ${creds.secretKey}\n` : '');
}

export function writeNamesrvConf(file: string, port: number): void {
  writeFileSync(file, `listenPort=${port}\n`);
}

export function brokerConf(spec: BrokerFileSpec): string {
  const lines = [
    `brokerClusterName=${spec.clusterName}`,
    `brokerName=${spec.brokerName}`,
    'brokerId=0',
    'brokerRole=ASYNC_MASTER',
    'flushDiskType=ASYNC_FLUSH',
    `namesrvAddr=${spec.nameServer}`,
    `listenPort=${spec.listenPort}`,
    'brokerIP1=127.0.0.1',
    `storePathRootDir=${spec.storeDir}`,
    `storePathCommitLog=${join(spec.storeDir, 'commitlog')}`,
    'mappedFileSizeCommitLog=67108864',
    'maxHashSlotNum=10000',
    'maxIndexNum=40000',
    // Production-like: topics exist only when created (metadata sync's job), not on first send.
    'autoCreateTopicEnable=false',
    'autoCreateSubscriptionGroup=true',
    'enablePropertyFilter=true',
    'fileReservedTime=1',
    'diskMaxUsedSpaceRatio=95',
  ];
  if (spec.acl && !isV5(spec.version)) lines.push('aclEnable=true');
  if (spec.acl && isV5(spec.version)) lines.push(...acl2Lines(spec.acl, 'local'));
  return `${lines.join('\n')}\n`;
}

function acl2Lines(acl: AdminCredentials, provider: 'local' | 'proxy'): string[] {
  const pkg = 'org.apache.rocketmq.auth';
  const authn =
    provider === 'local'
      ? `${pkg}.authentication.provider.LocalAuthenticationMetadataProvider`
      : 'org.apache.rocketmq.proxy.auth.ProxyAuthenticationMetadataProvider';
  const authz =
    provider === 'local'
      ? `${pkg}.authorization.provider.LocalAuthorizationMetadataProvider`
      : 'org.apache.rocketmq.proxy.auth.ProxyAuthorizationMetadataProvider';
  return [
    'authenticationEnabled=true',
    `authenticationProvider=${pkg}.authentication.provider.DefaultAuthenticationProvider`,
    `authenticationMetadataProvider=${authn}`,
    'authorizationEnabled=true',
    `authorizationProvider=${pkg}.authorization.provider.DefaultAuthorizationProvider`,
    `authorizationMetadataProvider=${authz}`,
    `initAuthenticationUser=${JSON.stringify({ username: acl.accessKey, password: acl.secretKey })}`,
    `innerClientAuthenticationCredentials=${JSON.stringify({ accessKey: acl.accessKey, secretKey: acl.secretKey })}`,
  ];
}

export interface ProxyFileSpec {
  clusterName: string;
  nameServer: string;
  grpcPort: number;
  remotingPort: number;
  brokerConfigPath: string;
  acl: AdminCredentials | undefined;
}

/** rmq-proxy.json for local mode: the broker runs inside the proxy JVM and serves its metadata. */
export function proxyJson(spec: ProxyFileSpec): string {
  const json: Record<string, unknown> = {
    rocketMQClusterName: spec.clusterName,
    namesrvAddr: spec.nameServer,
    proxyMode: 'local',
    grpcServerPort: spec.grpcPort,
    remotingListenPort: spec.remotingPort,
    brokerConfigPath: spec.brokerConfigPath,
  };
  if (spec.acl) {
    for (const line of acl2Lines(spec.acl, 'proxy')) {
      const i = line.indexOf('=');
      const value = line.slice(i + 1);
      json[line.slice(0, i)] = value === 'true' ? true : value;
    }
  }
  return JSON.stringify(json, null, 2);
}
