// The house rules of the layout issue, checked on every run: small modules in shared/, thin handlers,
// settings read in one place, lines a reviewer can read. (Import direction: `npm run lint:deps`.)
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

const root = join(import.meta.dirname, '..', '..');
const SKIP = new Set(['node_modules', 'dist', 'target', '.git', '.ferry', 'fixtures']);

function sources(dir: string, exts = ['.ts', '.tsx', '.mjs', '.cjs']): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return SKIP.has(e.name) ? [] : sources(path, exts);
    return exts.some((x) => e.name.endsWith(x)) ? [path] : [];
  });
}

const lines = (file: string) => readFileSync(join(root, file), 'utf8').split('\n');
const product = [...sources('shared'), ...sources('functions'), ...sources('infra')];

describe('layout rules', () => {
  it('no module in shared/ is over 500 lines', () => {
    const big = sources('shared').filter((f) => lines(f).length > 500);
    assert.deepEqual(big, []);
  });

  it('every function handler is at most 60 lines', () => {
    const handlers = sources('functions').filter((f) => f.endsWith('handler.ts'));
    assert.ok(handlers.length >= 4, `found ${handlers.join(', ')}`);
    assert.deepEqual(
      handlers.filter((f) => lines(f).length > 60),
      [],
    );
  });

  it('the environment is read only in shared/config.ts', () => {
    const readers = product.filter((f) => f !== join('shared', 'config.ts') && /process\.env\b/.test(readFileSync(join(root, f), 'utf8')));
    assert.deepEqual(readers, []);
  });

  it('no source line is over 140 characters', () => {
    const files = [...product, ...sources('test'), ...sources('console/src', ['.ts', '.tsx', '.css']), ...sources('bin')];
    const long = files.flatMap((f) => lines(f).flatMap((l, i) => (l.length > 140 ? [`${relative(root, join(root, f))}:${i + 1}`] : [])));
    assert.deepEqual(long, []);
  });
});
