import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it, type TestContext } from 'node:test';
import { pino } from 'pino';
import { ConfigError } from '../../../src/config/config-error.js';
import { FileSourceProvider, type FileSourceProviderOptions } from '../../../src/providers/file.js';
import { waitFor } from '../../helpers/wait.js';

const ENV = { EDR_SECRET: 'edr-secret' };
const config = (...names: string[]) => `sources:\n${names.map((name) => `  ${name}:\n    secret: "\${EDR_SECRET}"\n`).join('')}`;

interface LogLine {
  level: number;
  msg: string;
  problem?: string;
}

let dir: string;
let path: string;
let provider: FileSourceProvider | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tw-file-provider-'));
  path = join(dir, 'webhook_config.yaml');
});

afterEach(async () => {
  await provider?.stop();
  provider = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** A started-or-not provider whose emitted sets (as name lists) and log lines the test can read. */
function watch(options: Partial<FileSourceProviderOptions> = {}) {
  const sets: string[][] = [];
  const logs: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => logs.push(JSON.parse(line) as LogLine) });
  provider = new FileSourceProvider({ path, env: ENV, logger, debounceMs: 20, pollIntervalMs: 60_000, ...options });
  provider.onChange((claims) => sets.push(claims.map((claim) => claim.name)));
  return { provider, sets, logs, latest: () => sets.at(-1) };
}

/** Atomic replace, as editors and `kubectl cp`-style tools do it. */
async function replaceFile(text: string): Promise<void> {
  const temporary = `${path}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, path);
}

function eventually(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<true> {
  return waitFor(() => condition() || undefined, { message: what, timeoutMs, intervalMs: 10 });
}

/**
 * Runs `ticks` poll ticks of a provider whose setInterval is mocked (t.mock.timers), waiting for
 * each tick's reload to finish: the reloads are chained on the provider's private `reloading`
 * promise, read here so a test knows the ticks happened instead of sleeping and hoping.
 */
async function pollTicks(t: TestContext, target: FileSourceProvider, ticks: number, intervalMs: number): Promise<void> {
  for (let i = 0; i < ticks; i++) {
    t.mock.timers.tick(intervalMs);
    await (target as unknown as { reloading: Promise<void> }).reloading;
  }
}

describe('file provider: start-up', () => {
  it('loads the file, emits its set and reports synced', async () => {
    await writeFile(path, config('edr', 'siem'));
    const { provider, sets } = watch();
    assert.equal(provider.synced(), false);
    await provider.start();
    assert.equal(provider.synced(), true);
    assert.deepEqual(sets, [['edr', 'siem']]);
  });

  it('claims each source undated, with the file origin and expanded secrets', async () => {
    await writeFile(path, config('edr'));
    const { provider } = watch();
    const seen: { origin: string; claimedAt: number | undefined; secret: string | undefined }[] = [];
    provider.onChange((claims) =>
      seen.push(...claims.map(({ origin, claimedAt, source }) => ({ origin, claimedAt, secret: source.ok ? source.value.secrets[0]!.toString() : undefined }))),
    );
    await provider.start();
    assert.deepEqual(seen, [{ origin: `file:${path}`, claimedAt: undefined, secret: 'edr-secret' }]);
  });

  it('refuses to start on a bad file, naming the unset variable', async () => {
    await writeFile(path, config('edr'));
    const { provider, sets } = watch({ env: {} });
    await assert.rejects(provider.start(), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.message, `file:${path}: sources.edr.secret: environment variable EDR_SECRET is not set`);
      return true;
    });
    assert.equal(provider.synced(), false);
    assert.deepEqual(sets, []);
  });

  it('refuses to start when the file is missing, unless missing is allowed', async () => {
    await assert.rejects(watch().provider.start(), /file not found/);
    const { provider, sets, logs } = watch({ allowMissing: true });
    await provider.start();
    assert.equal(provider.synced(), true);
    assert.deepEqual(sets, [[]]);
    assert.ok(logs.some((line) => line.level === 40 && /not found/.test(line.msg)));
  });

  it('picks the file up once it appears when it was allowed to be missing', async () => {
    const { provider, latest } = watch({ allowMissing: true });
    await provider.start();
    await replaceFile(config('edr'));
    await eventually('the new file is loaded', () => latest()?.[0] === 'edr');
  });
});

describe('file provider: reloads', () => {
  it('reloads when the file is replaced by rename', async () => {
    await writeFile(path, config('edr'));
    const { provider, latest } = watch();
    await provider.start();
    await replaceFile(config('edr', 'siem'));
    await eventually('the new set is emitted', () => latest()?.length === 2);
    assert.deepEqual(latest(), ['edr', 'siem']);
  });

  it('reloads when the file is rewritten in place', async () => {
    await writeFile(path, config('edr'));
    const { provider, latest } = watch();
    await provider.start();
    await writeFile(path, config('siem'));
    await eventually('the new set is emitted', () => latest()?.[0] === 'siem');
  });

  it('follows a Kubernetes ConfigMap mount (..data symlink swap)', async () => {
    // The kubelet's layout: webhook_config.yaml → ..data/webhook_config.yaml, ..data → ..<timestamp>/
    await mkdir(join(dir, '..v1'));
    await writeFile(join(dir, '..v1', 'webhook_config.yaml'), config('edr'));
    await symlink('..v1', join(dir, '..data'));
    await symlink(join('..data', 'webhook_config.yaml'), path);
    const { provider, latest } = watch();
    await provider.start();
    assert.deepEqual(latest(), ['edr']);

    await mkdir(join(dir, '..v2'));
    await writeFile(join(dir, '..v2', 'webhook_config.yaml'), config('siem'));
    await symlink('..v2', join(dir, '..data_tmp'));
    await rename(join(dir, '..data_tmp'), join(dir, '..data'));
    await rm(join(dir, '..v1'), { recursive: true });
    await eventually('the swapped set is emitted', () => latest()?.[0] === 'siem');
  });

  it('keeps serving the last good set after a bad edit, logs it once, and recovers on the fix', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    await writeFile(path, config('edr'));
    const { provider, sets, logs, latest } = watch({ pollIntervalMs: 30 });
    await provider.start();
    await replaceFile(`${config('edr')}    secrte: oops\n`);
    await eventually('the rejection is logged', () => logs.some((line) => line.level === 50));
    await pollTicks(t, provider, 5, 30); // several poll ticks over the same bad file
    const rejections = logs.filter((line) => line.level === 50);
    assert.equal(rejections.length, 1);
    assert.match(rejections[0]!.problem ?? '', /sources\.edr: unknown key 'secrte'/);
    assert.deepEqual(sets, [['edr']], 'nothing emitted: the registry keeps the last good set');

    await replaceFile(config('edr', 'siem'));
    await eventually('the fixed file is loaded', () => latest()?.length === 2);
  });

  it('keeps the last good set when the file disappears', async () => {
    await writeFile(path, config('edr'));
    const { provider, sets, logs } = watch();
    await provider.start();
    await unlink(path);
    await eventually('the disappearance is logged', () => logs.some((line) => /disappeared/.test(line.msg)));
    assert.deepEqual(sets, [['edr']]);
  });

  it('falls back to polling when filesystem events are lost', async () => {
    await writeFile(path, config('edr'));
    // A debounce longer than the test: only the poll can notice the change.
    const { provider, latest } = watch({ debounceMs: 60_000, pollIntervalMs: 30 });
    await provider.start();
    await replaceFile(config('siem'));
    await eventually('the poll loads the change', () => latest()?.[0] === 'siem');
  });

  it('does not emit for events that leave the text unchanged', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    await writeFile(path, config('edr'));
    const { provider, sets, latest } = watch({ pollIntervalMs: 30 });
    await provider.start();
    await replaceFile(config('edr'));
    await writeFile(join(dir, 'unrelated.txt'), 'x');
    await pollTicks(t, provider, 3, 30);
    assert.deepEqual(sets, [['edr']]);
    // A real change afterwards is emitted, and alone: the events before it were seen and skipped.
    await replaceFile(config('siem'));
    await eventually('the real change is emitted', () => latest()?.[0] === 'siem');
    assert.deepEqual(sets, [['edr'], ['siem']]);
  });

  it('stops watching after stop()', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    await writeFile(path, config('edr'));
    const { provider, sets } = watch({ pollIntervalMs: 30 });
    await provider.start();
    await provider.stop();
    // A second provider, still watching, shows when the first would have seen the change.
    const witness = new FileSourceProvider({ path, env: ENV, logger: pino({ level: 'silent' }), debounceMs: 20, pollIntervalMs: 30 });
    const witnessed: string[][] = [];
    witness.onChange((sources) => witnessed.push(sources.map((source) => source.name)));
    await witness.start();
    try {
      await replaceFile(config('siem'));
      await pollTicks(t, provider, 3, 30);
      await eventually('the watching provider sees the change', () => witnessed.at(-1)?.[0] === 'siem');
      assert.deepEqual(sets, [['edr']]);
    } finally {
      await witness.stop();
    }
  });
});
