import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createProducer } from '@sps/kafka';
import { freePort } from '@sps/testing';
import { json, startPipeline, waitUntil, type Pipeline } from './harness.js';
import { promptRequests } from './kafka-pipeline.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');
const OBS = join(ROOT, 'deploy/observability');
const ALERTS = join(OBS, 'alerts.yml');
const ALERT_TESTS = join(OBS, 'alerts.test.yml');
const DASHBOARDS = ['dashboards/sps-overview.json'].map((file) => join(OBS, file));

/** Prometheus and promtool, installed by deploy/observability/tools.sh when missing. */
async function tools(): Promise<{ prometheus: string; promtool: string }> {
  const { stdout } = await run('bash', [join(OBS, 'tools.sh')], { timeout: 300_000 });
  const paths = Object.fromEntries(
    stdout
      .trim()
      .split('\n')
      .map((line) => line.split('=', 2)),
  );
  return { prometheus: paths.PROMETHEUS!, promtool: paths.PROMTOOL! };
}

/** Every query of every panel of a Grafana dashboard (rows' nested panels included). */
function panelExpressions(dashboard: { panels?: unknown[] }): { title: string; expr: string }[] {
  const found: { title: string; expr: string }[] = [];
  const visit = (panels: unknown[] = []) => {
    for (const panel of panels as { title: string; panels?: unknown[]; targets?: { expr?: string }[] }[]) {
      for (const target of panel.targets ?? [])
        if (target.expr) found.push({ title: panel.title, expr: target.expr });
      visit(panel.panels);
    }
  };
  visit(dashboard.panels);
  return found;
}

/**
 * The signal an alert condition compares (alerts.yml's convention: `<signal> <op> <number>`, one
 * top-level comparison at the end): the expression a firing alert and a dashboard look at.
 */
function signalOf(expr: string): string {
  const match = /^([\s\S]*\S)\s*(==|!=|>=|<=|>|<)\s*-?[0-9.]+(e[+-]?[0-9]+)?\s*$/.exec(expr.trim());
  if (!match) throw new Error(`alert expression does not end in a comparison with a number: ${expr}`);
  return match[1]!;
}

describe('alert rules (promtool)', () => {
  it('pass `promtool check rules` and every unit test group of alerts.test.yml', async () => {
    const { promtool } = await tools();
    const check = await run(promtool, ['check', 'rules', ALERTS]);
    const rules = Number(/SUCCESS: (\d+) rules found/.exec(check.stdout)?.[1]);
    const alertNames = [...(await readFile(ALERTS, 'utf8')).matchAll(/^\s+- alert: (\S+)/gm)].map(
      (m) => m[1],
    );
    expect(rules).toBe(alertNames.length);
    // Exits non-zero (run throws, with promtool's report) when any test fails.
    const tested = await run(promtool, ['test', 'rules', ALERT_TESTS], { cwd: OBS });
    expect(tested.stdout).toContain('SUCCESS');
    const groups = [...(await readFile(ALERT_TESTS, 'utf8')).matchAll(/^ {2}- name: (\S+)/gm)].map(
      (m) => m[1],
    );
    const alertsTested = new Set(
      [...(await readFile(ALERT_TESTS, 'utf8')).matchAll(/alertname: (\S+)/g)].map((m) => m[1]),
    );
    // One test group per alert, each with a firing and a not-firing evaluation.
    expect(groups).toHaveLength(alertNames.length);
    expect([...alertsTested].sort()).toEqual([...alertNames].sort());
    console.log(`promtool: ${rules} rules checked, ${groups.length} test groups passed`);
  });
});

describe('dashboards and alerts against a live pipeline (real Prometheus)', () => {
  let pipeline: Pipeline | undefined;
  let prometheus: ChildProcess | undefined;
  let receiver: Server | undefined;
  let dataDir: string | undefined;

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((done) => prometheus!.once('exit', done));
      prometheus.kill('SIGTERM');
      await Promise.race([exited, new Promise((done) => setTimeout(done, 5_000))]);
    }
    await new Promise<void>((done) => (receiver ? receiver.close(() => done()) : done()));
    await pipeline?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('every dashboard panel and every alert signal returns series', async () => {
    const started = Date.now();
    const { prometheus: prometheusBin } = await tools();
    pipeline = await startPipeline({
      apps: ['ingest-api'],
      env: { WEBHOOK_ALLOWLIST: '127.0.0.1', WEBHOOK_RETRY_DELAYS_MS: '1000' },
      rateLimitPerHour: 100_000,
    });
    const ports = { processor: await freePort(), sink: await freePort(), webhooks: await freePort() };
    await Promise.all([
      pipeline.spawn('processor', { METRICS_PORT: String(ports.processor) }),
      pipeline.spawn('sink', { METRICS_PORT: String(ports.sink) }),
      pipeline.spawn('webhook-dispatcher', { METRICS_PORT: String(ports.webhooks) }),
    ]);

    dataDir = await mkdtemp(join(tmpdir(), 'sps-prometheus-'));
    const apiPort = new URL(pipeline.baseUrl).port;
    const promPort = await freePort();
    const target = (job: string, port: number | string, path = '/metrics') =>
      [
        `  - job_name: ${job}`,
        `    metrics_path: ${path}`,
        `    static_configs: [{ targets: ['127.0.0.1:${port}'] }]`,
      ].join('\n');
    await writeFile(
      join(dataDir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        `rule_files: ['${ALERTS}']`,
        'scrape_configs:',
        target('sps-ingest-api', apiPort, '/v1/metrics'),
        target('sps-processor', ports.processor),
        target('sps-sink', ports.sink),
        target('sps-webhook-dispatcher', ports.webhooks),
        '',
      ].join('\n'),
    );
    prometheus = spawn(
      prometheusBin,
      [
        `--config.file=${join(dataDir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dataDir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let prometheusLog = '';
    prometheus.stderr!.on('data', (chunk: Buffer) => (prometheusLog = (prometheusLog + chunk).slice(-4_000)));
    const promUrl = `http://127.0.0.1:${promPort}`;
    const api = async (path: string) => {
      const response = await fetch(`${promUrl}${path}`);
      const body = await json(response);
      if (body.status !== 'success') throw new Error(`${path}: ${body.error ?? response.status}`);
      return body.data;
    };
    await waitUntil(
      async () => (await fetch(`${promUrl}/-/ready`).catch(() => undefined))?.ok || undefined,
      20_000,
      `Prometheus ready (${prometheusLog})`,
      200,
    );

    // Traffic: analyze calls (the same prompt twice, for a cache hit), a Kafka-native request with
    // NUL in its prompt (refused to the processor's DLQ), and a job whose webhook is delivered.
    const hooks: string[] = [];
    receiver = createServer((req, res) => {
      req.resume().on('end', () => {
        hooks.push(req.url ?? '');
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((done) => receiver!.listen(0, '127.0.0.1', done));
    const hookUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
    const call = (path: string, body: unknown) =>
      fetch(`${pipeline!.baseUrl}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${pipeline!.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const prompt = `observability ${pipeline.prefix}`;
    for (const text of [prompt, prompt, `${prompt} again`])
      expect((await call('/v1/analyze', { prompt: text })).status).toBe(200);
    const [bad] = promptRequests(pipeline.tenantId, 1, () => 'before\u0000after');
    const producer = createProducer(pipeline.kafka);
    await producer.connect();
    await producer.send({
      topic: pipeline.topics.requests,
      acks: -1,
      messages: [{ key: bad!.request_id, value: JSON.stringify(bad) }],
    });
    await producer.disconnect();
    const job = await call('/v1/jobs', {
      job_type: 'batch',
      request_params: { prompts: [`${prompt} job one`, `${prompt} job two`] },
      webhook_url: hookUrl,
    });
    expect(job.status).toBe(202);
    await waitUntil(async () => (hooks.length > 0 ? true : undefined), 30_000, 'the job webhook', 100);

    // Every target scraped and up.
    await waitUntil(
      async () => {
        const { activeTargets } = await api('/api/v1/targets');
        return activeTargets.length === 4 && activeTargets.every((t: { health: string }) => t.health === 'up')
          ? true
          : undefined;
      },
      15_000,
      'all four targets up',
      250,
    );

    const dashboards = await Promise.all(
      DASHBOARDS.map(async (file) => JSON.parse(await readFile(file, 'utf8')) as { panels?: unknown[] }),
    );
    const { groups } = await api('/api/v1/rules?type=alert');
    const alerts = (groups as { rules: { name: string; query: string }[] }[]).flatMap((g) => g.rules);
    const alertNames = [...(await readFile(ALERTS, 'utf8')).matchAll(/^\s+- alert: (\S+)/gm)].map(
      (m) => m[1],
    );
    expect(alerts.map((a) => a.name).sort()).toEqual([...alertNames].sort()); // Prometheus loaded them all
    const expressions = [
      ...dashboards.flatMap(panelExpressions).map(({ title, expr }) => ({ what: `panel "${title}"`, expr })),
      ...alerts.map(({ name, query }) => ({ what: `alert ${name}`, expr: signalOf(query) })),
    ];

    // Until every expression has series (counters need a second scrape for rate()), or the deadline.
    let empty: { what: string; expr: string }[] = [];
    const deadline = Date.now() + 20_000;
    do {
      empty = [];
      for (const expression of expressions) {
        const { result } = await api(`/api/v1/query?query=${encodeURIComponent(expression.expr)}`);
        if (result.length === 0) empty.push(expression);
      }
      if (empty.length > 0) await new Promise((done) => setTimeout(done, 1_000));
    } while (empty.length > 0 && Date.now() < deadline);
    expect(empty.map(({ what, expr }) => `${what}: ${expr}`)).toEqual([]);

    // And the series say what the traffic did.
    const total = async (expr: string) => {
      const { result } = await api(`/api/v1/query?query=${encodeURIComponent(`sum(${expr})`)}`);
      return Number(result[0]?.value[1] ?? 0);
    };
    expect(
      await total('sps_dead_letters_total{stage="processor",code="CONTRACT_VIOLATION"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(await total('sps_webhook_deliveries_total{outcome="delivered"}')).toBeGreaterThanOrEqual(1);
    expect(await total('sps_jobs_finished_total{status="completed"}')).toBeGreaterThanOrEqual(1);
    expect(await total('sps_cache_requests_total{outcome=~"hit|coalesced"}')).toBeGreaterThanOrEqual(1);
    expect(await total('sps_llm_cost_usd_total')).toBeGreaterThan(0);
    expect(await total(`count(sps_kafka_consumer_lag{group="${pipeline.prefix}processor"})`)).toBeGreaterThan(
      0,
    );
    console.log(
      `observability: ${expressions.length} expressions checked (${expressions.length - alerts.length} ` +
        `dashboard queries, ${alerts.length} alert signals), all with series, in ${Date.now() - started} ms`,
    );
  });
});
