// `npm run bench -- <name>`: runs test/bench/<name>.ts, whose default export measures and prints
// readable figures, then returns them; this runner prints them as ONE closing JSON line.
// Benchmarks measure; they never fail on a number.
import { readdirSync } from 'node:fs';

export type Bench = (args: string[]) => Promise<Record<string, number | string | null>>;

const available = readdirSync(import.meta.dirname)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
  .sort();

const [name, ...rest] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name>   (available: ${available.join(', ') || 'none'})`);
  process.exit(name ? 2 : 0);
}
const mod = (await import(`./${name}.ts`)) as { default: Bench };
const figures = await mod.default(rest);
console.log(JSON.stringify({ bench: name, ...figures }));
process.exit(0);
