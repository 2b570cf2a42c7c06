// The Prometheus text exposition format (0.0.4), parsed strictly enough for a test to reject
// malformed output: TYPE before samples, label quoting and escapes, numeric values.
import assert from 'node:assert/strict';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseExposition(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line === '' || line.startsWith('# HELP ')) continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      assert.ok(!types.has(type[1]!), `line ${i + 1}: second TYPE for ${type[1]}`);
      types.set(type[1]!, type[2]!);
      continue;
    }
    assert.ok(!line.startsWith('#'), `line ${i + 1}: unexpected comment ${line}`);
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/.exec(line);
    assert.ok(m, `line ${i + 1} is not a sample: ${line}`);
    const labels: Record<string, string> = {};
    const body = m[2] ?? '';
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/y;
    for (let at = 0; at < body.length; ) {
      re.lastIndex = at;
      const l = re.exec(body);
      assert.ok(l, `line ${i + 1}: bad labels ${body}`);
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      at = re.lastIndex;
    }
    const raw = m[3]!;
    // As Prometheus reads values (Go's ParseFloat): NaN and Inf in any case; prom-client writes `Nan`.
    const special = /^(nan)$|^([+-]?)inf(inity)?$/i.exec(raw);
    const value = special ? (special[1] ? NaN : special[2] === '-' ? -Infinity : Infinity) : Number(raw);
    assert.ok(special || (raw !== '' && !Number.isNaN(value)), `line ${i + 1}: bad value ${raw}`);
    const family = [m[1]!, m[1]!.replace(/_(bucket|sum|count)$/, '')].find((f) => types.has(f));
    assert.ok(family, `line ${i + 1}: ${m[1]} has no TYPE line before it`);
    samples.push({ name: m[1]!, labels, value });
  }
  return { types, samples };
}

export const find = (samples: Sample[], name: string, labels: Record<string, string>) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

export function one(samples: Sample[], name: string, labels: Record<string, string>): number {
  const hits = find(samples, name, labels);
  assert.equal(hits.length, 1, `exactly one ${name} ${JSON.stringify(labels)}; got ${JSON.stringify(hits)}`);
  return hits[0]!.value;
}
