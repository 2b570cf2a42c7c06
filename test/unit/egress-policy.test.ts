// The egress policy (FERRY_EGRESS_ALLOW): CIDR lists, odd address forms normalised before the
// check, link-local and metadata addresses refused unless named, the default per deployment, the
// refusal of a task whose name server is a literal outside the policy, and connections refused
// before a byte is sent.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../shared/config.ts';
import { CLOUD_DEFAULT_ALLOW, EgressPolicy, LOCAL_DEFAULT_ALLOW, normalizeIp, parseRange } from '../../shared/egress/policy.ts';
import { EgressDeniedError, resolveAllowed } from '../../shared/egress/resolve.ts';
import { FerryError } from '../../shared/errors.ts';
import { RemotingClient } from '../../shared/rocketmq/remoting/client.ts';
import { RemotingConnectError } from '../../shared/rocketmq/remoting/errors.ts';
import { refuseDeniedAddresses } from '../../shared/tasks/egress-check.ts';

const local = new EgressPolicy(LOCAL_DEFAULT_ALLOW);
const cloud = new EgressPolicy(CLOUD_DEFAULT_ALLOW);

describe('egress policy', () => {
  it('parses CIDR ranges and single addresses, IPv4 in dotted form only', () => {
    assert.deepEqual(parseRange('10.0.0.0/8')?.map(String), ['10.0.0.0', '8']);
    assert.deepEqual(parseRange(' fc00::/7 ')?.map(String), ['fc00::', '7']);
    assert.deepEqual(parseRange('192.168.1.5')?.map(String), ['192.168.1.5', '32']);
    assert.deepEqual(parseRange('::1')?.map(String), ['::1', '128']);
    assert.deepEqual(parseRange('::ffff:10.0.0.0/104')?.map(String), ['10.0.0.0', '8']);
    for (const bad of ['10/8', '10.0.0.0/33', 'fc00::/129', '10.0.0.0/', '10.0.0.0/8/8', 'example.com', '', '2130706433', '1.2.3.4/x']) {
      assert.equal(parseRange(bad), undefined, bad);
    }
  });

  it('normalises decimal, hex, short, octal and IPv4-mapped forms of an address', () => {
    for (const form of ['2130706433', '0x7f000001', '127.1', '0177.0.0.1', '::ffff:127.0.0.1', '[::ffff:127.0.0.1]', '::ffff:7f00:1']) {
      assert.equal(normalizeIp(form), '127.0.0.1', form);
    }
    assert.equal(normalizeIp('[::1]'), '::1');
    assert.equal(normalizeIp('broker.example'), undefined);
    assert.equal(normalizeIp('1.2.3.4.5'), undefined);
  });

  it('local default: loopback and private ranges in every form; public, link-local and metadata refused', () => {
    for (const ok of [
      '127.0.0.1',
      '2130706433',
      '0x7f000001',
      '::ffff:127.0.0.1',
      '::1',
      '10.1.2.3',
      '172.31.0.1',
      '192.168.0.10',
      'fd12::1',
    ]) {
      assert.equal(local.allows(ok), true, ok);
    }
    for (const no of [
      '8.8.8.8',
      '172.32.0.1',
      '169.254.169.254',
      '169.254.1.1',
      'fe80::1',
      'fd00:ec2::254',
      '100.100.100.200',
      '0.0.0.0',
      '::',
    ]) {
      assert.equal(local.allows(no), false, no);
    }
    assert.equal(local.allows('broker.example'), false, 'only addresses are judged');
  });

  it('cloud default: private ranges only, loopback in any form refused', () => {
    assert.equal(cloud.allows('10.0.0.5'), true);
    for (const no of ['127.0.0.1', '2130706433', '0x7f000001', '::ffff:127.0.0.1', '::1', '169.254.169.254', 'fd00:ec2::254']) {
      assert.equal(cloud.allows(no), false, no);
    }
  });

  it('metadata and link-local addresses stay refused under a broad range and open only when named', () => {
    const everything = new EgressPolicy(['0.0.0.0/0', '::/0']);
    for (const no of ['169.254.169.254', '169.254.10.10', 'fe80::1', 'fd00:ec2::254', '100.100.100.200', '0.0.0.0', '::']) {
      assert.equal(everything.allows(no), false, no);
    }
    assert.equal(everything.allows('8.8.8.8'), true);
    const linkLocal = new EgressPolicy(['169.254.0.0/16']);
    assert.equal(linkLocal.allows('169.254.10.10'), true, 'link-local named');
    assert.equal(linkLocal.allows('169.254.169.254'), false, 'the metadata address is not named by the link-local range');
    assert.equal(new EgressPolicy(['169.254.169.254/32']).allows('169.254.169.254'), true);
    assert.equal(new EgressPolicy(['100.100.100.200']).allows('100.100.100.200'), true);
    assert.equal(new EgressPolicy(['fd00:ec2::254/128']).allows('fd00:ec2::254'), true);
  });

  it('FERRY_EGRESS_ALLOW replaces the default; the default depends on where Ferry runs', () => {
    assert.deepEqual(loadConfig({}).egressAllow, LOCAL_DEFAULT_ALLOW);
    // A cloud function must name its store and key (shared/config.ts refuses to start without them).
    const stored = { DATABASE_URL: 'postgres://db/ferry', FERRY_SECRET_KEY: Buffer.alloc(32, 1).toString('base64') };
    assert.deepEqual(loadConfig({ ...stored, AWS_LAMBDA_FUNCTION_NAME: 'ferry-api' }).egressAllow, CLOUD_DEFAULT_ALLOW);
    assert.deepEqual(loadConfig({ ...stored, SCF_NAMESPACE: 'default' }).egressAllow, CLOUD_DEFAULT_ALLOW);
    assert.deepEqual(loadConfig({ FERRY_EGRESS_ALLOW: '10.0.0.0/8, fd00::/8' }).egressAllow, ['10.0.0.0/8', 'fd00::/8']);
    assert.throws(
      () => loadConfig({ FERRY_EGRESS_ALLOW: '10.0.0.0/8,10/8' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message ===
          'invalid environment variable: FERRY_EGRESS_ALLOW must be a comma-separated list of CIDR ranges or addresses, ' +
            'e.g. 10.0.0.0/8,fc00::/7',
    );
  });

  it('a literal name server outside the policy is EGRESS_DENIED naming the field; hostnames wait for the connection', () => {
    const refusal = (nameServer: string, side: 'source' | 'target' = 'source') => {
      const sides = {
        source: { clusterType: 'self-built', nameServer: '10.0.0.1:9876' },
        target: { clusterType: 'self-built', nameServer: '10.0.0.2:9876' },
      };
      sides[side].nameServer = nameServer;
      try {
        refuseDeniedAddresses(sides, local);
      } catch (err) {
        assert.ok(err instanceof FerryError);
        return err;
      }
      return undefined;
    };
    const metadata = refusal('10.0.0.1:9876;169.254.169.254:80');
    assert.equal(metadata?.code, 'EGRESS_DENIED');
    assert.equal(metadata?.field, 'source.nameServer');
    assert.equal(metadata?.message, 'source.nameServer: 169.254.169.254 is not allowed by the egress policy');
    const mapped = refusal('[::ffff:169.254.169.254]:80', 'target');
    assert.equal(mapped?.field, 'target.nameServer');
    assert.equal(mapped?.message, 'target.nameServer: [::ffff:169.254.169.254] (169.254.169.254) is not allowed by the egress policy');
    assert.equal(refusal('namesrv.example:9876'), undefined);
    assert.equal(refusal('127.0.0.1:9876'), undefined);
    assert.doesNotThrow(() =>
      refuseDeniedAddresses({ source: { clusterType: 'tencent' }, target: { clusterType: 'self-built', nameServer: '10.0.0.2:1' } }, cloud),
    );
  });

  it('a name resolving outside the policy is refused with the address it resolved to', async () => {
    await assert.rejects(resolveAllowed('localhost', cloud), (err: unknown) => {
      assert.ok(err instanceof EgressDeniedError);
      assert.match(err.message, /^localhost resolves to (127\.0\.0\.1|::1), which is not allowed by the egress policy$/);
      return true;
    });
    assert.equal(await resolveAllowed('0x7f000001', local), '127.0.0.1');
  });

  it('the remoting client dials nothing the installed policy refuses', async () => {
    // A listener on loopback: under the process's policy (the local default) a connection to a
    // metadata address is refused before any socket opens, and the listener sees nothing.
    let accepted = 0;
    const server = createServer((s) => {
      accepted++;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const client = new RemotingClient({ connectTimeoutMs: 2000 });
    try {
      await assert.rejects(client.invoke('169.254.169.254:80', 105), (err: unknown) => {
        assert.ok(err instanceof RemotingConnectError);
        assert.ok(err.cause instanceof EgressDeniedError);
        assert.equal(err.message, 'cannot connect to 169.254.169.254:80: address 169.254.169.254 is not allowed by the egress policy');
        return true;
      });
      assert.equal(accepted, 0);
    } finally {
      client.close();
      server.close();
    }
  });

  it('bytes that are not remoting frames end the connection with a fixed sentence, no numbers from the peer', async () => {
    const server = createServer((s) => s.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    const client = new RemotingClient({ connectTimeoutMs: 2000 });
    try {
      await assert.rejects(client.invoke(`127.0.0.1:${port}`, 105, {}, undefined, { timeoutMs: 3000 }), (err: unknown) => {
        assert.equal((err as Error).message, `the peer at 127.0.0.1:${port} did not answer as a RocketMQ name server/broker`);
        return true;
      });
    } finally {
      client.close();
      server.close();
    }
  });
});
