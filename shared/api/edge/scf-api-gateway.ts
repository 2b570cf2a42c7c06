// Tencent Cloud SCF behind an API Gateway trigger (integration request / integration response).
// Field list from Tencent Cloud's SCF docs, "Trigger Event Message Structure Summary" → "Event Message
// Structure of Integration Request for API Gateway Trigger" (tencentcloud.com/document/product/583/31439)
// and "API Gateway Trigger" (…/583/12513); cross-checked with tencentyun/scf-go-lib cloudevents/scf/apigw.go
// (APIGatewayProxyRequest / APIGatewayProxyResponse).
import type { ApiRequest, ApiResponse } from '../http.ts';
import { decodeBody, lowerCaseHeaders, singleValueQuery, stripBasePath, type EdgeOptions } from './normalize.ts';

export interface ScfApiGatewayRequestContext {
  serviceId: string;
  /** The API's configured path (may hold `{param}` templates), not the request path. */
  path?: string;
  /** The API's configured method (can be `ANY`), not necessarily the request's. */
  httpMethod?: string;
  requestId?: string;
  stage?: string;
  sourceIp?: string;
  identity?: { secretId?: string };
}

export interface ScfApiGatewayEvent {
  /** The request's method. */
  httpMethod: string;
  /** The full request path (after the stage), including the API's configured prefix. */
  path: string;
  /** Every query parameter of the request. Documented as strings; arrays are accepted for repeated keys. */
  queryString?: Record<string, string | string[]> | null;
  /** Client headers, in the case the client sent them. */
  headers?: Record<string, string> | null;
  body?: string | null;
  isBase64Encoded?: boolean;
  requestContext: ScfApiGatewayRequestContext;
  // Only the parameters declared on the API definition; `path`, `queryString` and `headers` already
  // hold everything the client sent, so Ferry does not read these.
  pathParameters?: Record<string, string> | null;
  queryStringParameters?: Record<string, string> | null;
  headerParameters?: Record<string, string> | null;
  stageVariables?: Record<string, string> | null;
}

/** The integration response API Gateway parses into the HTTP response. */
export interface ScfApiGatewayResult {
  isBase64Encoded: false;
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export function toApiRequest(event: ScfApiGatewayEvent, options: EdgeOptions = {}): ApiRequest {
  return {
    method: event.httpMethod.toUpperCase(),
    path: stripBasePath(event.path || '/', options.basePath),
    query: singleValueQuery(event.queryString ?? event.queryStringParameters),
    headers: lowerCaseHeaders(event.headers),
    body: decodeBody(event.body, event.isBase64Encoded),
  };
}

export function fromApiResponse(res: ApiResponse): ScfApiGatewayResult {
  return { isBase64Encoded: false, statusCode: res.status, headers: { ...res.headers }, body: res.body };
}
