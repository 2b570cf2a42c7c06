import { createServer } from 'node:net';

function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/**
 * A run of `count` consecutive free TCP ports. Brokers take listenPort-2 (VIP channel) and
 * listenPort+1 (HA) implicitly, so callers lay out their ports inside one contiguous block.
 * Ports come from below the Linux ephemeral range so outgoing connections do not steal them.
 */
const handedOut = new Set<number>();

export async function freePortBlock(count: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20000 + Math.floor(Math.random() * (32000 - 20000 - count));
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = !handedOut.has(p);
    for (let p = base; p < base + count && ok; p++) {
      ok = (await canBind(p, '0.0.0.0')) && (await canBind(p, '127.0.0.1'));
    }
    if (ok) {
      for (let p = base; p < base + count; p++) handedOut.add(p);
      return base;
    }
  }
  throw new Error(`no block of ${count} free ports found`);
}
