// The HTTP part of the floor benchmark (bench/floor.ts): a bare Fastify route in its own process
// (bench/lib/floor-fastify-server.ts), driven by autocannon like bench:overhead drives ingest-api.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { log, REPO_ROOT } from './env.js';
import { runMetered, type LoadFigures } from './load.js';
import type { CpuShare } from './procs.js';

export interface HttpFloorRun extends LoadFigures {
  cpu: CpuShare;
}

export interface HttpFloorResult {
  fastify: string | undefined;
  route: string;
  warmup_s: number;
  duration_s: number;
  runs: Record<string, HttpFloorRun>;
}

export interface FloorProcess {
  /** what the process printed in its readiness line's first group (e.g. its URL) */
  ready: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Runs a TypeScript file of bench/lib as a process of its own (node --import tsx), resolving once
 * its stdout matches `ready`; its stderr goes to this process's.
 */
export async function startFloorProcess(
  script: string,
  options: { name: string; ready: RegExp; env?: Record<string, string>; timeoutMs?: number },
): Promise<FloorProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let out = '';
  const timeoutMs = options.timeoutMs ?? 30_000;
  const ready = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${options.name} not ready after ${timeoutMs} ms: ${out}`));
    }, timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = options.ready.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] ?? match[0]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${options.name} exited with ${code}: ${out}`));
    });
  });
  return {
    ready,
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The bare Fastify app (bench/lib/floor-fastify-server.ts) in its own process. */
export async function startBareFastify(): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const proc = await startFloorProcess('bench/lib/floor-fastify-server.ts', {
    name: 'bare Fastify',
    ready: /listening on (http:\/\/\S+)/,
    env: { PORT: '0' },
  });
  return { url: proc.ready, pid: proc.pid, stop: () => proc.stop() };
}

export async function measureHttpFloor(options: {
  connections: number[];
  warmupS: number;
  durationS: number;
}): Promise<HttpFloorResult> {
  const server = await startBareFastify();
  try {
    const target = {
      name: 'bare-fastify',
      url: `${server.url}/floor`,
      headers: { authorization: 'Bearer sk-floor' },
      body: (i: number) => JSON.stringify({ prompt: `Extract key details from Invoice #${i}` }),
    };
    const runs: Record<string, HttpFloorRun> = {};
    for (const connections of options.connections) {
      const { figures, cpu } = await runMetered(target, connections, options.durationS, {
        warmupS: options.warmupS,
        groups: [
          { name: 'fastify', pid: server.pid },
          { name: 'load-generator', pid: process.pid },
        ],
      });
      runs[String(connections)] = { ...figures, cpu };
      log(
        `bare Fastify c=${connections}: ${figures.requests_per_s} req/s p50 ${figures.p50_ms} p99 ${figures.p99_ms} ms; fastify ${cpu.cores.fastify} cores, load generator ${cpu.cores['load-generator']}, other ${cpu.other_cores}`,
      );
    }
    return {
      fastify: (
        JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules/fastify/package.json'), 'utf8')) as {
          version: string;
        }
      ).version,
      route:
        'POST /floor, JSON body parsed, small JSON answered; Fastify({ logger: false }), no plugins, own process',
      warmup_s: options.warmupS,
      duration_s: options.durationS,
      runs,
    };
  } finally {
    await server.stop();
  }
}
