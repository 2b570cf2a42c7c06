// Builds the web console into console/dist: index.html naming one content-hashed JS bundle and one
// CSS file under assets/. Run by `npm run build:console` (and before `npm start` / `npm test`), by
// the serverless package step (esbuild-plugins.cjs) and by the console browser test.
import { build, type Plugin } from 'esbuild';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const here = import.meta.dirname;
export const CONSOLE_DIST = join(here, 'dist');

// The API's ReDoS check (recheck) is megabytes of compiled Scala; the browser gets a stand-in and
// the API answers for pattern safety (see src/redos-browser.ts).
const browserRedos: Plugin = {
  name: 'ferry-browser-redos',
  setup(b) {
    b.onResolve({ filter: /\/redos\.ts$/ }, (args) =>
      args.importer.includes(join('shared', 'filter')) ? { path: join(here, 'src', 'redos-browser.ts') } : undefined,
    );
  },
};

// zod's namespace object carries every message locale (~250 KB minified) and cannot be tree-shaken;
// the console words its messages in English through the schemas' own texts, as the API does.
const noZodLocales: Plugin = {
  name: 'ferry-no-zod-locales',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]/.test(args.importer) ? { path: 'zod-locales', namespace: 'ferry-empty' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'ferry-empty' }, () => ({ contents: 'export {};', loader: 'js' }));
  },
};

export interface ConsoleBuild {
  outDir: string;
  files: { path: string; bytes: number }[];
}

export async function buildConsole(outDir: string = CONSOLE_DIST): Promise<ConsoleBuild> {
  const assets = join(outDir, 'assets');
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(assets, { recursive: true });
  const result = await build({
    entryPoints: [join(here, 'src', 'main.tsx')],
    outdir: assets,
    entryNames: '[name]-[hash]',
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: join(here, 'tsconfig.json'),
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    plugins: [browserRedos, noZodLocales],
  });
  const outputs = Object.entries(result.metafile.outputs).map(([path, o]) => ({ path, bytes: o.bytes }));
  const js = outputs.find((o) => o.path.endsWith('.js'));
  const css = outputs.find((o) => o.path.endsWith('.css'));
  if (!js || !css) throw new Error(`console build produced ${outputs.map((o) => o.path).join(', ')}`);
  const icon =
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' height='16' rx='3' " +
    "fill='%232563eb'/%3E%3Cpath d='M3 10h10l-2 3H5z' fill='white'/%3E%3C/svg%3E";
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ferry console</title>
<link rel="icon" href="${icon}">
<link rel="stylesheet" href="/assets/${basename(css.path)}">
<script type="module" src="/assets/${basename(js.path)}"></script>
</head>
<body>
<div id="app"></div>
</body>
</html>
`;
  writeFileSync(join(outDir, 'index.html'), html);
  return {
    outDir,
    files: [
      ...outputs.map((o) => ({ path: join(process.cwd(), o.path), bytes: o.bytes })),
      { path: join(outDir, 'index.html'), bytes: html.length },
    ],
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const out = await buildConsole();
  for (const f of out.files) console.log(`${(f.bytes / 1024).toFixed(1).padStart(7)} KiB  ${f.path}`);
}
