import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameDecoder, decodeFrame, encodeCommand, parseLenientJson } from '../../shared/rocketmq/remoting/codec.ts';
import { signRequest } from '../../shared/rocketmq/remoting/acl.ts';
import { createHmac } from 'node:crypto';

describe('remoting codec', () => {
  it('round-trips a command through encode, stream splitting and decode', () => {
    const body = Buffer.from('héllo body', 'utf8');
    const frame = encodeCommand({ code: 105, opaque: 42, flag: 0, extFields: { topic: 'T1', n: '3' }, body });
    assert.equal(frame.readInt32BE(0), frame.length - 4, 'length excludes itself');
    // Split at every possible point, including inside the length field.
    for (let cut = 1; cut < frame.length; cut++) {
      const dec = new FrameDecoder();
      const frames = [...dec.push(frame.subarray(0, cut)), ...dec.push(frame.subarray(cut))];
      assert.equal(frames.length, 1);
      const cmd = decodeFrame(frames[0]!);
      assert.equal(cmd.code, 105);
      assert.equal(cmd.opaque, 42);
      assert.deepEqual(cmd.extFields, { topic: 'T1', n: '3' });
      assert.deepEqual(cmd.body, body);
    }
  });

  it('yields several frames from one chunk', () => {
    const a = encodeCommand({ code: 1, opaque: 1, flag: 1 });
    const b = encodeCommand({ code: 2, opaque: 2, flag: 1, body: Buffer.alloc(10, 7) });
    const frames = new FrameDecoder().push(Buffer.concat([a, b]));
    assert.deepEqual(
      frames.map((f) => decodeFrame(f).opaque),
      [1, 2],
    );
  });

  it('rejects an absurd frame length instead of buffering forever', () => {
    const bad = Buffer.alloc(8);
    bad.writeInt32BE(0x7fffffff, 0);
    assert.throws(() => new FrameDecoder().push(bad), /invalid remoting frame length/);
  });

  it('decodes the binary ROCKETMQ header type', () => {
    const ext: [string, string][] = [
      ['topic', 'TopicA'],
      ['queueId', '3'],
    ];
    const parts: Buffer[] = [];
    const head = Buffer.alloc(13);
    head.writeInt16BE(17, 0); // code
    head.writeUInt8(0, 2); // JAVA
    head.writeInt16BE(584, 3);
    head.writeInt32BE(99, 5);
    head.writeInt32BE(1, 9);
    parts.push(head);
    const remark = Buffer.from('ok');
    const rl = Buffer.alloc(4);
    rl.writeInt32BE(remark.length);
    parts.push(rl, remark);
    const extBytes = Buffer.concat(
      ext.flatMap(([k, v]) => {
        const kb = Buffer.from(k),
          vb = Buffer.from(v);
        const kl = Buffer.alloc(2);
        kl.writeInt16BE(kb.length);
        const vl = Buffer.alloc(4);
        vl.writeInt32BE(vb.length);
        return [kl, kb, vl, vb];
      }),
    );
    const el = Buffer.alloc(4);
    el.writeInt32BE(extBytes.length);
    parts.push(el, extBytes);
    const header = Buffer.concat(parts);
    const frame = Buffer.alloc(4 + header.length);
    frame.writeInt32BE((1 << 24) | header.length, 0);
    header.copy(frame, 4);
    const cmd = decodeFrame(frame);
    assert.equal(cmd.code, 17);
    assert.equal(cmd.opaque, 99);
    assert.equal(cmd.flag, 1);
    assert.equal(cmd.remark, 'ok');
    assert.deepEqual(cmd.extFields, { topic: 'TopicA', queueId: '3' });
  });
});

describe('lenient JSON (namesrv fastjson output)', () => {
  it('accepts bare integer keys outside strings and leaves strings alone', () => {
    const text = '{"brokerAddrTable":{"b0":{"brokerAddrs":{0:"127.0.0.1:10911",1:"127.0.0.1:10921"},"note":"{0:x}, 3:y"}},"list":[1, 2]}';
    assert.deepEqual(parseLenientJson(text), {
      brokerAddrTable: { b0: { brokerAddrs: { '0': '127.0.0.1:10911', '1': '127.0.0.1:10921' }, note: '{0:x}, 3:y' } },
      list: [1, 2],
    });
  });
});

describe('ACL request signing', () => {
  it('signs the values of all fields sorted by key, then the body, with HMAC-SHA1', () => {
    const body = Buffer.from('payload');
    const signed = signRequest({ topic: 'T', a: '1' }, body, { accessKey: 'AK', secretKey: 'SK' });
    // Sorted keys: AccessKey, a, topic → values "AK", "1", "T".
    const expected = createHmac('sha1', 'SK').update('AK1T').update(body).digest('base64');
    assert.equal(signed.Signature, expected);
    assert.equal(signed.AccessKey, 'AK');
    assert.equal(signed.topic, 'T');
  });
});
