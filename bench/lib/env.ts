import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, homedir, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BENCH_DIR = join(REPO_ROOT, 'bench');
export const RESULTS_DIR = join(BENCH_DIR, 'results');
/** Raw artefacts of a run (logs, .cpuprofile files, generated configs); git-ignored. */
export const WORK_DIR = join(BENCH_DIR, '.work');
/** npm tools (autocannon, the Portkey gateway), installed by bench/setup.sh; git-ignored. */
export const TOOLS_DIR = join(BENCH_DIR, '.tools');
/**
 * The LiteLLM virtualenv lives outside the work tree (next to the Kafka jars of deploy/local): the
 * repo's `eslint .` lints dot-folders, and LiteLLM's wheel ships thousands of JavaScript files.
 */
export const CACHE_DIR =
  process.env.SPS_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'sps');
export const LITELLM_VENV = join(CACHE_DIR, 'bench', 'litellm-venv');

export interface StackEnv {
  KAFKA_BROKERS: string;
  DATABASE_URL: string;
  REDIS_URL: string;
}

/** `deploy/local/stack.sh start` (a no-op for what already runs), then its endpoints in process.env. */
export function ensureStack(): StackEnv {
  execFileSync('bash', [join(REPO_ROOT, 'deploy/local/stack.sh'), 'start'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const text = execFileSync('bash', [join(REPO_ROOT, 'deploy/local/stack.sh'), 'env'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match) env[match[1]!] = match[2]!;
  }
  for (const key of ['KAFKA_BROKERS', 'DATABASE_URL', 'REDIS_URL'] as const) {
    if (!env[key]) throw new Error(`stack.sh env printed no ${key}`);
    process.env[key] = env[key];
  }
  return env as unknown as StackEnv;
}

/** A topic prefix and consumer-group stem of our own, so the shared stack's other users are untouched. */
export function benchPrefix(name: string): string {
  return `bench-${name}-${randomBytes(3).toString('hex')}.`;
}

export function ensureDir(path: string): string {
  mkdirSync(path, { recursive: true });
  return path;
}

export function writeResult(name: string, result: unknown): string {
  const path = join(ensureDir(RESULTS_DIR), `${name}.json`);
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
  return path;
}

export function log(...parts: unknown[]): void {
  const time = new Date().toISOString().slice(11, 19);
  console.log(`[bench ${time}]`, ...parts);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function safe<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** The process of the Kafka broker that listens on `brokers`' first port: its pid and command line. */
export function brokerProcess(brokers: string): { pid: string; cmdline: string[] } | undefined {
  const port = brokers.split(',')[0]?.split(':')[1] ?? '19092';
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    const cmdline =
      safe(() => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean)) ?? [];
    if (!cmdline.includes('kafka.Kafka')) continue;
    // The broker's last argument is its server.properties, which names its listeners.
    const config = safe(() => readFileSync(cmdline.at(-1) ?? '', 'utf8')) ?? '';
    if (config.includes(`:${port}`)) return { pid, cmdline };
  }
  return undefined;
}

/** The version of the Kafka broker that listens on the configured port, read from its classpath. */
function kafkaVersion(brokers: string): string | undefined {
  const broker = brokerProcess(brokers);
  if (broker) return /kafka-(\d+\.\d+\.\d+)/.exec(broker.cmdline.join(' '))?.[1];
  const envFile = safe(() => readFileSync(join(REPO_ROOT, 'deploy/local/env.sh'), 'utf8')) ?? '';
  return /KAFKA_VERSION="([^"]+)"/.exec(envFile)?.[1];
}

function packageVersion(path: string): string | undefined {
  return safe(() => (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version);
}

function litellmVersion(): string | undefined {
  const site = safe(() =>
    readdirSync(join(LITELLM_VENV, 'lib')).map((python) =>
      join(LITELLM_VENV, 'lib', python, 'site-packages'),
    ),
  );
  for (const dir of site ?? []) {
    const info = safe(() => readdirSync(dir).find((entry) => /^litellm-[\d.]+\.dist-info$/.test(entry)));
    if (info) return /^litellm-([\d.]+)\.dist-info$/.exec(info)?.[1];
  }
  return undefined;
}

/** What the figures were measured on: machine, load, and every component's version. */
export function machineInfo(stack: StackEnv) {
  const cpu = cpus();
  const psql = (query: string) =>
    safe(() =>
      execFileSync('psql', [stack.DATABASE_URL, '-tAc', query], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim(),
    );
  const redisUrl = new URL(stack.REDIS_URL);
  const redisInfo = safe(() =>
    execFileSync('redis-cli', ['-h', redisUrl.hostname, '-p', redisUrl.port, 'INFO', 'server'], {
      encoding: 'utf8',
    }),
  );
  return {
    cores: cpu.length,
    cpu_model: cpu[0]?.model,
    memory_gib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    load_average_at_start: loadavg().map((value) => Math.round(value * 100) / 100),
    node: process.version,
    kafka: kafkaVersion(stack.KAFKA_BROKERS),
    kafkajs: packageVersion(join(REPO_ROOT, 'node_modules/kafkajs/package.json')),
    postgres: psql('show server_version'),
    redis: redisInfo ? /redis_version:(\S+)/.exec(redisInfo)?.[1] : undefined,
    autocannon: packageVersion(join(TOOLS_DIR, 'node_modules/autocannon/package.json')),
    portkey_gateway: packageVersion(join(TOOLS_DIR, 'node_modules/@portkey-ai/gateway/package.json')),
    litellm: litellmVersion(),
    git_commit: safe(() =>
      execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim(),
    ),
    // Changes outside what the benchmarks write themselves (bench:all's later benchmarks would
    // otherwise see the earlier ones' results as uncommitted changes).
    git_dirty: safe(
      () =>
        execFileSync('git', ['status', '--porcelain', '--', '.', ':!bench/results', ':!bench/README.md'], {
          cwd: REPO_ROOT,
          encoding: 'utf8',
        }).trim().length > 0,
    ),
  };
}

export function loadAverage(): number[] {
  return loadavg().map((value) => Math.round(value * 100) / 100);
}

/**
 * Waits (at most `maxWaitMs`) for the 1-minute load average to fall below `threshold`: the machine is
 * shared with other engineers' test runs, and figures measured under their load are not comparable.
 */
export async function waitForQuietMachine(
  threshold = Number(process.env.BENCH_MAX_LOAD ?? 1.5),
  maxWaitMs = Number(process.env.BENCH_MAX_LOAD_WAIT_MS ?? 0),
) {
  const started = Date.now();
  while (loadavg()[0]! >= threshold && Date.now() - started < maxWaitMs) {
    log(
      `load average ${loadAverage().join(' ')} >= ${threshold}: waiting (at most ${Math.round((maxWaitMs - (Date.now() - started)) / 1000)} s more)`,
    );
    await sleep(30_000);
  }
  return { waited_s: Math.round((Date.now() - started) / 1000), load_average: loadAverage(), threshold };
}

export function requireTool(path: string, hint: string): void {
  if (!existsSync(path)) throw new Error(`${path} is missing: ${hint}`);
}

export function relative(path: string): string {
  return path.startsWith(REPO_ROOT) ? path.slice(REPO_ROOT.length) : path;
}

export { dirname, join };
