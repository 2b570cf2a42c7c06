// Typed remoting errors. Callers branch on the class (or `responseCode`), never on message text.

export class RemotingError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The peer could not be reached (refused, DNS, connect timeout). Safe to retry elsewhere. */
export class RemotingConnectError extends RemotingError {
  constructor(
    readonly address: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** No response within the request's timeout; the request may or may not have been processed. */
export class RemotingTimeoutError extends RemotingError {
  constructor(
    readonly address: string,
    readonly timeoutMs: number,
    readonly requestCode: number,
  ) {
    super(`request code ${requestCode} to ${address} timed out after ${timeoutMs} ms`);
  }
}

/** The connection closed while the request was in flight; outcome unknown. */
export class RemotingConnectionClosedError extends RemotingError {
  constructor(
    readonly address: string,
    message = `connection to ${address} closed`,
  ) {
    super(message);
  }
}

/** The server answered with a non-success response code. */
export class RemotingResponseError extends RemotingError {
  constructor(
    readonly responseCode: number,
    readonly remark: string,
    readonly address: string,
    readonly requestCode: number,
  ) {
    super(`${responseCodeName(responseCode)} (${responseCode}) from ${address} for request ${requestCode}: ${remark}`);
  }
}

/** Flow control: the broker is too busy now (SYSTEM_BUSY); slow down and try again. */
export class BrokerBusyError extends RemotingResponseError {}
/** The topic has no route / does not exist there. */
export class TopicNotFoundError extends RemotingResponseError {}
/** The credentials are not allowed to do this. */
class NoPermissionError extends RemotingResponseError {}
/** The message itself was refused (too large, bad properties): sending it again will not help. */
export class MessageRejectedError extends RemotingResponseError {}

/** The one mapping from a response code to the error class callers branch on. */
export function responseError(responseCode: number, remark: string, address: string, requestCode: number): RemotingResponseError {
  const Kind =
    responseCode === ResponseCode.SYSTEM_BUSY
      ? BrokerBusyError
      : responseCode === ResponseCode.TOPIC_NOT_EXIST
        ? TopicNotFoundError
        : responseCode === ResponseCode.NO_PERMISSION
          ? NoPermissionError
          : responseCode === ResponseCode.MESSAGE_ILLEGAL
            ? MessageRejectedError
            : RemotingResponseError;
  return new Kind(responseCode, remark, address, requestCode);
}

export const ResponseCode = {
  SUCCESS: 0,
  SYSTEM_ERROR: 1,
  SYSTEM_BUSY: 2,
  REQUEST_CODE_NOT_SUPPORTED: 3,
  TRANSACTION_FAILED: 4,
  FLUSH_DISK_TIMEOUT: 10,
  SLAVE_NOT_AVAILABLE: 11,
  FLUSH_SLAVE_TIMEOUT: 12,
  MESSAGE_ILLEGAL: 13,
  SERVICE_NOT_AVAILABLE: 14,
  VERSION_NOT_SUPPORTED: 15,
  NO_PERMISSION: 16,
  TOPIC_NOT_EXIST: 17,
  TOPIC_EXIST_ALREADY: 18,
  PULL_NOT_FOUND: 19,
  PULL_RETRY_IMMEDIATELY: 20,
  PULL_OFFSET_MOVED: 21,
  QUERY_NOT_FOUND: 22,
  SUBSCRIPTION_PARSE_FAILED: 23,
  SUBSCRIPTION_NOT_EXIST: 24,
  SUBSCRIPTION_NOT_LATEST: 25,
  SUBSCRIPTION_GROUP_NOT_EXIST: 26,
  FILTER_DATA_NOT_EXIST: 27,
  FILTER_DATA_NOT_LATEST: 28,
  INVALID_PARAMETER: 29,
  CONSUMER_NOT_ONLINE: 206,
  UPDATE_AND_CREATE_ACL_CONFIG_FAILED: 209,
  DELETE_ACL_CONFIG_FAILED: 210,
} as const;

const NAMES = new Map<number, string>(Object.entries(ResponseCode).map(([k, v]) => [v, k]));

function responseCodeName(code: number): string {
  return NAMES.get(code) ?? `RESPONSE_${code}`;
}

/**
 * The server cannot do this at all (request code unknown to its version, or a feature removed
 * there), as opposed to refusing this particular request. Callers report it as a capability gap
 * rather than retrying.
 */
export class UnsupportedOperationError extends RemotingError {
  constructor(
    readonly operation: string,
    readonly address: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${operation} is not supported by ${address}: ${reason}`, options);
  }
}
