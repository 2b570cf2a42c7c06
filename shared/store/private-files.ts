// The embedded store's data directory holds every task definition (secrets sealed, but still) and
// the token hashes: it is the operator's alone — directories 0700, files 0600 — including a
// directory an older Ferry created with looser modes.
import { chmod, lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Sets the modes on `dir` and everything under it (symbolic links are left alone, not followed). */
export async function makePrivate(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  await chmod(dir, PRIVATE_DIR_MODE);
  const entries = await readdir(dir, { withFileTypes: true });
  await Promise.all(
    entries.map(async (e) => {
      const path = join(dir, e.name);
      if (e.isDirectory()) return makePrivate(path).catch(ignoreMissing);
      if (!e.isFile()) return;
      // A file may vanish between listing and chmod (PostgreSQL removes temporary files).
      const mode = (await lstat(path).catch(() => undefined))?.mode;
      if (mode !== undefined && (mode & 0o777) !== PRIVATE_FILE_MODE) await chmod(path, PRIVATE_FILE_MODE).catch(() => undefined);
    }),
  );
}

const ignoreMissing = (err: unknown): void => {
  if ((err as { code?: unknown } | null)?.code !== 'ENOENT') throw err;
};
