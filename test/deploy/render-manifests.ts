/**
 * `npm run render:manifests`: copies crds/ into the chart, regenerates the chart README's values
 * table and manifests/install.yaml. Uses HELM_BIN, else the helm `npm run infra` builds.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { helmBinary } from '../infra/helm.js';
import { chartCrdDir, chartReadme, crdSources, installManifest, readmeWithValuesTable, renderInstallManifest } from './chart.js';

const sources = crdSources();
mkdirSync(chartCrdDir, { recursive: true });
for (const file of readdirSync(chartCrdDir)) if (!sources.has(file)) rmSync(join(chartCrdDir, file));
for (const [file, text] of sources) writeFileSync(join(chartCrdDir, file), text);
writeFileSync(chartReadme, readmeWithValuesTable());
mkdirSync(dirname(installManifest), { recursive: true });
writeFileSync(installManifest, await renderInstallManifest(await helmBinary()));
process.stderr.write(`rendered ${chartCrdDir}, ${chartReadme} and ${installManifest}\n`);
