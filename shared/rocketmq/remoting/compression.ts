// Decompression of message bodies, matching RocketMQ's common/compression (4.9.7 and 5.3.3 alike):
// ZlibCompressor = java.util.zip.Deflater (zlib-wrapped stream), Lz4Compressor = lz4-java's
// LZ4FrameOutputStream (LZ4 frame format, 4 MiB independent blocks, no checksums), ZstdCompressor =
// zstd-jni's ZstdOutputStream (one zstd frame, no content size, no checksum).
//
// Every decoder here either returns the exact original bytes or throws: LZ4 frames from Java carry
// no checksum and lz4js does not bounds-check, so the LZ4 path validates every block itself first.

import { inflateSync } from 'node:zlib';
import { Decompress as ZstdStream } from 'fzstd';
import lz4js from 'lz4js';
import { hash as xxh32 } from 'lz4js/xxh32.js';
import { RemotingError } from './errors.ts';

export type CompressionType = 'ZLIB' | 'LZ4' | 'ZSTD';

/** MessageSysFlag.COMPRESSION_TYPE_COMPARATOR: the 3 bits above the first byte. */
const COMPRESSION_TYPE_MASK = 0x7 << 8;

/**
 * The compression named by sysFlag bits 8–10, as CompressionType.findByValue reads them: 1 LZ4,
 * 2 ZSTD, 3 ZLIB, and 0 also ZLIB (senders older than compression types). `undefined` for 4–7.
 */
export function compressionTypeOf(sysFlag: number): CompressionType | undefined {
  switch ((sysFlag & COMPRESSION_TYPE_MASK) >> 8) {
    case 0:
    case 3:
      return 'ZLIB';
    case 1:
      return 'LZ4';
    case 2:
      return 'ZSTD';
    default:
      return undefined;
  }
}

/** The compressed bytes are corrupt, or inflate past the allowed size. */
export class DecompressionError extends RemotingError {
  constructor(
    readonly compression: CompressionType,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${compression} body: ${message}`, options);
  }
}

/** Decompresses `data`; throws DecompressionError rather than return anything but the original. */
export function decompressBody(type: CompressionType, data: Uint8Array, maxBytes: number): Buffer {
  switch (type) {
    case 'ZLIB':
      return inflateZlib(data, maxBytes);
    case 'LZ4':
      return decompressLz4Frame(data, maxBytes);
    case 'ZSTD':
      return decompressZstd(data, maxBytes);
  }
}

function inflateZlib(data: Uint8Array, maxBytes: number): Buffer {
  try {
    return inflateSync(data, { maxOutputLength: Math.max(1, maxBytes) });
  } catch (err) {
    const tooLarge = (err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE';
    throw new DecompressionError('ZLIB', tooLarge ? `inflates past ${maxBytes} bytes` : 'corrupt zlib stream', {
      cause: err,
    });
  }
}

function decompressZstd(data: Uint8Array, maxBytes: number): Buffer {
  // The streaming decoder hands out one block at a time, so a bomb is stopped at the limit instead
  // of after fzstd has grown one buffer to hold all of it.
  const chunks: Uint8Array[] = [];
  let size = 0;
  const stream = new ZstdStream((chunk) => {
    size += chunk.length;
    if (size > maxBytes) throw new DecompressionError('ZSTD', `inflates past ${maxBytes} bytes`);
    // fzstd may reuse its window for the next block; keep a copy.
    chunks.push(chunk.slice());
  });
  try {
    if (data.length < 4 || data[0] !== 0x28 || data[1] !== 0xb5 || data[2] !== 0x2f || data[3] !== 0xfd) {
      throw new DecompressionError('ZSTD', 'missing zstd frame magic');
    }
    // fzstd ignores dictionary ids; Java never sets one, and a dictionary frame cannot be decoded here.
    if (data.length > 4 && (data[4]! & 0x3) !== 0) throw new DecompressionError('ZSTD', 'frame needs a dictionary');
    stream.push(data, true);
  } catch (err) {
    if (err instanceof DecompressionError) throw err;
    throw new DecompressionError('ZSTD', 'corrupt zstd frame', { cause: err });
  }
  return Buffer.concat(chunks, size);
}

// ---- LZ4 frame (https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md) ----

const LZ4_MAGIC = 0x184d2204;
const LZ4_MIN_MATCH = 4;
const LZ4_BLOCK_SIZES: Record<number, number> = { 4: 64 << 10, 5: 256 << 10, 6: 1 << 20, 7: 4 << 20 };

interface Lz4Block {
  start: number;
  size: number;
  stored: boolean;
  outputSize: number;
}

function lz4Fail(message: string): never {
  throw new DecompressionError('LZ4', message);
}

function decompressLz4Frame(src: Uint8Array, maxBytes: number): Buffer {
  const view = Buffer.from(src.buffer, src.byteOffset, src.byteLength);
  if (view.length < 7) lz4Fail('shorter than a frame header');
  if (view.readUInt32LE(0) !== LZ4_MAGIC) lz4Fail('missing LZ4 frame magic');
  const flg = view[4]!;
  const bd = view[5]!;
  if (flg >> 6 !== 1) lz4Fail(`unsupported frame version ${flg >> 6}`);
  if ((flg & 0x02) !== 0 || (bd & 0x8f) !== 0) lz4Fail('reserved frame descriptor bits set');
  if ((flg & 0x01) !== 0) lz4Fail('frame needs a dictionary');
  const independent = (flg & 0x20) !== 0;
  const blockChecksum = (flg & 0x10) !== 0;
  const hasContentSize = (flg & 0x08) !== 0;
  const contentChecksum = (flg & 0x04) !== 0;
  const maxBlock = LZ4_BLOCK_SIZES[(bd >> 4) & 0x7] ?? lz4Fail(`invalid block size code ${(bd >> 4) & 0x7}`);

  let p = 6;
  let contentSize: number | undefined;
  if (hasContentSize) {
    if (view.length < p + 9) lz4Fail('truncated frame header');
    const hi = view.readUInt32LE(p + 4);
    contentSize = hi * 0x1_0000_0000 + view.readUInt32LE(p);
    if (contentSize > maxBytes) lz4Fail(`declares ${contentSize} bytes, over the ${maxBytes} byte limit`);
    p += 8;
  }
  if (((xxh32(0, view, 4, p - 4) >>> 8) & 0xff) !== view[p]) lz4Fail('frame header checksum mismatch');
  p += 1;

  // Pass 1: walk and validate every block, learning the exact output size before writing anything.
  const blocks: Lz4Block[] = [];
  let total = 0;
  for (;;) {
    if (view.length < p + 4) lz4Fail('truncated before end mark');
    const word = view.readUInt32LE(p);
    p += 4;
    if (word === 0) break;
    const stored = (word & 0x8000_0000) !== 0;
    const size = word & 0x7fff_ffff;
    if (size > maxBlock) lz4Fail(`block of ${size} bytes exceeds the frame's ${maxBlock} byte blocks`);
    if (view.length < p + size + (blockChecksum ? 4 : 0)) lz4Fail('truncated block');
    if (blockChecksum && xxh32(0, view, p, size) !== view.readUInt32LE(p + size)) lz4Fail('block checksum mismatch');
    const outputSize = stored ? size : lz4BlockOutputSize(view, p, p + size, independent ? 0 : total, maxBlock);
    total += outputSize;
    if (total > maxBytes) lz4Fail(`inflates past ${maxBytes} bytes`);
    blocks.push({ start: p, size, stored, outputSize });
    p += size + (blockChecksum ? 4 : 0);
  }
  if (contentChecksum) {
    if (view.length < p + 4) lz4Fail('truncated content checksum');
    p += 4;
  }
  // Java writes exactly one frame per body; anything after it means we misread the body.
  if (p !== view.length) lz4Fail(`${view.length - p} unexpected bytes after the frame`);
  if (contentSize !== undefined && contentSize !== total) lz4Fail(`declares ${contentSize} bytes but holds ${total}`);

  // Pass 2: decode into an exactly sized buffer; pass 1 proved every read and write in bounds.
  const out = Buffer.allocUnsafe(total);
  let d = 0;
  for (const b of blocks) {
    const next = b.stored ? d + view.copy(out, d, b.start, b.start + b.size) : lz4js.decompressBlock(view, out, b.start, b.size, d);
    if (next - d !== b.outputSize) lz4Fail('block decoded to an unexpected size');
    d = next;
  }
  if (contentChecksum && xxh32(0, out, 0, total) !== view.readUInt32LE(p - 4)) lz4Fail('content checksum mismatch');
  return out;
}

/**
 * Walks one LZ4 block's sequences without copying: every literal run stays inside the block, every
 * match offset points at bytes already produced (`before` = output of earlier blocks a dependent
 * block may reach into), and the block's output fits the frame's block size. Returns that output.
 */
function lz4BlockOutputSize(src: Buffer, start: number, end: number, before: number, maxBlock: number): number {
  let s = start;
  let out = 0;
  for (;;) {
    if (s >= end) lz4Fail('block ends inside a sequence');
    const token = src[s++]!;
    let literals = token >> 4;
    if (literals === 15) {
      let b: number;
      do {
        if (s >= end) lz4Fail('block ends inside a literal length');
        b = src[s++]!;
        literals += b;
      } while (b === 255);
    }
    if (literals > end - s) lz4Fail('literals run past the block');
    s += literals;
    out += literals;
    if (out > maxBlock) lz4Fail('block inflates past its maximum size');
    if (s === end) return out; // the last sequence has literals only
    if (end - s < 2) lz4Fail('block ends inside a match offset');
    const offset = src[s]! | (src[s + 1]! << 8);
    s += 2;
    if (offset === 0 || offset > out + before) lz4Fail('match offset points before the output');
    let match = token & 15;
    if (match === 15) {
      let b: number;
      do {
        if (s >= end) lz4Fail('block ends inside a match length');
        b = src[s++]!;
        match += b;
      } while (b === 255);
    }
    out += match + LZ4_MIN_MATCH;
    if (out > maxBlock) lz4Fail('block inflates past its maximum size');
  }
}
