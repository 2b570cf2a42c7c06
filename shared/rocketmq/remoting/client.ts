import type { Credentials } from './acl.ts';
import { signRequest } from './acl.ts';
import type { RemotingCommand } from './codec.ts';
import { Connection } from './connection.ts';
import { RemotingResponseError, ResponseCode } from './errors.ts';

export interface RemotingClientOptions {
  credentials?: Credentials;
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
}

export interface InvokeOptions {
  timeoutMs?: number;
  /** Response codes the caller handles itself; others (besides SUCCESS) throw RemotingResponseError. */
  accept?: readonly number[];
}

/** Keeps one connection per address, reconnecting on demand, and signs requests when credentials are set. */
export class RemotingClient {
  private readonly connections = new Map<string, Promise<Connection>>();
  private closed = false;

  constructor(private readonly opts: RemotingClientOptions = {}) {}

  async invoke(
    address: string,
    code: number,
    extFields: Record<string, string> = {},
    body?: Buffer,
    options: InvokeOptions = {},
  ): Promise<RemotingCommand> {
    const conn = await this.connection(address);
    const fields = this.opts.credentials ? signRequest(extFields, body, this.opts.credentials) : extFields;
    const response = await conn.request({ code, extFields: fields, body }, options.timeoutMs ?? this.opts.requestTimeoutMs ?? 5000);
    if (response.code !== ResponseCode.SUCCESS && !options.accept?.includes(response.code)) {
      throw new RemotingResponseError(response.code, response.remark ?? '', address, code);
    }
    return response;
  }

  close(): void {
    this.closed = true;
    for (const p of this.connections.values()) p.then((c) => c.close(), () => undefined);
    this.connections.clear();
  }

  private connection(address: string): Promise<Connection> {
    if (this.closed) return Promise.reject(new Error('remoting client is closed'));
    const existing = this.connections.get(address);
    if (existing) {
      return existing.then((c) => (c.isOpen ? c : this.reconnect(address, existing)), () => this.reconnect(address, existing));
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
