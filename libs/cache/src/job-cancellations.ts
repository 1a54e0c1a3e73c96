import type { Redis } from 'ioredis';

const TTL_SECONDS = 7 * 24 * 3600;

/**
 * Cancelled jobs, shared between the API (which cancels) and the processors (which skip the
 * job's items that have not run). Redis down means items run anyway: cancellation is best effort.
 */
export class JobCancellations {
  constructor(private readonly redis: Redis) {}

  async cancel(jobId: string): Promise<void> {
    await this.redis.set(`sps:job-cancelled:${jobId}`, '1', 'EX', TTL_SECONDS);
  }

  async isCancelled(jobId: string): Promise<boolean> {
    try {
      return (await this.redis.exists(`sps:job-cancelled:${jobId}`)) === 1;
    } catch {
      return false;
    }
  }
}
