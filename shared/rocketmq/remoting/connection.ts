import { Socket } from 'node:net';
import { resolveAllowed } from '../../egress/resolve.ts';
import { FrameDecoder, FLAG_RESPONSE, decodeFrame, encodeCommand, type RemotingCommand } from './codec.ts';
import { RemotingConnectError, RemotingConnectionClosedError, RemotingTimeoutError } from './errors.ts';

interface Pending {
  resolve: (cmd: RemotingCommand) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export interface ConnectionOptions {
  connectTimeoutMs?: number;
}

/** One TCP connection to a namesrv, broker or proxy; requests are matched to responses by opaque. */
export class Connection {
  private readonly pending = new Map<number, Pending>();
  private readonly decoder = new FrameDecoder();
  private nextOpaque = 1;
  private closedError: Error | undefined;
  private corked = false;

  private constructor(
    readonly address: string,
    private readonly socket: Socket,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new RemotingConnectionClosedError(address, `connection to ${address} failed: ${err.message}`)));
    socket.on('close', () => this.fail(new RemotingConnectionClosedError(address)));
  }

  static connect(address: string, opts: ConnectionOptions = {}): Promise<Connection> {
    const { host, port } = splitAddress(address);
    const timeoutMs = opts.connectTimeoutMs ?? 3000;
    return new Promise((resolve, reject) => {
      const socket = new Socket();
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new RemotingConnectError(address, `connect to ${address} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const failed = (err: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(new RemotingConnectError(address, `cannot connect to ${address}: ${err.message}`, { cause: err }));
      };
      socket.once('error', failed);
      // The checked address is dialled, not the name: see shared/egress/resolve.ts.
      resolveAllowed(host).then((ip) => {
        // Timed out while resolving: connecting now would revive the destroyed socket.
        if (socket.destroyed) return;
        socket.connect({ host: ip, port }, () => {
          clearTimeout(timer);
          socket.removeAllListeners('error');
          resolve(new Connection(address, socket));
        });
      }, failed);
    });
  }

  get isOpen(): boolean {
    return this.closedError === undefined;
  }

  request(cmd: Omit<RemotingCommand, 'opaque' | 'flag'>, timeoutMs: number): Promise<RemotingCommand> {
    if (this.closedError) return Promise.reject(this.closedError);
    const opaque = this.takeOpaque();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(opaque);
        reject(new RemotingTimeoutError(this.address, timeoutMs, cmd.code));
      }, timeoutMs);
      this.pending.set(opaque, { resolve, reject, timer });
      this.corkForTick();
      this.socket.write(encodeCommand({ ...cmd, opaque, flag: 0 }));
    });
  }

  /**
   * Requests made in one tick leave in one write: thousands of queues re-issuing their long polls
   * at once, or a shard's sends, cost one syscall per tick instead of one per request.
   */
  private corkForTick(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    process.nextTick(() => {
      this.corked = false;
      this.socket.uncork();
    });
  }

  close(): void {
    this.fail(new RemotingConnectionClosedError(this.address, `connection to ${this.address} closed by client`));
  }

  private takeOpaque(): number {
    const o = this.nextOpaque;
    this.nextOpaque = o >= 0x7fffffff ? 1 : o + 1;
    return o;
  }

  private onData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.decoder.push(chunk);
    } catch {
      this.fail(new RemotingConnectionClosedError(this.address, notRocketMq(this.address)));
      return;
    }
    for (const frame of frames) {
      let cmd: RemotingCommand;
      try {
        cmd = decodeFrame(frame);
      } catch {
        this.fail(new RemotingConnectionClosedError(this.address, notRocketMq(this.address)));
        return;
      }
      // Server-initiated requests (consumer id change notices, transaction checks) do not concern
      // a client that neither registers consumers nor sends transactional messages.
      if ((cmd.flag & FLAG_RESPONSE) === 0) continue;
      const p = this.pending.get(cmd.opaque);
      if (!p) continue; // late answer to a request that already timed out
      this.pending.delete(cmd.opaque);
      clearTimeout(p.timer);
      p.resolve(cmd);
    }
  }

  private fail(err: Error): void {
    if (this.closedError) return;
    this.closedError = err;
    this.socket.destroy();
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }
}

/**
 * Why a connection was dropped for bytes that are not remoting frames (an HTTP port, say). A fixed
 * sentence: nothing derived from the peer's bytes reaches a status reason or a log.
 */
const notRocketMq = (address: string) => `the peer at ${address} did not answer as a RocketMQ name server/broker`;

function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  if (i <= 0) throw new RemotingConnectError(address, `address "${address}" is not host:port`);
  let host = address.slice(0, i);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const port = Number(address.slice(i + 1));
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new RemotingConnectError(address, `address "${address}" has an invalid port`);
  }
  return { host, port };
}
