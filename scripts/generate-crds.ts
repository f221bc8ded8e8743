/** Writes crds/ from the one source spec (src/sources/source-spec.ts). `npm run generate:crds`. */
import { writeFileSync } from 'node:fs';
import { renderWebhookSourceCrd } from '../src/kubernetes/webhook-source-crd.js';

const path = 'crds/triagewarden.io_webhooksources.yaml';
writeFileSync(path, renderWebhookSourceCrd());
console.log(`wrote ${path}`);
