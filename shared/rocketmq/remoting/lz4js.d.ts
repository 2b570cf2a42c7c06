// Types for the parts of lz4js 0.2.0 (plain CommonJS, ships no types) that Ferry uses.

declare module 'lz4js' {
  interface Lz4js {
    /**
     * Decodes one raw LZ4 block `src[sIndex, sIndex + sLength)` into `dst` from `dIndex`; returns the
     * index after the last byte written. Does not validate its input: callers must.
     */
    decompressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, dIndex: number): number;
    /** Whole LZ4 frame (no checksums, 4 MiB blocks). */
    compress(src: Uint8Array, maxSize?: number): Uint8Array;
    decompress(src: Uint8Array, maxSize?: number): Uint8Array;
  }
  const lz4js: Lz4js;
  export = lz4js;
}

declare module 'lz4js/xxh32.js' {
  /** XXH32 of `src[index, index + len)`, as an unsigned 32-bit number. */
  export function hash(seed: number, src: Uint8Array, index: number, len: number): number;
}
