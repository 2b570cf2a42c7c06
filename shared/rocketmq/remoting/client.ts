import pLimit, { type LimitFunction } from 'p-limit';
import type { Credentials } from './acl.ts';
import { signRequest } from './acl.ts';
import type { RemotingCommand } from './codec.ts';
import { Connection } from './connection.ts';
import { ResponseCode, responseError } from './errors.ts';

export interface RemotingClientOptions {
  credentials?: Credentials;
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  /**
   * Requests in flight per address at most (long polls aside): thousands of queues bursting at
   * once queue up here instead of flooding one broker. Default 64.
   */
  maxInFlightPerAddress?: number;
}

export interface InvokeOptions {
  timeoutMs?: number;
  /** Response codes the caller handles itself; others (besides SUCCESS) throw RemotingResponseError. */
  accept?: readonly number[];
  /** A pull the broker may hold (long polling): it takes no broker thread while held, so it skips the in-flight budget. */
  longPoll?: boolean;
}

/** Keeps one connection per address, reconnecting on demand, and signs requests when credentials are set. */
export class RemotingClient {
  private readonly connections = new Map<string, Promise<Connection>>();
  private readonly budgets = new Map<string, LimitFunction>();
  private closed = false;

  constructor(private readonly opts: RemotingClientOptions = {}) {}

  async invoke(
    address: string,
    code: number,
    extFields: Record<string, string> = {},
    body?: Buffer,
    options: InvokeOptions = {},
  ): Promise<RemotingCommand> {
    if (options.longPoll) return this.send(address, code, extFields, body, options);
    let budget = this.budgets.get(address);
    if (!budget) this.budgets.set(address, (budget = pLimit(this.opts.maxInFlightPerAddress ?? 64)));
    return budget(() => this.send(address, code, extFields, body, options));
  }

  private async send(
    address: string,
    code: number,
    extFields: Record<string, string>,
    body: Buffer | undefined,
    options: InvokeOptions,
  ): Promise<RemotingCommand> {
    const conn = await this.connection(address);
    const fields = this.opts.credentials ? signRequest(extFields, body, this.opts.credentials) : extFields;
    const response = await conn.request({ code, extFields: fields, body }, options.timeoutMs ?? this.opts.requestTimeoutMs ?? 5000);
    if (response.code !== ResponseCode.SUCCESS && !options.accept?.includes(response.code)) {
      throw responseError(response.code, response.remark ?? '', address, code);
    }
    return response;
  }

  close(): void {
    this.closed = true;
    for (const p of this.connections.values())
      p.then(
        (c) => c.close(),
        () => undefined,
      );
    this.connections.clear();
  }

  private connection(address: string): Promise<Connection> {
    if (this.closed) return Promise.reject(new Error('remoting client is closed'));
    const existing = this.connections.get(address);
    if (existing) {
      return existing.then(
        (c) => (c.isOpen ? c : this.reconnect(address, existing)),
        () => this.reconnect(address, existing),
      );
    }
    return this.reconnect(address, undefined);
  }

  private reconnect(address: string, stale: Promise<Connection> | undefined): Promise<Connection> {
    const current = this.connections.get(address);
    if (current && current !== stale) return current;
    const next = Connection.connect(address, { connectTimeoutMs: this.opts.connectTimeoutMs });
    this.connections.set(address, next);
    next.catch(() => {
      if (this.connections.get(address) === next) this.connections.delete(address);
    });
    return next;
  }
}
