// Entry of the `ferry` command (bin/ferry.mjs loads it): run and exit with run()'s code.
import { processIo, run } from './program.ts';

process.exitCode = await run(process.argv.slice(2), processIo());
