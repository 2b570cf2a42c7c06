// AWS API Gateway HTTP API, Lambda proxy integration payload format 2.0, and Lambda function URLs
// (which send and accept the very same shape). Field semantics from the AWS developer guide,
// "Create AWS Lambda proxy integrations for HTTP APIs" (payload format 2.0) and the Lambda guide,
// "Invoking Lambda function URLs" (request and response payloads).
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ApiRequest, ApiResponse } from '../http.ts';
import { decodeBody, lowerCaseHeaders, parseQueryString, singleValueQuery, stripBasePath, type EdgeOptions } from './normalize.ts';

/** What Ferry returns: always a structured result with a text body, so the gateway never guesses. */
export interface AwsHttpApiResult extends APIGatewayProxyStructuredResultV2 {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: false;
}

export function toApiRequest(event: APIGatewayProxyEventV2, options: EdgeOptions = {}): ApiRequest {
  const headers = lowerCaseHeaders(event.headers);
  // Payload 2.0 moves every Cookie header into `cookies` and drops it from `headers`; put it back
  // so the router sees one request shape on every edge.
  if (event.cookies?.length) {
    const cookies = event.cookies.join('; ');
    headers.cookie = headers.cookie ? `${headers.cookie}; ${cookies}` : cookies;
  }
  return {
    method: event.requestContext.http.method.toUpperCase(),
    path: stripBasePath(event.rawPath || '/', options.basePath),
    // queryStringParameters is the gateway's own decoding (repeated keys already joined with ',');
    // it is absent when there is no query, and rawQueryString is the fallback for hand-made events.
    query: event.queryStringParameters ? singleValueQuery(event.queryStringParameters) : parseQueryString(event.rawQueryString ?? ''),
    headers,
    body: decodeBody(event.body, event.isBase64Encoded),
  };
}

export function fromApiResponse(res: ApiResponse): AwsHttpApiResult {
  return { statusCode: res.status, headers: { ...res.headers }, body: res.body, isBase64Encoded: false };
}
