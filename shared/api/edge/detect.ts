// Tells which HTTP edge delivered a function invocation. One deployed handler can sit behind AWS API
// Gateway, a Lambda function URL, an SCF API Gateway trigger or an SCF function URL, and the event
// itself is the only thing that says which. The checks are narrow on purpose: each covers the fields
// its adapter reads, with the types it assumes, so an adapter never meets a shape it did not expect,
// and anything else (timer events, AWS REST-API 1.0 events, async invokes) is not an HTTP event.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { ScfApiGatewayEvent, ScfApiGatewayRequestContext } from './scf-api-gateway.ts';
import type { ScfFunctionUrlEvent } from './scf-function-url.ts';

export type HttpEvent =
  | { kind: 'aws-http-api'; event: APIGatewayProxyEventV2 }
  | { kind: 'aws-function-url'; event: APIGatewayProxyEventV2 }
  | { kind: 'scf-api-gateway'; event: ScfApiGatewayEvent }
  | { kind: 'scf-function-url'; event: ScfFunctionUrlEvent };

export type HttpEventKind = HttpEvent['kind'];

export function detectHttpEvent(event: unknown): HttpEvent | null {
  if (!isRecord(event)) return null;
  if (isAwsPayloadV2(event)) {
    // Function URLs send payload 2.0 too; only their domain tells them apart (<url-id>.lambda-url.<region>.on.aws).
    const domain = event.requestContext.domainName;
    return typeof domain === 'string' && domain.includes('.lambda-url.')
      ? { kind: 'aws-function-url', event }
      : { kind: 'aws-http-api', event };
  }
  if (isScfHttpEvent(event)) {
    // Only an API Gateway trigger says which API service forwarded the request.
    if (isScfApiGatewayContext(event.requestContext))
      return { kind: 'scf-api-gateway', event: { ...event, requestContext: event.requestContext } };
    return {
      kind: 'scf-function-url',
      event: { ...event, requestContext: isRecord(event.requestContext) ? event.requestContext : undefined },
    };
  }
  return null;
}

function isAwsPayloadV2(e: Record<string, unknown>): e is Record<string, unknown> & APIGatewayProxyEventV2 {
  const ctx = e.requestContext;
  return (
    e.version === '2.0' &&
    typeof e.rawPath === 'string' &&
    isRecord(ctx) &&
    isRecord(ctx.http) &&
    typeof ctx.http.method === 'string' &&
    isOptional(e.rawQueryString, isString) &&
    isOptional(e.headers, isStringMap) &&
    isOptional(e.queryStringParameters, isStringMap) &&
    isOptional(e.cookies, isStringArray) &&
    isOptional(e.body, isString) &&
    isOptional(e.isBase64Encoded, isBoolean)
  );
}

// The fields both SCF HTTP shapes share; requestContext is what tells them apart.
type ScfHttpFields = Omit<ScfFunctionUrlEvent, 'requestContext'> & { requestContext?: unknown };

function isScfHttpEvent(e: Record<string, unknown>): e is Record<string, unknown> & ScfHttpFields {
  return (
    typeof e.httpMethod === 'string' &&
    typeof e.path === 'string' &&
    // An AWS REST API (payload 1.0) event also has httpMethod and path; these fields are its alone.
    !('version' in e) &&
    !('resource' in e) &&
    !('multiValueHeaders' in e) &&
    isOptional(e.headers, isStringMap) &&
    isOptional(e.queryString, isQueryMap) &&
    isOptional(e.queryStringParameters, isStringMap) &&
    isOptional(e.body, isString) &&
    isOptional(e.isBase64Encoded, isBoolean) &&
    isOptional(e.requestContext, isRecord)
  );
}

function isScfApiGatewayContext(v: unknown): v is ScfApiGatewayRequestContext {
  return isRecord(v) && typeof v.serviceId === 'string';
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const isStringMap = (v: unknown): boolean => isRecord(v) && Object.values(v).every(isString);
const isQueryMap = (v: unknown): boolean => isRecord(v) && Object.values(v).every((x) => isString(x) || isStringArray(x));
// JSON gateways write absent fields as missing or as null; both mean "not there".
const isOptional = (v: unknown, check: (v: unknown) => boolean): boolean => v === undefined || v === null || check(v);
