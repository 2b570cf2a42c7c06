// Tencent Cloud SCF function URL (https://<app-id>-<url-id>.<region>.tencentscf.com), event function.
// Source: Tencent Cloud SCF docs, "Function URL Overview" → "Calling Parameter" → "Event Function"
// (tencentcloud.com/document/product/583/69491; cloud.tencent.com/document/product/583/96099). The
// event is the API Gateway integration request minus headerParameters, isBase64Encoded,
// pathParameters, queryStringParameters and requestContext: {body, headers, httpMethod, path,
// queryString}, header names lower-case, client address in `x-scf-remote-addr`. It is NOT the AWS
// 2.0 shape. Events seen in the wild still carry those fields, empty (requestContext holding only
// sourceIp), so they are allowed here; what separates this from the API Gateway event is that there
// is no requestContext.serviceId. The response is the same {statusCode, headers, body} structure.
import type { ApiRequest, ApiResponse } from '../http.ts';
import { decodeBody, lowerCaseHeaders, singleValueQuery, stripBasePath, type EdgeOptions } from './normalize.ts';

export interface ScfFunctionUrlEvent {
  httpMethod: string;
  path: string;
  queryString?: Record<string, string | string[]> | null;
  headers?: Record<string, string> | null;
  body?: string | null;
  /** Not documented for function URLs; honoured if a runtime ever sets it. */
  isBase64Encoded?: boolean;
  requestContext?: { sourceIp?: string } | null;
}

export interface ScfFunctionUrlResult {
  // Documented response fields are statusCode/headers/body; isBase64Encoded comes from the API Gateway
  // protocol the function URL is compatible with and says plainly that the body is text.
  isBase64Encoded: false;
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export function toApiRequest(event: ScfFunctionUrlEvent, options: EdgeOptions = {}): ApiRequest {
  return {
    method: event.httpMethod.toUpperCase(),
    path: stripBasePath(event.path || '/', options.basePath),
    query: singleValueQuery(event.queryString),
    headers: lowerCaseHeaders(event.headers),
    body: decodeBody(event.body, event.isBase64Encoded),
  };
}

export function fromApiResponse(res: ApiResponse): ScfFunctionUrlResult {
  return { isBase64Encoded: false, statusCode: res.status, headers: { ...res.headers }, body: res.body };
}
