// RocketMQ server versions the test bed can run, resolved from Maven Central.
// 4.9.8 shipped only client-side artifacts to Maven Central (no rocketmq-namesrv/-broker jars), so
// the 4.x line runs on 4.9.7, the newest 4.9 server published there.

export type ServerVersion = '4.9.7' | '5.3.3';

const SERVER_VERSIONS: readonly ServerVersion[] = ['4.9.7', '5.3.3'];

const ALIASES: Record<string, ServerVersion> = {
  '4': '4.9.7',
  '4.9': '4.9.7',
  '4.9.7': '4.9.7',
  '4.9.8': '4.9.7',
  '5': '5.3.3',
  '5.3': '5.3.3',
  '5.3.3': '5.3.3',
};

export function resolveVersion(requested: string): ServerVersion {
  const v = ALIASES[requested.trim()];
  if (!v) throw new Error(`unsupported RocketMQ version "${requested}" (supported: ${SERVER_VERSIONS.join(', ')}, 4.9.8 runs as 4.9.7)`);
  return v;
}

export const isV5 = (v: ServerVersion): boolean => v.startsWith('5.');
