import { readFileSync } from 'node:fs';
import { REPO_ROOT } from './env.js';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  where: string;
  self_ms: number;
  self_pct: number;
}

export interface ProfileSummary {
  file: string;
  duration_ms: number;
  samples: number;
  /** share of samples in which the main thread ran JavaScript or native code (not idle) */
  busy_pct: number;
  top_functions: SelfTime[];
  /** self time grouped by npm package, repo library, Node internals or V8 category */
  by_module: { module: string; self_ms: number; self_pct: number }[];
  /** our own functions (libs/, apps/) by inclusive time: samples whose synchronous stack contains them */
  top_own_inclusive: { name: string; where: string; total_ms: number; total_pct: number }[];
}

/** Where a frame's code lives: an npm package, one of our libs/apps, Node itself, or a V8 category. */
export function moduleOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) {
    if (/^\((garbage collector|idle|program|root)\)$/.test(functionName)) return functionName;
    return '(native)';
  }
  if (url.startsWith('node:')) {
    // node:internal/deps/undici/undici -> node:internal/deps/undici (fetch); node:internal/webstreams/x -> node:internal/webstreams
    const parts = url.slice(5).split('/');
    if (parts[0] !== 'internal') return `node:${parts[0]}`;
    const group = parts[1] === 'deps' ? `deps/${parts[2]}` : parts[1]!;
    return `node:internal/${group}${group === 'deps/undici' ? ' (fetch)' : ''}`;
  }
  const path = url.replace(/^file:\/\//, '');
  const nodeModules = path.lastIndexOf('/node_modules/');
  if (nodeModules >= 0) {
    const parts = path.slice(nodeModules + '/node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (path.startsWith(REPO_ROOT)) {
    const parts = path.slice(REPO_ROOT.length).split('/');
    if (parts[0] === 'libs' || parts[0] === 'apps') return `@sps/${parts[1]}`;
    return parts.slice(0, 2).join('/');
  }
  return path;
}

function isOwn(frame: CallFrame): boolean {
  const path = frame.url.replace(/^file:\/\//, '');
  return (
    path.startsWith(REPO_ROOT) &&
    !path.includes('/node_modules/') &&
    /^(libs|apps)\//.test(path.slice(REPO_ROOT.length))
  );
}

function where(frame: CallFrame): string {
  if (!frame.url) return '';
  const path = frame.url.replace(/^file:\/\//, '');
  const nodeModules = path.lastIndexOf('/node_modules/');
  if (nodeModules >= 0) return `${path.slice(nodeModules + '/node_modules/'.length)}:${frame.lineNumber + 1}`;
  // tsx's transpiled repo sources do not keep line numbers: the file names the place
  if (path.startsWith(REPO_ROOT)) return path.slice(REPO_ROOT.length);
  return `${path}:${frame.lineNumber + 1}`;
}

/**
 * Self time per function of a V8 .cpuprofile (Chrome DevTools format, as `--cpu-prof` or the
 * inspector's Profiler.stop write it): each sample is charged to the node on top of the stack, with
 * the time delta that follows it.
 */
export function summariseProfile(file: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(profile.samples[i]!, (selfUs.get(profile.samples[i]!) ?? 0) + Math.max(0, delta));
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0) || 1;
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const byFunction = new Map<string, SelfTime>();
  const byModule = new Map<string, number>();
  let idle = 0;
  // Native frames (socket writes, JSON, crypto) are charged to the nearest caller outside Node's
  // own JavaScript, so that "(native)" says whose I/O it was: e.g. "(native) via pino".
  const nativeVia = (id: number): string => {
    for (let node = parents.get(id); node !== undefined; node = parents.get(node)) {
      const frame = nodes.get(node)!.callFrame;
      if (frame.url && !frame.url.startsWith('node:')) return `(native) via ${moduleOf(frame)}`;
    }
    return '(native)';
  };
  for (const [id, us] of selfUs) {
    const frame = nodes.get(id)!.callFrame;
    const module = moduleOf(frame) === '(native)' ? nativeVia(id) : moduleOf(frame);
    if (module === '(idle)') idle += us;
    byModule.set(module, (byModule.get(module) ?? 0) + us);
    const name = frame.functionName || '(anonymous)';
    const key = `${name}@${frame.url}:${frame.lineNumber}`;
    const entry = byFunction.get(key) ?? { name, where: where(frame), self_ms: 0, self_pct: 0 };
    entry.self_ms += us / 1000;
    byFunction.set(key, entry);
  }
  // Percentages are of busy time (the samples where the main thread was not idle).
  const busy = total - idle || 1;
  const pct = (us: number) => Math.round((us / busy) * 1000) / 10;
  const inclusive = new Map<string, { name: string; where: string; us: number }>();
  for (const [id, us] of selfUs) {
    const seen = new Set<string>();
    for (let node: number | undefined = id; node !== undefined; node = parents.get(node)) {
      const frame = nodes.get(node)!.callFrame;
      if (!isOwn(frame)) continue;
      const name = frame.functionName || '(anonymous)';
      const key = `${name}@${frame.url}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const entry = inclusive.get(key) ?? { name, where: where(frame), us: 0 };
      entry.us += us;
      inclusive.set(key, entry);
    }
  }
  return {
    file: file.startsWith(REPO_ROOT) ? file.slice(REPO_ROOT.length) : file,
    duration_ms: Math.round((profile.endTime - profile.startTime) / 1000),
    samples: profile.samples.length,
    busy_pct: Math.round((busy / total) * 1000) / 10,
    top_functions: [...byFunction.values()]
      .filter((entry) => entry.name !== '(idle)')
      .sort((a, b) => b.self_ms - a.self_ms)
      .slice(0, top)
      .map((entry) => ({
        ...entry,
        self_ms: Math.round(entry.self_ms),
        self_pct: pct(entry.self_ms * 1000),
      })),
    by_module: [...byModule.entries()]
      .filter(([module]) => module !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([module, us]) => ({ module, self_ms: Math.round(us / 1000), self_pct: pct(us) })),
    top_own_inclusive: [...inclusive.values()]
      .filter((entry) => entry.name !== '(anonymous)')
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((entry) => ({
        name: entry.name,
        where: entry.where,
        total_ms: Math.round(entry.us / 1000),
        total_pct: pct(entry.us),
      })),
  };
}
