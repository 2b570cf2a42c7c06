// The create form's state, the JSON it posts, and its inline validation: the body is checked by
// the API's own TaskInput schema and each issue is worded by describeIssue, so a message next to an
// input is exactly what the API would answer for the same body.
import { describeIssue, type FieldProblem } from '../../shared/tasks/issue.ts';
import { TaskInput } from '../../shared/tasks/schema.ts';
import { fromLocalInput } from './time.ts';

export interface SideForm {
  clusterType: 'self-built' | 'tencent';
  region: string;
  clusterId: string;
  protocol: 'remoting' | 'grpc';
  nameServer: string;
  networkType: 'public' | 'vpc';
  vpcRegion: string;
  vpcId: string;
  subnetId: string;
  resourceType: 'tencent' | 'other-cloud';
  dedicatedLineType: 'ccn' | 'dcg';
  dedicatedLineId: string;
  aclEnabled: boolean;
  accessKey: string;
  secretKey: string;
}

export interface TaskForm {
  name: string;
  direction: 'one-way' | 'two-way';
  source: SideForm;
  target: SideForm;
  startOffsetType: 'latest' | 'earliest' | 'timestamp';
  startTime: string;
  include: string;
  exclude: string;
  expressionType: 'TAG' | 'SQL92';
  expressionValue: string;
  tpsLimit: string;
  idempotentResume: boolean;
  start: boolean;
}

const emptySide = (): SideForm => ({
  clusterType: 'self-built',
  region: '',
  clusterId: '',
  protocol: 'remoting',
  nameServer: '',
  networkType: 'public',
  vpcRegion: '',
  vpcId: '',
  subnetId: '',
  resourceType: 'tencent',
  dedicatedLineType: 'ccn',
  dedicatedLineId: '',
  aclEnabled: false,
  accessKey: '',
  secretKey: '',
});

export const emptyForm = (): TaskForm => ({
  name: '',
  direction: 'one-way',
  source: emptySide(),
  target: emptySide(),
  startOffsetType: 'latest',
  startTime: '',
  include: '.*',
  exclude: '',
  expressionType: 'TAG',
  expressionValue: '*',
  tpsLimit: '',
  idempotentResume: true,
  start: true,
});

const lines = (text: string): string[] =>
  text
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s !== '');

function endpointBody(s: SideForm): Record<string, unknown> {
  const acl = s.aclEnabled ? { enabled: true, accessKey: s.accessKey, secretKey: s.secretKey } : { enabled: false };
  if (s.clusterType === 'tencent') {
    return { clusterType: 'tencent', region: s.region, clusterId: s.clusterId, protocol: s.protocol, ...(s.aclEnabled ? { acl } : {}) };
  }
  const body: Record<string, unknown> = {
    clusterType: 'self-built',
    clusterId: s.clusterId,
    protocol: s.protocol,
    nameServer: s.nameServer,
    networkType: s.networkType,
  };
  // The spec asks for the VPC, the resource type and the dedicated line only on a VPC network.
  if (s.networkType === 'vpc') {
    body.vpc = { region: s.vpcRegion, vpcId: s.vpcId, subnetId: s.subnetId };
    body.resourceType = s.resourceType;
    if (s.resourceType === 'other-cloud') body.dedicatedLine = { type: s.dedicatedLineType, id: s.dedicatedLineId };
  }
  body.acl = acl;
  return body;
}

/** The JSON body POST /v1/tasks receives for this form. */
export function toRequestBody(f: TaskForm): Record<string, unknown> {
  const startOffset =
    f.startOffsetType === 'timestamp' ? { type: 'timestamp', timestamp: fromLocalInput(f.startTime) } : { type: f.startOffsetType };
  return {
    name: f.name,
    direction: f.direction,
    source: endpointBody(f.source),
    target: endpointBody(f.target),
    startOffset,
    filter: {
      topics: { include: lines(f.include), exclude: lines(f.exclude) },
      expression: { type: f.expressionType, value: f.expressionValue },
    },
    tpsLimit: f.tpsLimit.trim() === '' ? null : Number(f.tpsLimit),
    idempotentResume: f.idempotentResume,
    start: f.start,
  };
}

const SIDE_INPUTS = [
  'clusterType',
  'region',
  'clusterId',
  'protocol',
  'nameServer',
  'networkType',
  'vpc.region',
  'vpc.vpcId',
  'vpc.subnetId',
  'resourceType',
  'dedicatedLine.type',
  'dedicatedLine.id',
  'acl.enabled',
  'acl.accessKey',
  'acl.secretKey',
];

/** Every input's field path, in page order. */
export const INPUTS: readonly string[] = [
  'name',
  'direction',
  ...SIDE_INPUTS.map((p) => `source.${p}`),
  ...SIDE_INPUTS.map((p) => `target.${p}`),
  'startOffset.type',
  'startOffset.timestamp',
  'filter.topics.include',
  'filter.topics.exclude',
  'filter.expression.type',
  'filter.expression.value',
  'tpsLimit',
  'idempotentResume',
  'start',
];

/**
 * The input a field path belongs to: itself, the input it lies under (`filter.topics.include.2` →
 * `filter.topics.include`), or the first input under it (`source.vpc` → `source.vpc.region`);
 * '' for problems with the whole body.
 */
export function inputFor(field: string | undefined): string {
  if (!field) return '';
  if (INPUTS.includes(field)) return field;
  const above = INPUTS.filter((p) => field.startsWith(`${p}.`)).sort((a, b) => b.length - a.length)[0];
  if (above) return above;
  return INPUTS.find((p) => p.startsWith(`${field}.`)) ?? '';
}

/** Problems per input (the first per input), worded as the API words them. */
export function validate(body: unknown): Map<string, FieldProblem> {
  const out = new Map<string, FieldProblem>();
  const r = TaskInput.safeParse(body);
  if (r.success) return out;
  for (const issue of r.error.issues) {
    const problem = describeIssue(issue);
    const input = inputFor(problem.field);
    if (!out.has(input)) out.set(input, problem);
  }
  return out;
}
