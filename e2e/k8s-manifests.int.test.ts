import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * deploy/k8s: every kustomize overlay renders, and every rendered resource passes kubeconform
 * -strict against offline Kubernetes and KEDA schemas (deploy/k8s/validate.sh). The first run
 * builds kustomize/kubeconform and fetches the schemas into SPS_CACHE_DIR (about a minute with
 * empty Go caches); later runs take a few seconds.
 */
const k8sDir = resolve(import.meta.dirname, '../deploy/k8s');
const FIRST_RUN_TIMEOUT_MS = 600_000;

interface KubeconformReport {
  resources: { kind: string; name: string; version: string; status: string; msg?: string }[];
  summary: { valid: number; invalid: number; errors: number; skipped: number };
}

function validate(script: string, args: string[], reportDir: string) {
  const run = spawnSync('bash', [script, ...args], {
    encoding: 'utf8',
    env: { ...process.env, K8S_REPORT_DIR: reportDir },
    timeout: FIRST_RUN_TIMEOUT_MS,
  });
  return {
    status: run.status,
    stdout: run.stdout,
    stderr: run.stderr,
    output: `${run.stdout}\n${run.stderr}`,
  };
}

describe('Kubernetes manifests (deploy/k8s)', () => {
  const work = mkdtempSync(join(tmpdir(), 'sps-k8s-'));
  let run: ReturnType<typeof validate>;
  const report = (overlay: string): KubeconformReport =>
    JSON.parse(readFileSync(join(work, 'reports', `${overlay}.json`), 'utf8')) as KubeconformReport;

  beforeAll(() => {
    run = validate(join(k8sDir, 'validate.sh'), [], join(work, 'reports'));
  }, FIRST_RUN_TIMEOUT_MS);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('validate.sh renders and validates every overlay', () => {
    expect(run.status, run.output).toBe(0);
    expect(run.stdout).toMatch(/ok {3}dev: \d+ resources validated/);
    expect(run.stdout).toMatch(/ok {3}production: \d+ resources validated/);
  });

  it.each(['dev', 'production'])(
    '%s: every resource is validated against a schema, none skipped',
    (overlay) => {
      const { resources, summary } = report(overlay);
      expect(summary).toEqual({ valid: resources.length, invalid: 0, errors: 0, skipped: 0 });
      // 4 Deployments, 4 PDBs, Service, HPA, 2 ScaledObjects, ConfigMap, migration Job.
      expect(summary.valid).toBeGreaterThanOrEqual(14);
      const kinds = resources.map((r) => `${r.kind}/${r.name}`).sort();
      expect(kinds).toEqual(
        expect.arrayContaining([
          'ConfigMap/sps-config',
          'Deployment/ingest-api',
          'Deployment/processor',
          'Deployment/sink',
          'Deployment/webhook-dispatcher',
          'HorizontalPodAutoscaler/ingest-api',
          'Job/sps-migrate',
          'PodDisruptionBudget/ingest-api',
          'Service/ingest-api',
        ]),
      );
      // The KEDA ScaledObjects were checked against the KEDA CRD schema, not skipped.
      const scaled = resources.filter((r) => r.kind === 'ScaledObject');
      expect(scaled.map((r) => [r.name, r.version, r.status]).sort()).toEqual([
        ['processor', 'keda.sh/v1alpha1', 'statusValid'],
        ['sink', 'keda.sh/v1alpha1', 'statusValid'],
      ]);
    },
  );

  it('fails loudly on an invalid resource (a copy with `replicas: "two"`)', () => {
    const copy = join(work, 'broken');
    cpSync(k8sDir, copy, { recursive: true });
    const file = join(copy, 'base', 'webhook-dispatcher.yaml');
    const original = readFileSync(file, 'utf8');
    const broken = original.replace(/^ {2}replicas: 1$/m, '  replicas: "two"');
    expect(broken).not.toBe(original);
    writeFileSync(file, broken);

    const failed = validate(
      join(copy, 'validate.sh'),
      [join(copy, 'overlays', 'dev')],
      join(work, 'broken-reports'),
    );
    expect(failed.status, failed.output).not.toBe(0);
    expect(failed.output).toContain('FAIL dev');
    expect(failed.output).toMatch(/Deployment\/webhook-dispatcher: statusInvalid: .*\/spec\/replicas/);
  });
});
