import { spawn, type ChildProcess } from 'node:child_process';
import {
  createWriteStream,
  existsSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { freePort } from '@sps/testing';
import { ensureDir, LITELLM_VENV, log, REPO_ROOT, sleep, TOOLS_DIR, WORK_DIR } from './env.js';

export type App = 'ingest-api' | 'processor' | 'sink';
const READINESS: Record<App, RegExp> = {
  sink: /sink consuming/,
  processor: /processor consuming/,
  'ingest-api': /Server listening/,
};
const PRELOAD = join(REPO_ROOT, 'bench/lib/cpu-profile-preload.mjs');

export interface Proc {
  name: string;
  pid: number;
  child: ChildProcess;
  logFile: string;
  /** Sends SIGUSR2 to a process started with `profile`: starts, then stops and writes, a CPU profile. */
  profileToggle(): void;
  /** The path prefix of its .cpuprofile files, when started with `profile`. */
  profilePrefix?: string;
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<void>;
}

/**
 * Starts a process, logs to a file under bench/.work, and resolves once its output matches `ready`
 * (or `probe` answers). The apps are started exactly as libs/testing's `spawnService` starts them
 * (`node --import tsx apps/<app>/src/main.ts`, in their own process); this copy adds the log file and
 * an optional CPU-profile preload, which spawnService cannot take.
 */
async function start(
  name: string,
  command: string,
  args: string[],
  options: {
    env?: Record<string, string>;
    unsetEnv?: string[];
    cwd?: string;
    ready?: RegExp;
    probe?: () => Promise<boolean>;
    timeoutMs?: number;
    profile?: boolean;
  },
): Promise<Proc> {
  const logDir = ensureDir(join(WORK_DIR, 'logs'));
  const logFile = join(logDir, `${name}-${Date.now()}.log`);
  const profilePrefix = options.profile
    ? join(ensureDir(join(WORK_DIR, 'profiles')), `${name}-${Date.now()}`)
    : undefined;
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  for (const name of options.unsetEnv ?? []) delete env[name];
  if (profilePrefix) {
    env.BENCH_CPU_PROFILE = profilePrefix;
    env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --import ${PRELOAD}`.trim();
  }
  const child = spawn(command, args, {
    cwd: options.cwd ?? REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = createWriteStream(logFile);
  let head = '';
  const onData = (chunk: Buffer) => {
    out.write(chunk);
    if (head.length < 200_000) head += chunk.toString();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const proc: Proc = {
    name,
    pid: child.pid!,
    child,
    logFile,
    profilePrefix,
    profileToggle: () => void child.kill('SIGUSR2'),
    async stop(signal = 'SIGTERM', timeoutMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
      out.end();
    },
  };
  const deadline = Date.now() + (options.timeoutMs ?? 90_000);
  for (;;) {
    if (options.ready?.test(head)) break;
    if (options.probe && (await options.probe().catch(() => false))) break;
    if (child.exitCode !== null)
      throw new Error(
        `${name} exited with ${child.exitCode} before ready (log: ${logFile}):\n${head.slice(-3000)}`,
      );
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(
        `${name} not ready within ${options.timeoutMs ?? 90_000} ms (log: ${logFile}):\n${head.slice(-3000)}`,
      );
    }
    await sleep(100);
  }
  return proc;
}

/** Node flags each app is deployed with (NODE_OPTIONS in deploy/k8s/base/<app>.yaml). */
const APP_NODE_OPTIONS: Partial<Record<App, string>> = {
  'ingest-api': '--max-semi-space-size=64',
  processor: '--max-semi-space-size=64',
};

export function spawnApp(
  app: App,
  env: Record<string, string>,
  options: { name?: string; profile?: boolean } = {},
): Promise<Proc> {
  // BENCH_NODE_OPTIONS_<APP> (e.g. BENCH_NODE_OPTIONS_PROCESSOR) replaces the deployed flags, for A/B runs.
  const override = process.env[`BENCH_NODE_OPTIONS_${app.toUpperCase().replace('-', '_')}`];
  const nodeOptions = override ?? APP_NODE_OPTIONS[app];
  return start(options.name ?? app, process.execPath, ['--import', 'tsx', `apps/${app}/src/main.ts`], {
    env: { LOG_LEVEL: 'info', ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}), ...env },
    ready: READINESS[app],
    profile: options.profile,
  });
}

export interface FakeProvider extends Proc {
  url: string;
  openaiBaseUrl: string;
  setLatency(ms: number): Promise<void>;
  /** Clears its call log (the fake provider keeps every request it answered). */
  reset(): Promise<{ calls: Record<string, number> }>;
  /** Calls answered since the last reset, all providers. */
  calls(): Promise<number>;
}

/** The fake provider of libs/testing as its own process, as `npm start` runs it. */
export async function spawnFakeProvider(latencyMs: number): Promise<FakeProvider> {
  const port = await freePort();
  const proc = await start(
    'fake-provider',
    process.execPath,
    ['--import', 'tsx', 'libs/testing/src/fake-provider/main.ts'],
    {
      env: { FAKE_PROVIDER_PORT: String(port), FAKE_PROVIDER_LATENCY_MS: String(latencyMs) },
      ready: /fake provider listening/,
    },
  );
  const url = `http://127.0.0.1:${port}`;
  const control = async (path: string, body: unknown = {}) => {
    const response = await fetch(`${url}/__control/${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    return (await response.json()) as { calls: Record<string, number>; latency_ms: number };
  };
  return {
    ...proc,
    url,
    openaiBaseUrl: `${url}/v1`,
    async setLatency(ms: number) {
      const answer = await control('latency', { ms });
      if (answer.latency_ms !== ms)
        throw new Error(`fake provider latency is ${answer.latency_ms}, not ${ms}`);
    },
    reset: () => control('reset'),
    async calls() {
      const { calls } = await control('stats');
      return Object.values(calls).reduce((a, b) => a + b, 0);
    },
  };
}

export interface Gateway extends Proc {
  /** The OpenAI-compatible chat completions URL. */
  url: string;
  headers: Record<string, string>;
}

/** LiteLLM's proxy (Python, from the virtualenv that bench/setup.sh makes), forwarding to the fake provider. */
export async function spawnLiteLLM(fakeOpenaiBaseUrl: string, model: string): Promise<Gateway> {
  const binary = join(LITELLM_VENV, 'bin', 'litellm');
  if (!existsSync(binary))
    throw new Error(`${binary} not found: run bash bench/setup.sh (it installs litellm[proxy] from PyPI)`);
  const port = await freePort();
  const masterKey = `sk-bench-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  const config = join(ensureDir(WORK_DIR), `litellm-${port}.yaml`);
  writeFileSync(
    config,
    [
      'model_list:',
      `  - model_name: ${model}`,
      '    litellm_params:',
      `      model: openai/${model}`,
      `      api_base: ${fakeOpenaiBaseUrl}`,
      '      api_key: sk-fake',
      'litellm_settings:',
      '  telemetry: false',
      '  drop_params: false',
      '',
    ].join('\n'),
  );
  const proc = await start(
    'litellm',
    binary,
    ['--config', config, '--host', '127.0.0.1', '--port', String(port), '--num_workers', '1'],
    {
      env: {
        LITELLM_MASTER_KEY: masterKey,
        // the price map ships with the package; without this it is fetched from the internet at start
        LITELLM_LOCAL_MODEL_COST_MAP: 'True',
        LITELLM_LOG: 'ERROR',
        LITELLM_TELEMETRY: 'False',
      },
      // LiteLLM reads DATABASE_URL and REDIS_URL itself: it would try to use the stack's Postgres (and
      // refuse to start without prisma) and Redis. The peer runs as documented for a stateless proxy.
      unsetEnv: ['DATABASE_URL', 'REDIS_URL', 'REDIS_HOST', 'REDIS_PORT'],
      probe: async () => (await fetch(`http://127.0.0.1:${port}/health/liveliness`)).ok,
      timeoutMs: 180_000,
    },
  );
  return {
    ...proc,
    url: `http://127.0.0.1:${port}/v1/chat/completions`,
    headers: { authorization: `Bearer ${masterKey}` },
  };
}

/** Portkey's open-source gateway (`@portkey-ai/gateway` on npm) under Node, forwarding to the fake provider. */
export async function spawnPortkey(fakeOpenaiBaseUrl: string): Promise<Gateway> {
  const entry = join(TOOLS_DIR, 'node_modules/@portkey-ai/gateway/build/start-server.js');
  if (!existsSync(entry))
    throw new Error(`${entry} not found: run bash bench/setup.sh (it installs @portkey-ai/gateway from npm)`);
  const port = await freePort();
  const proc = await start('portkey', process.execPath, [entry, `--port=${port}`, '--headless'], {
    cwd: TOOLS_DIR,
    unsetEnv: ['DATABASE_URL', 'REDIS_URL'],
    probe: async () => (await fetch(`http://127.0.0.1:${port}/`)).status < 500,
    timeoutMs: 60_000,
  });
  return {
    ...proc,
    url: `http://127.0.0.1:${port}/v1/chat/completions`,
    headers: {
      'x-portkey-provider': 'openai',
      'x-portkey-custom-host': fakeOpenaiBaseUrl,
      authorization: 'Bearer sk-fake',
    },
  };
}

/** Writes a CPU profile of `proc` over the window of `during` (the app must have been started with `profile`). */
export async function profileDuring<T>(
  procs: Proc[],
  during: () => Promise<T>,
): Promise<{ result: T; files: Record<string, string> }> {
  const before = new Map(procs.map((proc) => [proc, profileFiles(proc)]));
  for (const proc of procs) proc.profileToggle();
  await sleep(300);
  const result = await during();
  for (const proc of procs) proc.profileToggle();
  const files: Record<string, string> = {};
  for (const proc of procs) {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const fresh = profileFiles(proc).filter((file) => !before.get(proc)!.includes(file));
      if (fresh.length > 0) {
        files[proc.name] = fresh[0]!;
        break;
      }
      if (Date.now() > deadline) throw new Error(`no CPU profile from ${proc.name}`);
      await sleep(200);
    }
  }
  return { result, files };
}

function profileFiles(proc: Proc): string[] {
  if (!proc.profilePrefix) throw new Error(`${proc.name} was not started with profile: true`);
  const dir = join(WORK_DIR, 'profiles');
  const stem = proc.profilePrefix.slice(dir.length + 1);
  return readdirSync(dir)
    .filter((file) => file.startsWith(`${stem}-`) && file.endsWith('.cpuprofile'))
    .map((file) => join(dir, file));
}

// ---------------------------------------------------------------------------------------------
// CPU share per process, pidstat-style, from /proc (utime + stime of each process and the machine).

const CLOCK_TICKS = 100; // USER_HZ: 100 on Linux x86-64 and arm64

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function pids(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number);
}

interface Stat {
  ppid: number;
  ticks: number;
  /** CPU time of children that ended and were waited for (cutime + cstime) */
  reaped: number;
}

function statOf(pid: number): Stat | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // after "pid (comm) ": state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
  return {
    ppid: Number(fields[1]),
    ticks: Number(fields[11]) + Number(fields[12]),
    reaped: Number(fields[13]) + Number(fields[14]),
  };
}

/** The process listening on a local TCP port, by inode (as `ss -ltnp` finds it). */
function listenerPid(port: number): number | undefined {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of (readProc(table) ?? '').split('\n').slice(1)) {
      const columns = line.trim().split(/\s+/);
      if (columns[1]?.endsWith(`:${hex}`) && columns[3] === '0A') inodes.add(columns[9]!);
    }
  }
  for (const pid of pids()) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSafe(`/proc/${pid}/fd/${fd}`) ?? '')?.[1];
      if (inode && inodes.has(inode)) return pid;
    }
  }
  return undefined;
}

function readlinkSafe(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

/** A named group of processes: one pid, or a process and all its children (Postgres backends). */
export type PidGroup = { name: string; pid: number; children?: boolean };

/** The stack's servers by port: Kafka (JVM), Postgres (postmaster and its backends), Redis. */
export function stackGroups(stack: {
  KAFKA_BROKERS: string;
  DATABASE_URL: string;
  REDIS_URL: string;
}): PidGroup[] {
  const groups: PidGroup[] = [];
  const kafka = listenerPid(Number(stack.KAFKA_BROKERS.split(',')[0]!.split(':')[1]));
  if (kafka) groups.push({ name: 'kafka', pid: kafka });
  const postgres = listenerPid(Number(new URL(stack.DATABASE_URL).port));
  if (postgres) groups.push({ name: 'postgres', pid: postgres, children: true });
  const redis = listenerPid(Number(new URL(stack.REDIS_URL).port));
  if (redis) groups.push({ name: 'redis', pid: redis });
  return groups;
}

function machineTicks(): { busy: number; total: number } {
  const line = (readProc('/proc/stat') ?? '').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

function groupTicks(group: PidGroup, table: Map<number, Stat>): number {
  const own = table.get(group.pid);
  let ticks = own?.ticks ?? 0;
  if (group.children) {
    // live children, plus those that ended (a backend closing between two snapshots moves its time
    // from the first sum to the parent's cutime/cstime)
    ticks += own?.reaped ?? 0;
    for (const [, stat] of table) if (stat.ppid === group.pid) ticks += stat.ticks;
  }
  return ticks;
}

export interface CpuShare {
  wall_s: number;
  machine_busy_cores: number;
  /** cores used per process group (1.0 = one core fully busy) */
  cores: Record<string, number>;
  /** busy CPU of everything else on the machine (other engineers' runs included) */
  other_cores: number;
  load_average_end: number[];
}

/** Snapshots CPU time of named processes and of the machine; `stop()` gives cores used per group. */
export function cpuMeter(groups: PidGroup[]): { stop(): CpuShare } {
  const snapshot = () => {
    const table = new Map<number, Stat>();
    for (const pid of pids()) {
      const stat = statOf(pid);
      if (stat) table.set(pid, stat);
    }
    return {
      time: performance.now(),
      machine: machineTicks(),
      groups: groups.map((group) => groupTicks(group, table)),
    };
  };
  const first = snapshot();
  return {
    stop() {
      const last = snapshot();
      const wall = (last.time - first.time) / 1000;
      const cores: Record<string, number> = {};
      let named = 0;
      groups.forEach((group, i) => {
        const used = (last.groups[i]! - first.groups[i]!) / CLOCK_TICKS;
        named += used;
        cores[group.name] = round((cores[group.name] ?? 0) + used / wall, 3);
      });
      const machineBusy = (last.machine.busy - first.machine.busy) / CLOCK_TICKS;
      return {
        wall_s: round(wall, 2),
        machine_busy_cores: round(machineBusy / wall, 3),
        cores,
        other_cores: round(Math.max(0, machineBusy - named) / wall, 3),
        load_average_end: (readProc('/proc/loadavg') ?? '').split(' ').slice(0, 3).map(Number),
      };
    },
  };
}

export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

export async function stopAll(procs: (Proc | undefined)[]): Promise<void> {
  await Promise.all(
    procs.map((proc) =>
      proc?.stop().catch((error: unknown) => log(`stopping ${proc.name}: ${String(error)}`)),
    ),
  );
}
