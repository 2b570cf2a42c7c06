// `npm run deploy:tencent -- [--plan] --region ap-guangzhou …` (settings.ts lists the options; the
// steps are in docs/deployment.md). Applies with the deployer's TENCENTCLOUD_SECRETID/SECRETKEY;
// --plan needs no keys and prints what would be deployed, its last line one JSON document.
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { configuredKeys } from '../../shared/tencent-cloud/credentials.ts';
import { applyDeployment, planSummary } from './deploy.ts';
import { buildScfPackages, SCF_FUNCTIONS, type CodePackage, type ScfFunctionKey } from './package.ts';
import { sdkScfDeployApi } from './scf-api.ts';
import { parseDeploySettings, USAGE, type DeploySettings } from './settings.ts';

function prebuilt(dir: string): Record<ScfFunctionKey, CodePackage> {
  const out = {} as Record<ScfFunctionKey, CodePackage>;
  for (const fn of SCF_FUNCTIONS) {
    const zip = readFileSync(join(dir, `${fn}.zip`));
    out[fn] = { zip, sha256: createHash('sha256').update(zip).digest('hex') };
  }
  return out;
}

async function main(): Promise<number> {
  let s: DeploySettings;
  try {
    s = parseDeploySettings(process.argv.slice(2));
  } catch (err) {
    console.error(`error: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (s.plan) {
    const summary = planSummary(s, s.zips ? prebuilt(s.zips) : undefined);
    for (const f of summary.functions as { name: string; memory: number; timeout: number }[])
      console.log(`create or update function ${f.name} (${f.memory} MB, ${f.timeout} s) in ${s.region}/${s.namespace}`);
    for (const t of summary.triggers as { function: string; name: string; type: string }[])
      console.log(`create or update ${t.type} trigger ${t.name} of ${t.function}`);
    console.log(JSON.stringify(summary));
    return 0;
  }
  const keys = configuredKeys({});
  if (!keys) {
    console.error('error: no Tencent Cloud keys: set TENCENTCLOUD_SECRETID and TENCENTCLOUD_SECRETKEY (or use --plan)');
    return 2;
  }
  const code = s.zips ? prebuilt(s.zips) : await buildScfPackages();
  const api = await sdkScfDeployApi({ keys, region: s.region, endpoint: s.endpoint });
  const actions = await applyDeployment(s, api, code, { log: (line) => console.log(line) });
  if (actions.length === 0) console.log('nothing to change');
  console.log(JSON.stringify({ ...planSummary(s, code), actions }));
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const e = err as Error & { code?: string; requestId?: string };
    console.error(`error: ${e.code ? `${e.code}: ` : ''}${e.message}${e.requestId ? ` (request id ${e.requestId})` : ''}`);
    process.exit(1);
  },
);
