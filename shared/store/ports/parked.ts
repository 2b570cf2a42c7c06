// The parked-message port: messages that could not be sent, kept for a retry on request.

export interface NewParkedMessage {
  taskId: string;
  flow: string;
  topic: string;
  broker: string;
  queueId: number;
  queueOffset: number;
  reason: string;
  /** The message as it would be sent again (serialization is the replicator's business). */
  payload: Uint8Array;
  properties: Record<string, string>;
  /** The message's flag and born time as the replica carries them. */
  flag?: number;
  bornTimestamp?: number | null;
}

export interface ParkedMessage extends Omit<NewParkedMessage, 'payload' | 'flag' | 'bornTimestamp'> {
  id: number;
  flag: number;
  bornTimestamp: number | null;
  /** Present only when asked for (listParked includePayload) and always in a retry batch. */
  payload?: Uint8Array;
  payloadSize: number;
  parkedAt: Date;
  /** Set by requestRetry; cleared when a replicator takes the message into a retry batch. */
  retryRequestedAt: Date | null;
  resolvedAt: Date | null;
}

export interface ListParkedQuery {
  limit: number;
  includePayload?: boolean;
  /** Resolved messages are hidden unless asked for. */
  includeResolved?: boolean;
}

export interface ParkedStore {
  /** Returns the new message's id. */
  parkMessage(message: NewParkedMessage): Promise<number>;
  /** Oldest first. */
  listParked(taskId: string, query: ListParkedQuery): Promise<ParkedMessage[]>;
  /** Marks every unresolved message of the task for retry; returns how many. */
  requestRetry(taskId: string): Promise<number>;
  /**
   * Claims up to limit retry-requested, unresolved messages of the flow (oldest first, payload
   * included) and clears their request, so two replicators never take the same message. The
   * taker resolves what it re-sent; what it could not stays parked until the next request.
   */
  takeRetryBatch(taskId: string, flow: string, limit: number): Promise<ParkedMessage[]>;
  /** Returns how many were newly resolved. */
  resolveParked(ids: readonly number[]): Promise<number>;
  /** Flows of the task holding parked messages whose retry was requested and not yet taken. */
  retryRequestedFlows(taskId: string): Promise<string[]>;
  /** Unresolved messages of the task by flow; flows without any are absent. */
  countParked(taskId: string): Promise<Record<string, number>>;
}
