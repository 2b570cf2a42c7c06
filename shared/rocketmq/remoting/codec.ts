// RocketMQ remoting frames: [int32 length][int32 serializeType<<24 | headerLength][header][body].
// The length excludes itself. Header type 0 is JSON; type 1 ("ROCKETMQ") is a compact binary form.

const SERIALIZE_JSON = 0;
const SERIALIZE_ROCKETMQ = 1;

export const FLAG_RESPONSE = 1;

// MQVersion.Version ordinal of V4_9_4: namesrvs answer route queries with standard JSON from here on.
const DEFAULT_CLIENT_VERSION = 584;

export interface RemotingCommand {
  code: number;
  language?: string;
  version?: number;
  opaque: number;
  flag: number;
  remark?: string | null;
  extFields?: Record<string, string>;
  body?: Buffer;
}

const MAX_FRAME = 64 * 1024 * 1024;

export function encodeCommand(cmd: RemotingCommand): Buffer {
  const header = Buffer.from(
    JSON.stringify({
      code: cmd.code,
      language: cmd.language ?? 'JAVA',
      version: cmd.version ?? DEFAULT_CLIENT_VERSION,
      opaque: cmd.opaque,
      flag: cmd.flag,
      remark: cmd.remark ?? undefined,
      extFields: cmd.extFields ?? {},
      serializeTypeCurrentRPC: 'JSON',
    }),
    'utf8',
  );
  const bodyLen = cmd.body?.length ?? 0;
  const out = Buffer.allocUnsafe(8 + header.length + bodyLen);
  out.writeInt32BE(4 + header.length + bodyLen, 0);
  out.writeInt32BE((SERIALIZE_JSON << 24) | header.length, 4);
  header.copy(out, 8);
  if (cmd.body && bodyLen > 0) cmd.body.copy(out, 8 + header.length);
  return out;
}

/** Decodes one frame without its leading length field. */
export function decodeFrame(frame: Buffer): RemotingCommand {
  if (frame.length < 4) throw new Error('remoting frame shorter than its header length field');
  const mark = frame.readInt32BE(0);
  const serializeType = (mark >>> 24) & 0xff;
  const headerLen = mark & 0xffffff;
  if (4 + headerLen > frame.length) throw new Error(`remoting header length ${headerLen} exceeds frame`);
  const headerBytes = frame.subarray(4, 4 + headerLen);
  const body = frame.length > 4 + headerLen ? Buffer.from(frame.subarray(4 + headerLen)) : undefined;
  const header = serializeType === SERIALIZE_ROCKETMQ ? decodeBinaryHeader(headerBytes) : decodeJsonHeader(headerBytes);
  return body ? { ...header, body } : header;
}

function decodeJsonHeader(bytes: Buffer): RemotingCommand {
  const raw = parseLenientJson(bytes.toString('utf8'));
  if (!raw || typeof raw !== 'object') throw new Error('remoting JSON header is not an object');
  const h = raw as Record<string, unknown>;
  const ext: Record<string, string> = {};
  if (h.extFields && typeof h.extFields === 'object') {
    for (const [k, v] of Object.entries(h.extFields as Record<string, unknown>)) {
      if (v !== null && v !== undefined) ext[k] = String(v);
    }
  }
  return {
    code: Number(h.code ?? 0),
    language: typeof h.language === 'string' ? h.language : undefined,
    version: Number(h.version ?? 0),
    opaque: Number(h.opaque ?? 0),
    flag: Number(h.flag ?? 0),
    remark: typeof h.remark === 'string' ? h.remark : null,
    extFields: ext,
  };
}

// Binary header (RocketMQSerializable): short code, byte language, short version, int opaque,
// int flag, int remarkLen + remark, int extLen + (short keyLen, key, int valLen, val)*.
const LANGUAGES = ['JAVA', 'CPP', 'DOTNET', 'PYTHON', 'DELPHI', 'ERLANG', 'RUBY', 'OTHER', 'HTTP', 'GO', 'PHP', 'OMS', 'RUST', 'NODE_JS'];

function decodeBinaryHeader(b: Buffer): RemotingCommand {
  let p = 0;
  const need = (n: number) => {
    if (p + n > b.length) throw new Error('truncated ROCKETMQ binary header');
  };
  need(15);
  const code = b.readInt16BE(p);
  p += 2;
  const language = LANGUAGES[b.readUInt8(p)] ?? 'OTHER';
  p += 1;
  const version = b.readInt16BE(p);
  p += 2;
  const opaque = b.readInt32BE(p);
  p += 4;
  const flag = b.readInt32BE(p);
  p += 4;
  need(4);
  const remarkLen = b.readInt32BE(p);
  p += 4;
  let remark: string | null = null;
  if (remarkLen > 0) {
    need(remarkLen);
    remark = b.toString('utf8', p, p + remarkLen);
    p += remarkLen;
  }
  need(4);
  const extLen = b.readInt32BE(p);
  p += 4;
  const extFields: Record<string, string> = {};
  const end = p + Math.max(0, extLen);
  if (end > b.length) throw new Error('truncated ROCKETMQ binary header ext fields');
  while (p < end) {
    need(2);
    const kl = b.readInt16BE(p);
    p += 2;
    need(kl);
    const k = b.toString('utf8', p, p + kl);
    p += kl;
    need(4);
    const vl = b.readInt32BE(p);
    p += 4;
    need(vl);
    extFields[k] = b.toString('utf8', p, p + vl);
    p += vl;
  }
  return { code, language, version, opaque, flag, remark, extFields };
}

/**
 * Splits a TCP byte stream into frames. Keeps a list of chunks rather than concatenating on every
 * read, so a large frame arriving in many pieces is copied once.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.buffered < 4) break;
      const len = this.peekLength();
      if (len < 4 || len > MAX_FRAME) throw new Error(`invalid remoting frame length ${len}`);
      if (this.buffered < 4 + len) break;
      const all = this.take(4 + len);
      frames.push(all.subarray(4));
    }
    return frames;
  }

  private peekLength(): number {
    const first = this.chunks[0]!;
    if (first.length >= 4) return first.readInt32BE(0);
    return Buffer.concat(this.chunks, 4).readInt32BE(0);
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let copied = 0;
      while (copied < n) {
        const c = this.chunks[0]!;
        const k = Math.min(c.length, n - copied);
        c.copy(out, copied, 0, k);
        copied += k;
        if (k === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(k);
      }
    }
    this.buffered -= n;
    return out;
  }
}

/**
 * Parses JSON as fastjson writes it for the namesrv: object keys may be bare integers
 * (`{0:"127.0.0.1:10911"}`). Bare keys are quoted outside string literals, then JSON.parse runs.
 */
export function parseLenientJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return JSON.parse(quoteBareKeys(text));
  }
}

function quoteBareKeys(text: string): string {
  let out = '';
  let i = 0;
  let inString = false;
  let expectKey = false;
  while (i < text.length) {
    const ch = text[i]!;
    if (inString) {
      out += ch;
      if (ch === '\\') {
        out += text[i + 1] ?? '';
        i += 2;
        continue;
      }
      if (ch === '"') inString = false;
      i++;
      continue;
    }
    if (ch === '"') {
      inString = true;
      expectKey = false;
      out += ch;
      i++;
      continue;
    }
    if (ch === '{' || ch === ',') {
      expectKey = true;
      out += ch;
      i++;
      continue;
    }
    if (expectKey && /[-\w]/.test(ch)) {
      let j = i;
      while (j < text.length && /[-\w.]/.test(text[j]!)) j++;
      let k = j;
      while (k < text.length && /\s/.test(text[k]!)) k++;
      if (text[k] === ':') {
        out += `"${text.slice(i, j)}"`;
        i = j;
        expectKey = false;
        continue;
      }
    }
    if (!/\s/.test(ch)) expectKey = false;
    out += ch;
    i++;
  }
  return out;
}
