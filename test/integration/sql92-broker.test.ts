// Our SQL92 filter against a real 5.3.3 broker's: for each expression, the messages the broker
// hands out on a filtered pull must be exactly those evaluateSql92 selects from the same stored
// properties, and what we refuse the broker must refuse too (except the documented leniencies).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { ClusterInfo } from '../testbed/cluster.ts';
import { mqadmin } from '../testbed/mqadmin.ts';
import { evaluateSql92, parseSql92, sql92NeedsRocketMQ5, validateSql92 } from '../../shared/filter/index.ts';
import type { OutgoingMessage, StoredMessage } from '../../shared/rocketmq/message.ts';
import { BrokerClient } from '../../shared/rocketmq/remoting/broker.ts';
import { RemotingClient } from '../../shared/rocketmq/remoting/client.ts';
import { ResponseCode } from '../../shared/rocketmq/remoting/errors.ts';
import { NameServerClient, masterAddress } from '../../shared/rocketmq/remoting/namesrv.ts';
import { testCluster } from '../support/testbed.ts';

// Varied on purpose: numbers in every Java spelling, text that is no number, blanks, a non-ASCII
// digit, booleans, and properties that are missing.
const PROPERTY_SETS: Record<string, string>[] = [
  { a: '1' },
  { a: '1.0' },
  { a: '5', b: 'x' },
  { a: 'abc', b: 'x' },
  { a: ' 5' },
  { a: '3000000000' },
  { a: '-4' },
  { a: '\u0663' },
  { a: 'true' },
  { a: 'TRUE', s: 'hello world' },
  { s: 'hello' },
  { s: 'world', region: 'eu' },
  { region: 'us', n: '10' },
  { region: 'eu', n: '2.5' },
  { n: '1e3' },
  { n: 'NaN' },
  { n: '0x10' },
  { n: '1.5f' },
  { a: '2', n: '7' },
  {},
  { a: '0', n: '-0' },
  { q: "it's" },
  { a: '+7' },
  { a: '2147483648', n: ' 12 ' },
  { b: 'y', s: 'x' },
  { n: '0x1p4', a: '1L' },
];

const EXPRESSIONS = [
  'a = 1',
  'a = 1.0',
  'a > 2',
  'a >= 1 AND a <= 5',
  'a BETWEEN 1 AND 5',
  'a NOT BETWEEN 1 AND 5',
  'a BETWEEN -5 AND 3',
  'a <> 1',
  'a IS NULL',
  'a IS NOT NULL',
  "NOT a = 'x'",
  "NOT (a = '1')",
  "'1' <> a",
  "a <> '1'",
  "a IN ('1', 'abc', 'true')",
  "a NOT IN ('1')",
  "b = 'x' OR a > 2",
  "a > 2 OR b = 'x'",
  "b = 'x' AND a > 2",
  'a = 3000000000',
  'a = 5',
  'a = 5.0',
  'a = 3',
  'a = TRUE',
  'a = FALSE',
  'a',
  'TRUE',
  'NULL',
  'NOT NULL',
  "s CONTAINS 'o'",
  "s NOT CONTAINS 'o'",
  "s STARTSWITH 'hell'",
  "s NOT ENDSWITH 'd'",
  "NOT (s CONTAINS 'o')",
  "s CONTAINS ''",
  "region = 'eu' AND n > 2",
  'n > 5',
  'n >= 1000',
  'n = 1000',
  'n < 3',
  'n = 12',
  'n = 12.0',
  'n > a',
  'a > n',
  "TAGS = 'TagA'",
  "TAGS IN ('TagA', 'TagB') AND a IS NULL",
  "q = 'it''s'",
  'a = -4',
  '-a = 4',
  'a > -5',
  'a = 0',
  'n = 0',
  'a = 7',
  'a = 1 OR a = 1.0',
  '(a = 1) = TRUE',
  "(a = '1') = 'x'",
  'a IS NULL = TRUE',
  'a = 2147483648',
  'a BETWEEN 1 AND 2.5',
  'a = b',
  'UNIQ_KEY IS NOT NULL',
  'a = 1 -- a comment',
  "a = 1 /* or */ OR b = 'y'",
  'not A = 1 or a = 1',
  'a > 2 OR TRUE',
  'n > 1.0',
  'n = 16.0',
  'n = 1.5',
  "n <> 'NaN'",
  'a = 1L',
  'A = 1',
  'a BETWEEN 2147483647 AND 3000000000',
  'n > b',
];

// Refused by us and by the broker.
const BOTH_REFUSE = [
  'a = NULL',
  "a > 'x'",
  'a BETWEEN 5 AND 3',
  'a IN (1)',
  'a > 0.0',
  'TRUE = 1',
  'NOT a > 1',
  "'x' IN ('x')",
  '5',
  'a.b = 1',
  'a != 1',
  'a = 9223372036854775808',
  "a = 'open",
  'a =',
  '',
];

// Refused by us, taken by the broker: it ignores whatever follows a complete expression, and
// nests as deep as its stack allows. Each with what the broker actually filters on.
const ONLY_WE_REFUSE: [string, string][] = [
  ['a = 1 b = 2', 'a = 1'],
  ['a = 007', 'a = 0'],
  ['a = 1)', 'a = 1'],
  // `--` starts a comment only when a line break follows; otherwise it is two minus signs.
  ['a > --5', 'a > 5'],
  [`${'('.repeat(100)}a = 1${')'.repeat(100)}`, 'a = 1'],
];

// Random expressions over the same properties, most of them valid, many semantically refused.
function generatedExpressions(count: number): string[] {
  const prop = fc.constantFrom('a', 'b', 'n', 's', 'region', 'TAGS', 'missing');
  const str = fc.constantFrom("'x'", "'1'", "'eu'", "'TagA'", "'hello world'", "''", "'true'", "'o'");
  const num = fc.constantFrom('1', '5', '0', '2', '3000000000', '2147483648', '1.0', '2.5', '1e3', '.5', '7L');
  const { value, cond } = fc.letrec<{ value: string; cond: string }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      prop,
      num,
      str,
      fc.constantFrom('TRUE', 'FALSE', 'NULL'),
      // Not `--`: without a line break after it Java reads two minus signs, we a comment (refused, see below).
      tie('value').map((v) => (v.startsWith('-') ? `- ${v}` : `-${v}`)),
      tie('value').map((v) => `(${v})`),
    ),
    cond: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.tuple(tie('value'), fc.constantFrom('=', '<>', '>', '>=', '<', '<='), tie('value')).map(([l, op, r]) => `${l} ${op} ${r}`),
      fc.tuple(tie('value'), fc.boolean()).map(([v, not]) => `${v} IS ${not ? 'NOT ' : ''}NULL`),
      fc
        .tuple(prop, fc.boolean(), fc.array(str, { minLength: 1, maxLength: 3 }))
        .map(([p, not, xs]) => `${p} ${not ? 'NOT ' : ''}IN (${xs.join(', ')})`),
      fc
        .tuple(tie('value'), fc.boolean(), tie('value'), tie('value'))
        .map(([v, not, lo, hi]) => `${v} ${not ? 'NOT ' : ''}BETWEEN ${lo} AND ${hi}`),
      fc
        .tuple(tie('value'), fc.boolean(), fc.constantFrom('CONTAINS', 'STARTSWITH', 'ENDSWITH'), str)
        .map(([v, not, op, x]) => `${v} ${not ? 'NOT ' : ''}${op} ${x}`),
      tie('cond').map((c) => `NOT ${c}`),
      tie('cond').map((c) => `(${c})`),
      fc.tuple(tie('cond'), fc.constantFrom('AND', 'OR'), tie('cond')).map(([l, op, r]) => `${l} ${op} ${r}`),
      prop,
    ),
  }));
  void value;
  return fc.sample(cond, { numRuns: count, seed: 20250601 });
}

// CHECK_CLIENT_CONFIG: how Java consumers have a broker compile their SQL92 filter up front.
const CHECK_CLIENT_CONFIG = 46;

describe('SQL92 filter agrees with a 5.3.3 broker', () => {
  let c: ClusterInfo;
  let remoting: RemotingClient;
  let broker: BrokerClient;
  let addr: string;
  const topic = `sql92_${Date.now()}`;
  let stored: StoredMessage[] = [];
  let firstOffset = 0;
  let endOffset = 0;

  /** Queue offsets a filtered pull hands out; throws what the broker answered for a refused filter. */
  async function brokerSelection(expression: string): Promise<number[]> {
    const got: number[] = [];
    let offset = firstOffset;
    for (let rounds = 0; offset < endOffset && rounds < 50; rounds++) {
      const r = await broker.pull(addr, { topic, queueId: 0, offset, maxMessages: 32, expression: { type: 'SQL92', value: expression } });
      got.push(...r.messages.map((m) => m.queueOffset));
      if (r.nextBeginOffset <= offset) break;
      offset = r.nextBeginOffset;
    }
    return got;
  }

  before(async () => {
    c = await testCluster('v5');
    remoting = new RemotingClient({ credentials: c.acl });
    const ns = new NameServerClient(remoting, c.nameServer);
    broker = new BrokerClient(remoting);
    const made = await mqadmin(c.version, ['updateTopic', '-n', c.nameServer, '-c', c.name, '-t', topic, '-r', '1', '-w', '1'], {
      credentials: c.acl,
    });
    assert.match(made.stdout, /success/, made.stdout + made.stderr);
    addr = masterAddress((await ns.topicRoute(topic)).brokerDatas[0]!)!;
    const msgs: OutgoingMessage[] = PROPERTY_SETS.map((properties, i) => ({
      body: Buffer.from(`m${i}`),
      tags: i % 3 === 0 ? 'TagA' : i % 3 === 1 ? 'TagB' : undefined,
      properties,
    }));
    const sent = await broker.sendBatch(addr, topic, 0, msgs);
    firstOffset = sent.queueOffset;
    endOffset = firstOffset + msgs.length;
    // Read everything back unfiltered: the broker evaluates against these stored properties.
    let offset = firstOffset;
    const deadline = Date.now() + 15_000;
    while (stored.length < msgs.length && Date.now() < deadline) {
      const r = await broker.pull(addr, { topic, queueId: 0, offset, maxMessages: 32, suspendMs: 1000 });
      stored.push(...r.messages);
      offset = r.nextBeginOffset;
    }
    stored = stored.filter((m) => m.queueOffset < endOffset);
    assert.equal(stored.length, msgs.length);
  });
  after(() => remoting.close());

  it('selects the same messages for every expression', async () => {
    const differences: string[] = [];
    for (const expression of EXPRESSIONS) {
      const expr = parseSql92(expression);
      const ours = stored.filter((m) => evaluateSql92(expr, m.properties)).map((m) => m.queueOffset);
      let theirs: number[];
      try {
        theirs = await brokerSelection(expression);
      } catch (e) {
        differences.push(`${expression}: broker refused it (${(e as Error).message})`);
        continue;
      }
      const show = (offsets: number[]) => JSON.stringify(offsets.map((o) => PROPERTY_SETS[o - firstOffset]));
      if (JSON.stringify(ours) !== JSON.stringify(theirs))
        differences.push(`${expression}:\n  ours   ${show(ours)}\n  broker ${show(theirs)}`);
    }
    assert.deepEqual(differences, []);
  });

  /** Has the broker compile the expression; resolves to its error text, or undefined when it compiles. */
  async function brokerCompileError(expression: string): Promise<string | undefined> {
    const body = {
      clientId: 'ferry-sql92-test',
      group: 'FERRY_SQL92_TEST',
      subscriptionData: {
        topic,
        subString: expression,
        expressionType: 'SQL92',
        classFilterMode: false,
        tagsSet: [],
        codeSet: [],
        subVersion: 0,
      },
    };
    const res = await remoting.invoke(addr, CHECK_CLIENT_CONFIG, {}, Buffer.from(JSON.stringify(body)), {
      accept: [ResponseCode.SUBSCRIPTION_PARSE_FAILED],
    });
    return res.code === ResponseCode.SUCCESS ? undefined : (res.remark ?? 'refused');
  }

  it('compiles on the broker everything we accept', async () => {
    for (const expression of EXPRESSIONS) assert.equal(await brokerCompileError(expression), undefined, expression);
  });

  it('agrees with the broker on generated expressions: what compiles, and what it selects', async () => {
    const differences: string[] = [];
    let accepted = 0;
    for (const expression of generatedExpressions(400)) {
      const ours = validateSql92(expression);
      const theirs = await brokerCompileError(expression);
      if (ours.ok !== (theirs === undefined)) {
        differences.push(
          `${expression}: we ${ours.ok ? 'accept' : `refuse (${ours.message})`}, the broker ` +
            `${theirs === undefined ? 'accepts' : `refuses (${theirs})`}`,
        );
        continue;
      }
      if (!ours.ok) continue;
      accepted++;
      const expr = parseSql92(expression);
      const selected = stored.filter((m) => evaluateSql92(expr, m.properties)).map((m) => m.queueOffset);
      const brokerSelected = await brokerSelection(expression);
      if (JSON.stringify(selected) !== JSON.stringify(brokerSelected))
        differences.push(`${expression}: ours ${JSON.stringify(selected)}, broker ${JSON.stringify(brokerSelected)}`);
    }
    assert.deepEqual(differences, []);
    assert.ok(accepted > 100, `only ${accepted} generated expressions were valid`);
  });

  it('refuses what the broker refuses', async () => {
    for (const expression of BOTH_REFUSE) {
      assert.equal(validateSql92(expression).ok, false, expression);
      assert.notEqual(await brokerCompileError(expression), undefined, expression);
    }
  });

  it('does not filter at all when a pull carries an expression the broker cannot compile', async () => {
    // PullMessageProcessor only `assert`s the compiled filter exists (assertions are off), so the
    // pull goes on unfiltered: why Ferry must validate expressions itself before pulling.
    assert.deepEqual(
      await brokerSelection('a = NULL'),
      stored.map((m) => m.queueOffset),
    );
  });

  it('is stricter than the broker only about leftover text and nesting depth', async () => {
    for (const [expression, brokerReading] of ONLY_WE_REFUSE) {
      assert.equal(validateSql92(expression).ok, false, expression);
      assert.equal(await brokerCompileError(expression), undefined, expression);
      const reading = parseSql92(brokerReading);
      assert.deepEqual(
        await brokerSelection(expression),
        stored.filter((m) => evaluateSql92(reading, m.properties)).map((m) => m.queueOffset),
        expression,
      );
    }
  });
});

describe('SQL92 string matching on a 4.9.7 broker', () => {
  // 4.x has no CONTAINS/STARTSWITH/ENDSWITH: the words are property names there, and whatever
  // follows a complete expression is ignored. Why sql92NeedsRocketMQ5 exists.
  let c: ClusterInfo;
  let remoting: RemotingClient;
  let broker: BrokerClient;
  let addr: string;
  const topic = `sql92v4_${Date.now()}`;
  const props: Record<string, string>[] = [{ s: 'hello' }, { s: 'world' }, {}, { a: '1', s: 'x' }];

  before(async () => {
    c = await testCluster('v4');
    remoting = new RemotingClient({ credentials: c.acl });
    broker = new BrokerClient(remoting);
    const made = await mqadmin(c.version, ['updateTopic', '-n', c.nameServer, '-c', c.name, '-t', topic, '-r', '1', '-w', '1'], {
      credentials: c.acl,
    });
    assert.match(made.stdout, /success/, made.stdout + made.stderr);
    addr = masterAddress((await new NameServerClient(remoting, c.nameServer).topicRoute(topic)).brokerDatas[0]!)!;
    await broker.sendBatch(
      addr,
      topic,
      0,
      props.map((properties) => ({ body: Buffer.from('x'), properties })),
    );
    // Wait until all of them are pullable, so "passes nothing" below means filtered, not not-yet-there.
    let seen = 0;
    for (const deadline = Date.now() + 15_000; seen < props.length && Date.now() < deadline; ) {
      seen = (await broker.pull(addr, { topic, queueId: 0, offset: 0, maxMessages: 32, suspendMs: 1000 })).messages.length;
    }
    assert.equal(seen, props.length);
  });
  after(() => remoting.close());

  const pulledS = async (expression: string) => {
    const r = await broker.pull(addr, { topic, queueId: 0, offset: 0, maxMessages: 32, expression: { type: 'SQL92', value: expression } });
    return r.messages.map((m) => m.properties.s ?? null);
  };

  it('takes `s CONTAINS ...` as a bare property and passes nothing', async () => {
    assert.equal(sql92NeedsRocketMQ5(parseSql92("s CONTAINS 'o'")), true);
    assert.deepEqual(await pulledS("s CONTAINS 'o'"), []);
    assert.deepEqual(await pulledS("a = 1 AND s STARTSWITH 'x'"), []);
  });

  it('cannot compile `s NOT CONTAINS ...`, and then pulls unfiltered', async () => {
    assert.deepEqual(await pulledS("s NOT CONTAINS 'o'"), ['hello', 'world', null, 'x']);
  });
});
