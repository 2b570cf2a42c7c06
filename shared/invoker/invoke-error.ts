// The one error the platform invokers throw. It names the function and carries the platform's own
// error code and HTTP status, so a caller can log, count or branch on a refusal without parsing
// SDK-specific exception shapes.
export type InvokerPlatform = 'aws-lambda' | 'tencent-scf';

export interface InvokeErrorDetails {
  platform: InvokerPlatform;
  functionName: string;
  /** The platform's error code, e.g. `ResourceNotFoundException` (Lambda), `ResourceNotFound.Function` (SCF). */
  code?: string | undefined;
  /** HTTP status of the platform's answer, when there was one. */
  status?: number | undefined;
  /** The platform's request id, for support tickets. */
  requestId?: string | undefined;
  message: string;
  cause?: unknown;
}

export class InvokeError extends Error {
  override readonly name = 'InvokeError';
  readonly platform: InvokerPlatform;
  readonly functionName: string;
  readonly code: string | undefined;
  readonly status: number | undefined;
  readonly requestId: string | undefined;

  constructor(d: InvokeErrorDetails) {
    const detail = [d.code, d.status !== undefined ? `HTTP ${d.status}` : undefined, d.requestId ? `request ${d.requestId}` : undefined]
      .filter(Boolean)
      .join(', ');
    super(`invoking ${d.platform} function ${d.functionName}: ${d.message}${detail ? ` (${detail})` : ''}`, { cause: d.cause });
    this.platform = d.platform;
    this.functionName = d.functionName;
    this.code = d.code;
    this.status = d.status;
    this.requestId = d.requestId;
  }
}
