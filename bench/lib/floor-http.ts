// The HTTP part of the floor benchmark (bench/floor.ts): a bare Fastify route in its own process
// (bench/lib/floor-fastify-server.ts), driven by autocannon like bench:overhead drives ingest-api.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { log, REPO_ROOT, sleep } from './env.js';
import { runLoad, type LoadFigures } from './load.js';
import { cpuMeter, type CpuShare } from './procs.js';

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

async function startServer(): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/lib/floor-fastify-server.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`bare Fastify not listening after 30 s: ${out}`)),
      30_000,
    );
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`bare Fastify exited with ${code}: ${out}`)));
  });
  return {
    url,
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export async function measureHttpFloor(options: {
  connections: number[];
  warmupS: number;
  durationS: number;
}): Promise<HttpFloorResult> {
  const server = await startServer();
  try {
    const target = {
      name: 'bare-fastify',
      url: `${server.url}/floor`,
      headers: { authorization: 'Bearer sk-floor' },
      body: (i: number) => JSON.stringify({ prompt: `Extract key details from Invoice #${i}` }),
    };
    const runs: Record<string, HttpFloorRun> = {};
    for (const connections of options.connections) {
      await runLoad(target, connections, options.warmupS);
      await sleep(200);
      const meter = cpuMeter([
        { name: 'fastify', pid: server.pid },
        { name: 'load-generator', pid: process.pid },
      ]);
      const figures = await runLoad(target, connections, options.durationS);
      const cpu = meter.stop();
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
