import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cacheDir, progress } from './build.js';
import { versions } from './versions.js';

const run = promisify(execFile);
const MODULE = 'github.com/prometheus-operator/prometheus-operator';
/** The kinds the chart renders; the operator's own example folder is the upstream source of their CRDs. */
const CRD_FILES = ['monitoring.coreos.com_servicemonitors.yaml', 'monitoring.coreos.com_prometheusrules.yaml'];

/**
 * PROMETHEUS_OPERATOR_CRDS when set, else a cache folder holding the ServiceMonitor and
 * PrometheusRule CRDs of the pinned prometheus-operator release, taken from its Go module
 * (`go mod download`, through the module proxy like the other test servers).
 */
export async function prometheusOperatorCrds(): Promise<string> {
  if (process.env.PROMETHEUS_OPERATOR_CRDS) return process.env.PROMETHEUS_OPERATOR_CRDS;
  const folder = cacheDir(`prometheus-operator-crds-${versions.prometheusOperator}`);
  if (CRD_FILES.every((file) => existsSync(join(folder, file)))) return folder;
  progress(`downloading ${MODULE}@${versions.prometheusOperator} for its CRDs (only when missing)`);
  const { stdout } = await run('go', ['mod', 'download', '-json', `${MODULE}@${versions.prometheusOperator}`], {
    maxBuffer: 1 << 20,
    env: { ...process.env, GOFLAGS: '-mod=mod' },
  });
  const { Dir: moduleDir, Error: failure } = JSON.parse(stdout) as { Dir?: string; Error?: string };
  if (!moduleDir) throw new Error(`go mod download ${MODULE}@${versions.prometheusOperator} failed: ${failure ?? stdout}`);
  // Filled beside the target and renamed, so an interrupted copy never looks complete.
  const partial = `${folder}.partial-${process.pid}`;
  mkdirSync(partial, { recursive: true });
  for (const file of CRD_FILES) copyFileSync(join(moduleDir, 'example', 'prometheus-operator-crd', file), join(partial, file));
  rmSync(folder, { recursive: true, force: true });
  renameSync(partial, folder);
  return folder;
}
