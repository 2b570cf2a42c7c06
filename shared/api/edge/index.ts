// One HTTP edge in, the same edge out: converts a detected event to the router's request and the
// router's response back to the result that edge expects.
import type { ApiRequest, ApiResponse } from '../http.ts';
import * as awsHttpApi from './aws-http-api.ts';
import type { HttpEvent } from './detect.ts';
import type { EdgeOptions } from './normalize.ts';
import * as scfApiGateway from './scf-api-gateway.ts';
import * as scfFunctionUrl from './scf-function-url.ts';

export { detectHttpEvent, type HttpEvent } from './detect.ts';
export type { EdgeOptions } from './normalize.ts';

export type HttpResult = awsHttpApi.AwsHttpApiResult | scfApiGateway.ScfApiGatewayResult | scfFunctionUrl.ScfFunctionUrlResult;

export function toApiRequest(http: HttpEvent, edge: EdgeOptions): ApiRequest {
  switch (http.kind) {
    case 'aws-http-api':
    case 'aws-function-url':
      return awsHttpApi.toApiRequest(http.event, edge);
    case 'scf-api-gateway':
      return scfApiGateway.toApiRequest(http.event, edge);
    case 'scf-function-url':
      return scfFunctionUrl.toApiRequest(http.event, edge);
  }
}

export function fromApiResponse(http: HttpEvent, res: ApiResponse): HttpResult {
  switch (http.kind) {
    case 'aws-http-api':
    case 'aws-function-url':
      return awsHttpApi.fromApiResponse(res);
    case 'scf-api-gateway':
      return scfApiGateway.fromApiResponse(res);
    case 'scf-function-url':
      return scfFunctionUrl.fromApiResponse(res);
  }
}
