// Producer message ids (UNIQ_KEY), as Apache's clients make them.
import { randomBytes } from 'node:crypto';
import { networkInterfaces } from 'node:os';

// Layout of MessageClientIDSetter (16 bytes, upper-case hex): IPv4 (4), pid (2), a per-process
// value (4; Java uses the class loader's hash, here random so two processes with the same pid —
// containers — still differ), ms since the start of the month (4), counter (2).
let uniqPrefix: string | undefined;
let lastMs = 0;
let seq = 0;
let monthStart = 0;
let nextMonthStart = 0;

function processPrefix(): string {
  const ip = firstIpv4() ?? [127, 0, 0, 1];
  const fixed = Buffer.alloc(10);
  fixed.set(ip, 0);
  fixed.writeUInt16BE(process.pid & 0xffff, 4);
  randomBytes(4).copy(fixed, 6);
  return fixed.toString('hex').toUpperCase();
}

function firstIpv4(): number[] | undefined {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family === 'IPv4' && !a.internal) return a.address.split('.').map(Number);
    }
  }
  return undefined;
}

/** A new producer message id (UNIQ_KEY): 32 upper-case hex characters, unique across processes. */
export function createUniqKey(): string {
  // (ms, seq) only moves forward, even when the clock steps back or 65536 ids fall in one ms.
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    seq = 0;
  } else if (++seq > 0xffff) {
    lastMs++;
    seq = 0;
  }
  if (uniqPrefix === undefined || lastMs >= nextMonthStart) {
    const d = new Date(lastMs);
    monthStart = new Date(d.getFullYear(), d.getMonth(), 1).getTime();
    nextMonthStart = new Date(d.getFullYear(), d.getMonth() + 1, 1).getTime();
    // The time field restarts every month; a fresh random part keeps last month's ids from recurring.
    uniqPrefix = processPrefix();
  }
  const tail = Buffer.allocUnsafe(6);
  tail.writeUInt32BE((lastMs - monthStart) >>> 0, 0);
  tail.writeUInt16BE(seq, 4);
  return uniqPrefix + tail.toString('hex').toUpperCase();
}
