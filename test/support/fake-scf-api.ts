// A fake of the Tencent Cloud SCF API (2018-04-16) and of SSM's GetSecretValue (2019-09-23), on
// 127.0.0.1 over plain HTTP, for `deploy:tencent` tests. Like the Cloud API fake it checks every
// request's TC3-HMAC-SHA256 signature (tc3-signature.ts) and X-TC-Action/Version/Region, then keeps
// functions and triggers in memory per region and namespace, answering with the SDK's model shapes.
// Functions are Active at once. Every request is recorded, so tests can count the mutating calls.
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  AsyncTriggerConfig,
  GetFunctionAddressResponse,
  GetFunctionResponse,
  ListTriggersResponse,
  TriggerInfo,
} from 'tencentcloud-sdk-nodejs-scf/tencentcloud/services/scf/v20180416/scf_models.js';
import { verifyTc3 } from './tc3-signature.ts';

type Body = Record<string, unknown>;

export interface ScfCall {
  action: string;
  version: string;
  region: string | undefined;
  body: Body;
  error?: string;
}

export interface FakeFunction {
  config: GetFunctionResponse;
  /** Asynchronous invocation retries and retention (SCF's default: 2 retries, 6 hours). */
  asyncConfig: AsyncTriggerConfig;
  code: Buffer;
  triggers: TriggerInfo[];
}

class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const MUTATING_SCF_ACTIONS = new Set([
  'CreateFunction',
  'UpdateFunctionCode',
  'UpdateFunctionConfiguration',
  'UpdateFunctionEventInvokeConfig',
  'DeleteFunction',
  'CreateTrigger',
  'UpdateTrigger',
  'DeleteTrigger',
]);

const str = (b: Body, k: string): string => {
  if (typeof b[k] !== 'string' || b[k] === '') throw new ApiError('MissingParameter', `the request is missing ${k}`);
  return b[k] as string;
};

export class FakeScfApi {
  readonly calls: ScfCall[] = [];
  /** `${region}/${namespace}/${name}` → function. */
  readonly functions = new Map<string, FakeFunction>();
  /** SSM secrets: `${name}@${version}` → value. */
  readonly secrets = new Map<string, string>();
  private server: Server | undefined;
  url = '';

  constructor(private readonly keys: Record<string, string>) {}

  mutatingCalls(): ScfCall[] {
    return this.calls.filter((c) => MUTATING_SCF_ACTIONS.has(c.action) && !c.error);
  }

  fn(region: string, namespace: string, name: string): FakeFunction | undefined {
    return this.functions.get(`${region}/${namespace}/${name}`);
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = this.answer(req, Buffer.concat(chunks));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
    });
    await new Promise<void>((ok) => this.server!.listen(0, '127.0.0.1', ok));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  stop(): Promise<void> {
    return new Promise((ok) => (this.server ? this.server.close(() => ok()) : ok()));
  }

  private answer(req: IncomingMessage, raw: Buffer): { Response: Body } {
    const RequestId = randomUUID();
    const h = (n: string) =>
      Array.isArray(req.headers[n]) ? (req.headers[n] as string[]).join(',') : (req.headers[n] as string | undefined);
    const call: ScfCall = { action: h('x-tc-action') ?? '', version: h('x-tc-version') ?? '', region: h('x-tc-region'), body: {} };
    this.calls.push(call);
    try {
      const auth = verifyTc3(req, raw, this.keys);
      if (!auth.ok) throw new ApiError(auth.code, auth.message);
      call.body = JSON.parse(raw.toString('utf8') || '{}') as Body;
      return { Response: { ...this.dispatch(call), RequestId } };
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError('InternalError', String(err));
      call.error = e.code;
      return { Response: { Error: { Code: e.code, Message: e.message }, RequestId } };
    }
  }

  private dispatch(c: ScfCall): Body {
    if (!c.region) throw new ApiError('MissingParameter', 'X-TC-Region is required');
    if (c.action === 'GetSecretValue') {
      if (c.version !== '2019-09-23') throw new ApiError('InvalidAction', `GetSecretValue does not exist in version ${c.version}`);
      const v = this.secrets.get(`${str(c.body, 'SecretName')}@${str(c.body, 'VersionId')}`);
      if (v === undefined)
        throw new ApiError('ResourceNotFound', `secret ${String(c.body.SecretName)} has no version ${String(c.body.VersionId)}`);
      return { SecretName: c.body.SecretName, VersionId: c.body.VersionId, SecretString: v };
    }
    if (c.version !== '2018-04-16') throw new ApiError('InvalidAction', `action ${c.action} does not exist in version ${c.version}`);
    const b = c.body;
    const key = `${c.region}/${(b.Namespace as string | undefined) ?? 'default'}/${str(b, 'FunctionName')}`;
    const existing = this.functions.get(key);
    const must = (): FakeFunction => {
      if (!existing) throw new ApiError('ResourceNotFound.Function', `function ${String(b.FunctionName)} does not exist`);
      return existing;
    };
    switch (c.action) {
      case 'GetFunction':
        return { ...must().config, Triggers: must().triggers } satisfies Omit<GetFunctionResponse, 'RequestId'>;
      case 'GetFunctionAddress':
        return { Url: 'https://cos.example/code.zip', CodeSha256: sha256(must().code) } satisfies Omit<
          GetFunctionAddressResponse,
          'RequestId'
        >;
      case 'CreateFunction': {
        if (existing) throw new ApiError('ResourceInUse.Function', `function ${String(b.FunctionName)} already exists`);
        const code = zipOf(b.Code as Body | undefined);
        const { Code: _code, CodeSource: _src, ...config } = b;
        this.functions.set(key, {
          config: {
            ...(config as GetFunctionResponse),
            Namespace: (b.Namespace as string) ?? 'default',
            Status: 'Active',
            CodeSize: code.length,
          },
          code,
          asyncConfig: { RetryConfig: [{ RetryNum: 2 }], MsgTTL: 21_600 },
          triggers: [],
        });
        return {};
      }
      case 'UpdateFunctionCode': {
        const f = must();
        f.code = zipOf(b);
        if (typeof b.Handler === 'string') f.config.Handler = b.Handler;
        return {};
      }
      case 'UpdateFunctionConfiguration': {
        const f = must();
        const { FunctionName: _n, Namespace: _ns, Runtime, ...rest } = b;
        if (Runtime !== undefined && Runtime !== f.config.Runtime)
          throw new ApiError('InvalidParameterValue.Runtime', 'Runtime cannot be changed');
        Object.assign(f.config, rest);
        return {};
      }
      case 'GetFunctionEventInvokeConfig':
        return { AsyncTriggerConfig: must().asyncConfig };
      case 'UpdateFunctionEventInvokeConfig': {
        const f = must();
        const config = b.AsyncTriggerConfig as AsyncTriggerConfig | undefined;
        const retries = config?.RetryConfig?.[0]?.RetryNum;
        if (typeof retries !== 'number' || retries < 0 || retries > 2)
          throw new ApiError('InvalidParameterValue.RetryNum', 'RetryNum 0 to 2');
        if (typeof config?.MsgTTL !== 'number' || config.MsgTTL < 60 || config.MsgTTL > 21_600)
          throw new ApiError('InvalidParameterValue.MsgTTL', 'MsgTTL 60 to 21600');
        f.asyncConfig = config;
        return {};
      }
      case 'ListTriggers': {
        const all = must().triggers;
        const offset = (b.Offset as number | undefined) ?? 0;
        const limit = (b.Limit as number | undefined) ?? 20;
        return { TotalCount: all.length, Triggers: all.slice(offset, offset + limit) } satisfies Omit<ListTriggersResponse, 'RequestId'>;
      }
      case 'CreateTrigger': {
        const f = must();
        const name = str(b, 'TriggerName');
        const type = str(b, 'Type');
        if (!['timer', 'http', 'apigw', 'cos', 'cls', 'ckafka'].includes(type))
          throw new ApiError('InvalidParameterValue.Type', `no trigger type ${type}`);
        if (f.triggers.some((t) => t.TriggerName === name && t.Type === type))
          throw new ApiError('ResourceInUse.Trigger', `${name} exists`);
        // The API answers a timer's description as JSON holding the cron, not as the cron it was given.
        const desc = type === 'timer' ? JSON.stringify({ cron: str(b, 'TriggerDesc') }) : str(b, 'TriggerDesc');
        f.triggers.push({ TriggerName: name, Type: type, TriggerDesc: desc, Enable: b.Enable === 'CLOSE' ? 0 : 1, Qualifier: '$DEFAULT' });
        return {};
      }
      case 'UpdateTrigger': {
        const t = must().triggers.find((x) => x.TriggerName === str(b, 'TriggerName') && x.Type === str(b, 'Type'));
        if (!t) throw new ApiError('ResourceNotFound.Trigger', `trigger ${String(b.TriggerName)} does not exist`);
        if (typeof b.TriggerDesc === 'string') t.TriggerDesc = t.Type === 'timer' ? JSON.stringify({ cron: b.TriggerDesc }) : b.TriggerDesc;
        if (typeof b.Enable === 'string') t.Enable = b.Enable === 'CLOSE' ? 0 : 1;
        return {};
      }
      default:
        throw new ApiError('InvalidAction', `action ${c.action} does not exist`);
    }
  }
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function zipOf(b: Body | undefined): Buffer {
  const z = b?.ZipFile;
  if (typeof z !== 'string' || z === '') throw new ApiError('InvalidParameterValue.Code', 'only ZipFile code is supported by this fake');
  return Buffer.from(z, 'base64');
}
