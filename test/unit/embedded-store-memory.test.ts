// The embedded store's memory settings: a new data directory is created (initdb) in a child
// process, whose memory goes with it, and PostgreSQL runs with a small buffer cache. An existing
// directory is opened as it is.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { EmbeddedDatabase } from '../../shared/store/embedded.ts';
import { isInitialized } from '../../shared/store/embedded-init.ts';

describe('embedded store memory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-embedded-mem-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a new directory in a child process, then opens it here with 16MB of shared buffers', async () => {
    assert.equal(isInitialized(dir), false);
    const db = await EmbeddedDatabase.open(dir);
    try {
      assert.ok(existsSync(join(dir, 'PG_VERSION')));
      assert.equal(isInitialized(dir), true);
      const [row] = await db.query<{ sb: string }>("SELECT current_setting('shared_buffers') AS sb");
      assert.equal(row?.sb, '16MB');
      await db.exec('CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)');
    } finally {
      await db.close();
    }
  });

  it('opens an existing directory as it is, with what was written', async () => {
    const db = await EmbeddedDatabase.open(dir);
    try {
      assert.deepEqual(await db.query('SELECT v FROM kept'), [{ v: 42 }]);
      const [row] = await db.query<{ sb: string }>("SELECT current_setting('shared_buffers') AS sb");
      assert.equal(row?.sb, '16MB');
    } finally {
      await db.close();
    }
  });
});
