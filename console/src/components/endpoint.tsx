// A task side in one line (cluster and address) and in full (the configuration section).
import type { EndpointView as Endpoint } from '../../../shared/api/contract.ts';

export const endpointLabel = (e: Endpoint): string => (e.clusterType === 'tencent' ? `${e.clusterId} (${e.region})` : e.clusterId);
export const endpointAddress = (e: Endpoint): string => (e.clusterType === 'tencent' ? 'Tencent Cloud' : e.nameServer);

export function EndpointDetails({ e }: { e: Endpoint }) {
  const rows: [string, string][] = [
    ['Cluster type', e.clusterType === 'tencent' ? 'Tencent Cloud' : 'Self-built'],
    ['Cluster ID', e.clusterId],
    ['Protocol', e.protocol],
  ];
  if (e.clusterType === 'tencent') rows.push(['Region', e.region]);
  else {
    rows.push(['Name server', e.nameServer], ['Network', e.networkType]);
    if (e.vpc) rows.push(['VPC', `${e.vpc.region} / ${e.vpc.vpcId} / ${e.vpc.subnetId}`]);
    if (e.resourceType) rows.push(['Resource type', e.resourceType]);
    if (e.dedicatedLine) rows.push(['Dedicated line', `${e.dedicatedLine.type} ${e.dedicatedLine.id}`]);
  }
  // Tencent endpoints may carry their own Cloud API keys, masked by the API like the ACL keys.
  const cloudApi = (e as { cloudApi?: { secretId?: string } }).cloudApi;
  if (cloudApi) rows.push(['Cloud API keys', `SecretId ${cloudApi.secretId ?? ''}, SecretKey set`]);
  // The API returns the access key masked and never the secret: show exactly that.
  rows.push([
    'ACL',
    e.acl?.enabled ? `enabled, access key ${e.acl.accessKey ?? ''}${e.acl.secretKeySet ? ', secret key set' : ''}` : 'disabled',
  ]);
  return (
    <dl class="kv">
      {rows.map(([k, v]) => (
        <>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </>
      ))}
    </dl>
  );
}
