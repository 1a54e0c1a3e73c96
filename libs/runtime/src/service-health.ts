import type { HealthEndpoints, HealthReport } from '@sps/observability';

/** A dependency check for readiness: resolves when the dependency answers. */
export type ReadinessCheck = (() => Promise<unknown>) & { optional?: boolean };

type GroupStatus = 'joined' | 'restarting' | 'gave-up';

/**
 * What /health/live and /health/ready answer for a background service. Live: the process runs and
 * none of its consumers has given up. Ready: live, started (its consumers joined their groups), no
 * consumer in the middle of a restart, and every required dependency answers.
 */
export class ServiceHealth implements HealthEndpoints {
  private started = false;
  private deadReason: string | undefined;
  private readonly groups = new Map<string, GroupStatus>();
  private readonly checks = new Map<string, ReadinessCheck>();

  constructor(private readonly checkTimeoutMs = 2_000) {}

  addCheck(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  markStarted(): void {
    this.started = true;
  }

  markStopping(): void {
    this.started = false;
  }

  markDead(reason: string): void {
    this.deadReason ??= reason;
  }

  groupStatus(groupId: string, status: GroupStatus): void {
    this.groups.set(groupId, status);
    if (status === 'gave-up') this.markDead(`consumer group ${groupId} gave up`);
  }

  live(): HealthReport {
    return this.deadReason === undefined ? { ok: true } : { ok: false, checks: { process: this.deadReason } };
  }

  async ready(): Promise<HealthReport> {
    const checks: Record<string, string> = {};
    let ok = this.deadReason === undefined && this.started;
    checks.service = this.deadReason ?? (this.started ? 'started' : 'starting');
    for (const [group, status] of this.groups) {
      checks[`group:${group}`] = status;
      if (status !== 'joined') ok = false;
    }
    const results = await Promise.all(
      [...this.checks].map(async ([name, check]) => [name, check, await this.run(check)] as const),
    );
    for (const [name, check, error] of results) {
      checks[name] = error === undefined ? 'up' : check.optional ? `degraded: ${error}` : `down: ${error}`;
      if (error !== undefined && !check.optional) ok = false;
    }
    return { ok, checks };
  }

  private async run(check: ReadinessCheck): Promise<string | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${this.checkTimeoutMs} ms`)),
        this.checkTimeoutMs,
      );
    });
    try {
      await Promise.race([check(), timeout]);
      return undefined;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    } finally {
      clearTimeout(timer);
    }
  }
}
