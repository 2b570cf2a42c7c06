// The console's create form (console/src/task-form.ts): the body it posts and its inline messages.
// For every bad form, the first inline message is the API's error (parseInput) for the same body,
// and it is shown at the input the API's field names.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyForm, inputFor, INPUTS, toRequestBody, validate, type SideForm, type TaskForm } from '../../console/src/task-form.ts';
import { FerryError } from '../../shared/errors.ts';
import { TaskInput } from '../../shared/tasks/schema.ts';
import { parseInput } from '../../shared/tasks/service.ts';

const side = (over: Partial<SideForm>): SideForm => ({ ...emptyForm().source, clusterId: 'c', nameServer: '127.0.0.1:9876', ...over });
const good = (): TaskForm => ({
  ...emptyForm(),
  name: 'orders-dr',
  source: side({ clusterId: 'a' }),
  target: side({ clusterId: 'b', nameServer: '127.0.0.1:9877' }),
});

function apiError(body: unknown): FerryError {
  try {
    parseInput(TaskInput, body);
  } catch (err) {
    if (err instanceof FerryError) return err;
    throw err;
  }
  assert.fail('the API accepted the body');
}

describe('console create form', () => {
  it('posts the body the API takes, with the spec fields in place', () => {
    const f: TaskForm = {
      ...good(),
      direction: 'two-way',
      target: side({
        clusterId: 'b',
        nameServer: '10.0.0.2:9876',
        networkType: 'vpc',
        vpcRegion: 'ap-gz',
        vpcId: 'vpc-1',
        subnetId: 'subnet-1',
        resourceType: 'other-cloud',
        dedicatedLineId: 'ccn-1',
        aclEnabled: true,
        accessKey: 'ak',
        secretKey: 'sk',
      }),
      startOffsetType: 'timestamp',
      startTime: '2026-01-02T03:04:05',
      include: 'orders-.*\n\n  pay-.* ',
      exclude: 'orders-dlq',
      expressionType: 'SQL92',
      expressionValue: "region = 'gz'",
      tpsLimit: '500',
      idempotentResume: false,
      start: false,
    };
    const body = toRequestBody(f);
    assert.equal(validate(body).size, 0);
    const parsed = parseInput(TaskInput, body);
    assert.deepEqual(parsed.target, {
      clusterType: 'self-built',
      clusterId: 'b',
      protocol: 'remoting',
      nameServer: '10.0.0.2:9876',
      networkType: 'vpc',
      vpc: { region: 'ap-gz', vpcId: 'vpc-1', subnetId: 'subnet-1' },
      resourceType: 'other-cloud',
      dedicatedLine: { type: 'ccn', id: 'ccn-1' },
      acl: { enabled: true, accessKey: 'ak', secretKey: 'sk' },
    });
    assert.deepEqual(parsed.startOffset, { type: 'timestamp', timestamp: new Date('2026-01-02T03:04:05').getTime() });
    assert.deepEqual(parsed.filter, {
      topics: { include: ['orders-.*', 'pay-.*'], exclude: ['orders-dlq'] },
      expression: { type: 'SQL92', value: "region = 'gz'" },
    });
    assert.equal(parsed.tpsLimit, 500);
    assert.equal(parsed.idempotentResume, false);
    assert.equal(parsed.start, false);
    assert.equal(parsed.direction, 'two-way');
    assert.deepEqual(toRequestBody({ ...good(), source: side({ clusterType: 'tencent', region: 'ap-gz', clusterId: 'rmq-1' }) }).source, {
      clusterType: 'tencent',
      region: 'ap-gz',
      clusterId: 'rmq-1',
      protocol: 'remoting',
    });
  });

  const bad: [string, (f: TaskForm) => TaskForm][] = [
    ['empty name', (f) => ({ ...f, name: '' })],
    ['name with a space', (f) => ({ ...f, name: 'orders dr' })],
    ['name of 201 characters', (f) => ({ ...f, name: '数'.repeat(201) })],
    ['name server without a port', (f) => ({ ...f, source: { ...f.source, nameServer: '127.0.0.1' } })],
    ['name server port 0', (f) => ({ ...f, target: { ...f.target, nameServer: 'ns.example.com:0' } })],
    ['empty cluster id', (f) => ({ ...f, target: { ...f.target, clusterId: '  ' } })],
    ['VPC without ids', (f) => ({ ...f, source: { ...f.source, networkType: 'vpc' } })],
    [
      'other cloud without a line id',
      (f) => ({
        ...f,
        source: { ...f.source, networkType: 'vpc', vpcRegion: 'r', vpcId: 'v', subnetId: 's', resourceType: 'other-cloud' },
      }),
    ],
    ['ACL without keys', (f) => ({ ...f, target: { ...f.target, aclEnabled: true } })],
    ['ACL without the secret', (f) => ({ ...f, target: { ...f.target, aclEnabled: true, accessKey: 'ak' } })],
    ['Tencent cluster without a region', (f) => ({ ...f, source: side({ clusterType: 'tencent', clusterId: 'rmq-1' }) })],
    ['timestamp start without a time', (f) => ({ ...f, startOffsetType: 'timestamp', startTime: '' })],
    ['invalid include pattern', (f) => ({ ...f, include: 'orders-.*\n(' })],
    ['empty exclude pattern list entry is dropped, bad one is not', (f) => ({ ...f, exclude: '\n[a-' })],
    ['invalid SQL92', (f) => ({ ...f, expressionType: 'SQL92', expressionValue: "a = 'x' AND" })],
    ['SQL92 with an unknown operator', (f) => ({ ...f, expressionType: 'SQL92', expressionValue: 'a <> > 1' })],
    ['TPS limit with a fraction', (f) => ({ ...f, tpsLimit: '1.5' })],
    ['TPS limit 0', (f) => ({ ...f, tpsLimit: '0' })],
    ['TPS limit too high', (f) => ({ ...f, tpsLimit: '1000001' })],
    ['two problems: the first is the one the API names', (f) => ({ ...f, name: 'a b', tpsLimit: '0' })],
  ];
  for (const [what, change] of bad) {
    it(`says what the API says: ${what}`, () => {
      const body = toRequestBody(change(good()));
      const err = apiError(body);
      const problems = [...validate(body)];
      assert.ok(problems.length > 0, 'the console flags it');
      const [input, problem] = problems[0]!;
      assert.equal(problem.message, err.message);
      assert.equal(problem.field, err.field);
      assert.equal(input, inputFor(err.field));
      assert.ok(INPUTS.includes(input), `${input} is an input of the form`);
      assert.ok(problem.message.startsWith(`${err.field}: `), problem.message);
    });
  }

  it('places nested and parent paths at the right input', () => {
    assert.equal(inputFor('filter.topics.include.3'), 'filter.topics.include');
    assert.equal(inputFor('source.vpc'), 'source.vpc.region');
    assert.equal(inputFor('target.dedicatedLine'), 'target.dedicatedLine.type');
    assert.equal(inputFor('target.nameServer'), 'target.nameServer');
    assert.equal(inputFor(undefined), '');
    assert.equal(inputFor('body'), '');
  });
});
