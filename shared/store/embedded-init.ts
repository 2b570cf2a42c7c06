// Creating a new PGlite data directory (initdb) takes a second WASM instance and a copy of the
// database's heap: ~600 MB that a process does not give back to the system. Done in a short-lived
// child process instead, that memory goes with it; the store then opens the ready directory like
// any later start.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

// Open the directory (which runs initdb), then close it. Arguments: PGlite's module URL, the
// directory, the start parameters as JSON.
const INIT_SCRIPT = `
const [pglite, dataDir, startParams] = process.argv.slice(1);
process.umask(0o077);
const { PGlite } = await import(pglite);
const db = await PGlite.create(dataDir, { startParams: JSON.parse(startParams) });
await db.close();
`;

/** True once the directory holds a database (initdb writes PG_VERSION). */
export const isInitialized = (dataDir: string): boolean => existsSync(join(dataDir, 'PG_VERSION'));

/** Runs initdb for `dataDir` in a child process and waits for it. */
export function initializeInChild(dataDir: string, startParams: readonly string[]): Promise<void> {
  const pglite = import.meta.resolve('@electric-sql/pglite');
  const args = ['--input-type=module', '--eval', INIT_SCRIPT, pglite, dataDir, JSON.stringify(startParams)];
  return new Promise((resolve, reject) => {
    // No execArgv: the child is plain JavaScript and needs no loader.
    execFile(process.execPath, args, { maxBuffer: 4 * 1024 * 1024 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`creating the embedded database in ${dataDir} failed: ${stderr.trim() || err.message}`));
      else resolve();
    });
  });
}
