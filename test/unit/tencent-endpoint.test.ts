// Resolving a Tencent cluster's access point through the fake Cloud API server (TC3-checked): which
// access point the endpoint's network picks, 4.x URLs as name server lists, the failures start
// checks report, and the cache.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { resolveTencentAccess } from '../../shared/clusters/connect.ts';
import { aesGcmCipher } from '../../shared/secrets/cipher.ts';
import { sealEndpoint, type StoredEndpoint } from '../../shared/tasks/model.ts';
import { EndpointInput } from '../../shared/tasks/schema.ts';
import { nameServerList, TencentAccessError } from '../../shared/tencent-cloud/access-point.ts';
import { TencentCloudApiError } from '../../shared/tencent-cloud/cloud-api.ts';
import { FakeTencentCloudApi } from '../support/fake-tencent-cloud-api.ts';

const SECRET_ID = 'AKIDferryresolve';
const SECRET_KEY = 'ferry-resolve-secret';
const REGION = 'ap-beijing';
const cipher = aesGcmCipher(randomBytes(32));
const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

type Tencent = Extract<StoredEndpoint, { clusterType: 'tencent' }>;
const endpoint = (clusterId: string, extra: Record<string, unknown> = {}): Tencent =>
  sealEndpoint(
    EndpointInput.parse({
      clusterType: 'tencent',
      region: REGION,
      clusterId,
      cloudApi: { secretId: SECRET_ID, secretKey: SECRET_KEY },
      ...extra,
    }),
    cipher,
  ) as Tencent;

describe('Tencent access point resolution (fake Cloud API server)', () => {
  const fake = new FakeTencentCloudApi({ [SECRET_ID]: SECRET_KEY });
  const v4 = fake.addTdmqCluster(`rocketmq-${stamp}`, REGION);
  const v5 = fake.addTrocketCluster(`rmq-${stamp}`, REGION);
  let apiEndpoint: string;

  before(async () => {
    v4.endpoints.public = `http://${v4.id}.rocketmq.ap-bj.public.tencenttdmq.com:8080`;
    v4.endpoints.vpc = `http://${v4.id}.rocketmq.ap-bj.tencenttdmq.com:5098`;
    v5.endpoints.vpc = `${v5.id}.rocketmq.ap-bj.qcloud.tencenttdmq.com:8080`;
    apiEndpoint = await fake.start();
  });
  after(() => fake.stop());

  it('4.x: the network picks PublicEndPoint or VpcEndPoint (VPC by default), URLs become host:port', async () => {
    const pub = await resolveTencentAccess(endpoint(v4.id, { networkType: 'public' }), cipher, { apiEndpoint });
    assert.equal(pub.nameServer, `${v4.id}.rocketmq.ap-bj.public.tencenttdmq.com:8080`);
    const vpc = await resolveTencentAccess(endpoint(v4.id), cipher, { apiEndpoint });
    assert.equal(vpc.nameServer, `${v4.id}.rocketmq.ap-bj.tencenttdmq.com:5098`);
    assert.equal(vpc.network, 'vpc');
    const calls = fake.calls.filter((c) => c.action === 'DescribeRocketMQCluster');
    assert.ok(calls.every((c) => c.version === '2020-02-17' && c.region === REGION && c.body.ClusterId === v4.id));
  });

  it("5.x: DescribeInstance's EndpointList; a resolution is cached", async () => {
    const before = fake.actions().filter((a) => a === 'DescribeInstance').length;
    const e = endpoint(v5.id, { networkType: 'vpc' });
    const first = await resolveTencentAccess(e, cipher, { apiEndpoint });
    const second = await resolveTencentAccess(e, cipher, { apiEndpoint });
    assert.equal(first.nameServer, `${v5.id}.rocketmq.ap-bj.qcloud.tencenttdmq.com:8080`);
    assert.deepEqual(second, first);
    assert.equal(fake.actions().filter((a) => a === 'DescribeInstance').length, before + 1);
  });

  it('no public access point, an unknown cluster and refused keys are told apart', async () => {
    await assert.rejects(
      resolveTencentAccess(endpoint(v5.id, { networkType: 'public' }), cipher, { apiEndpoint }),
      (err: unknown) => err instanceof TencentAccessError && /no open public access point/.test(err.message),
    );
    await assert.rejects(
      resolveTencentAccess(endpoint(`rmq-none${stamp}`), cipher, { apiEndpoint }),
      (err: unknown) => err instanceof TencentCloudApiError && err.failure === 'gone',
    );
    const badKeys = endpoint(`rocketmq-other${stamp}`, { cloudApi: { secretId: SECRET_ID, secretKey: 'wrong' } });
    await assert.rejects(
      resolveTencentAccess(badKeys, cipher, { apiEndpoint }),
      (err: unknown) => err instanceof TencentCloudApiError && err.failure === 'auth' && !err.message.includes('wrong'),
    );
    await assert.rejects(resolveTencentAccess(endpoint(`cluster-${stamp}`), cipher, { apiEndpoint }), TencentAccessError);
  });

  it('name server lists: URLs, several addresses, and what is not host:port', () => {
    assert.equal(nameServerList('http://a.example:8080;b.example:9876', 'c'), 'a.example:8080;b.example:9876');
    assert.equal(nameServerList('a.example:8080, b.example:8080/', 'c'), 'a.example:8080;b.example:8080');
    assert.throws(() => nameServerList('http://a.example', 'c'), TencentAccessError);
  });
});
