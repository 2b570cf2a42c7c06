// AWS Lambda entry for the HTTP API (API Gateway payload 2.0): event → ApiRequest → route → result.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ApiRequest } from '../../shared/api/http.ts';
import { route, type ApiDeps } from '../../shared/api/router.ts';
import { loadConfig } from '../../shared/config.ts';
import { openStore } from '../../shared/store/index.ts';

let deps: Promise<ApiDeps> | undefined;

function coldStart(): Promise<ApiDeps> {
  const config = loadConfig();
  return openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }).then((store) => ({
    store,
    storeKind: config.databaseUrl ? 'postgres' : 'embedded',
  }));
}

export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  deps ??= coldStart();
  const body = event.body === undefined ? undefined : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  const req: ApiRequest = {
    method: event.requestContext.http.method,
    path: event.rawPath,
    query: Object.fromEntries(Object.entries(event.queryStringParameters ?? {}).map(([k, v]) => [k, v ?? ''])),
    headers: Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v ?? ''])),
    body,
  };
  const res = await route(req, await deps);
  return { statusCode: res.status, headers: res.headers, body: res.body };
}
