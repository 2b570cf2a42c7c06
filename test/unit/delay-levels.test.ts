// Delay levels as brokers define them (messageDelayLevel) and the choices failover makes with them:
// when a schedule-topic message is due, and which level a 4.x target gets for the time left.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_DELAY_LEVELS, dueOfLevel, nearestLevel, parseDelayLevels } from '../../shared/rocketmq/delay-levels.ts';

describe('delay levels', () => {
  const levels = parseDelayLevels(DEFAULT_DELAY_LEVELS);

  it("parses the broker's table: 18 levels, 1 s to 2 h, in every unit", () => {
    assert.equal(levels.length, 18);
    assert.deepEqual(levels.slice(0, 5), [1000, 5000, 10_000, 30_000, 60_000]);
    assert.equal(levels.at(-1), 7_200_000);
    assert.deepEqual(parseDelayLevels('2s 1d'), [2000, 86_400_000]);
  });

  it('falls back to the default table on text it cannot read, never on a partial one', () => {
    for (const bad of [undefined, '', '1s 5x', '1s -5s', 'soon']) assert.deepEqual(parseDelayLevels(bad), levels, String(bad));
  });

  it('a message of level L is due its level delay after its store time; an unknown level has no due time', () => {
    assert.equal(dueOfLevel(levels, 4, 1_000_000), 1_030_000);
    assert.equal(dueOfLevel(levels, 1, 5), 1005);
    assert.equal(dueOfLevel(levels, 19, 5), undefined);
    assert.equal(dueOfLevel(levels, 0, 5), undefined);
  });

  it('picks the level nearest the time left (the shorter on a tie), or none when now is nearer', () => {
    assert.equal(nearestLevel(levels, 30_000), 4);
    assert.equal(nearestLevel(levels, 21_000), 4); // 30 s is 9 s away, 10 s is 11 s away
    assert.equal(nearestLevel(levels, 20_000), 3); // a tie: 10 s and 30 s are both 10 s away
    assert.equal(nearestLevel(levels, 400), 0);
    assert.equal(nearestLevel(levels, 600), 1);
    assert.equal(nearestLevel(levels, -5000), 0);
    assert.equal(nearestLevel(levels, 10 * 3_600_000), 18);
  });
});
