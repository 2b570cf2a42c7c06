// Stands in for @node-rs/crc32 (a native addon esbuild cannot bundle) in grpc-client.mjs: the client
// checks received bodies with crc32(bytes) as an unsigned 32-bit number. crc-32 is plain JavaScript,
// so the same bundle runs on Lambda's Node 20 and SCF's Node 18.
import CRC32 from 'crc-32';

export const crc32 = (input, initialState = 0) => CRC32.buf(input, initialState) >>> 0;
