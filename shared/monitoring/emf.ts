// CloudWatch embedded metric format: each record is written to stdout as one JSON line, which
// Lambda's log pipeline turns into metrics (namespace Ferry) with no API call and no agent.
// On when running as a Lambda function or when FERRY_EMF is set (config.emf); otherwise a no-op,
// so the local runtime stays quiet.
import { useLocalEmfSink, type FerryConfig } from '../config.ts';
import type { Logger } from '../log.ts';
import { emfLine, type EmfRecord } from './emf-records.ts';

const EMF_NAMESPACE = 'Ferry';

export interface EmfWriter {
  readonly enabled: boolean;
  /** Never throws: monitoring must not fail an invocation. */
  write(records: readonly EmfRecord[]): Promise<void>;
}

type EmfLibrary = typeof import('aws-embedded-metrics');
let library: Promise<EmfLibrary> | undefined;

function loadLibrary(onLambda: boolean): Promise<EmfLibrary> {
  if (!onLambda) useLocalEmfSink();
  // Loaded on first use only, so a process with EMF off never starts that detection at all.
  library ??= import('aws-embedded-metrics');
  return library;
}

const disabled: EmfWriter = { enabled: false, write: async () => undefined };

export function emfWriter(config: Pick<FerryConfig, 'emf' | 'onLambda'>, log: Logger): EmfWriter {
  if (!config.emf) return disabled;
  return {
    enabled: true,
    async write(records) {
      try {
        const { createMetricsLogger } = await loadLibrary(config.onLambda);
        for (const r of records) {
          if (r.distributions?.length) {
            // Straight to stdout, where the library's console sink writes too (Lambda ships it as is).
            process.stdout.write(`${emfLine(r, EMF_NAMESPACE, Date.now())}\n`);
            continue;
          }
          const m = createMetricsLogger();
          m.setNamespace(EMF_NAMESPACE);
          // Our dimension sets replace the library's defaults (LogGroup, ServiceName, ServiceType).
          m.setDimensions(r.dimensions.map((d) => ({ ...d })));
          for (const metric of r.metrics) m.putMetric(metric.name, metric.value, metric.unit);
          for (const [k, v] of Object.entries(r.properties)) m.setProperty(k, v);
          await m.flush();
        }
      } catch (err) {
        log.warn({ err }, 'could not write EMF metrics');
      }
    },
  };
}
