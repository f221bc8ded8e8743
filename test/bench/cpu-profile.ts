/** Where a target's time went: the self time per function of a V8 `.cpuprofile` (as `node --cpu-prof` writes it). */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  function: string;
  /** Where it is defined: a repo-relative path, a package, or node's internals. */
  location: string;
  selfMs: number;
  /** Share of the profile's busy (non-idle) time. */
  percent: number;
}

const repoRoot = resolve(import.meta.dirname, '../..');

function location(url: string, line: number): string {
  if (url === '') return '';
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('/node_modules/');
  const short = modules >= 0 ? path.slice(modules + 1) : path.startsWith(repoRoot) ? path.slice(repoRoot.length + 1) : path;
  return `${short}:${line + 1}`;
}

/**
 * The `top` functions by self time, and the same time summed per module (a file of ours or of
 * node's, or a package); `(idle)` is left out and not counted in the shares.
 */
export function topSelfTimes(profileFile: string, top: number): { functions: SelfTime[]; modules: SelfTime[]; busyMs: number } {
  const profile = JSON.parse(readFileSync(profileFile, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const functions = new Map<string, SelfTime>();
  const modules = new Map<string, SelfTime>();
  const add = (totals: Map<string, SelfTime>, name: string, where: string, ms: number) => {
    const key = `${name} ${where}`;
    const entry = totals.get(key) ?? { function: name, location: where, selfMs: 0, percent: 0 };
    entry.selfMs += ms;
    totals.set(key, entry);
  };
  let busyMs = 0;
  profile.samples.forEach((nodeId, index) => {
    const { functionName, url, lineNumber } = byId.get(nodeId)!.callFrame;
    if (functionName === '(idle)') return;
    const ms = (profile.timeDeltas[index] ?? 0) / 1000;
    busyMs += ms;
    const where = location(url, lineNumber);
    add(functions, functionName || '(anonymous)', where, ms);
    add(modules, '', moduleOf(where) || functionName, ms);
  });
  const ranked = (totals: Map<string, SelfTime>) =>
    [...totals.values()]
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top)
      .map((entry) => ({ ...entry, selfMs: Math.round(entry.selfMs), percent: Math.round((entry.selfMs / busyMs) * 1000) / 10 }));
  return { functions: ranked(functions), modules: ranked(modules), busyMs: Math.round(busyMs) };
}

/** `dist/normalize/time.js`, `node_modules/ajv` (the package), `node:internal/timers`: where a location lives. */
function moduleOf(where: string): string {
  const file = where.replace(/:\d+$/, '');
  const inPackage = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  return inPackage ? `node_modules/${inPackage[1]}` : file;
}
