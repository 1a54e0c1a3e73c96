import { describe, expect, it } from 'vitest';
import { JobEventMessage, compileContract } from '@sps/contracts';
import { jobEvent, jobEventId, type EndedJob } from '../src/job-outcomes.js';

const UUID_V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const JOB = '6f1c2a4e-93b1-4d57-a0c2-1f2e3d4c5b6a';
const checkEvent = compileContract(JobEventMessage);

const ended = (fields: Partial<EndedJob> = {}): EndedJob => ({
  id: JOB,
  tenant_id: 'tenant-a',
  status: 'completed',
  webhook_url: 'https://example.com/hook',
  total_items: 3,
  completed_items: 2,
  failed_items: 1,
  completed_at: new Date('2026-01-02T03:04:05.678Z'),
  ...fields,
});

describe('jobEventId', () => {
  it('is deterministic per job and status, and distinct across them', () => {
    expect(jobEventId(JOB, 'completed')).toBe(jobEventId(JOB, 'completed'));
    const ids = (['completed', 'failed', 'cancelled', 'expired'] as const).map((s) => jobEventId(JOB, s));
    expect(new Set(ids).size).toBe(4);
    expect(jobEventId('0b7e5f3a-2c1d-4e8f-9a0b-c1d2e3f4a5b6', 'completed')).not.toBe(ids[0]);
    for (const id of ids) expect(id).toMatch(UUID_V8);
  });
});

describe('jobEvent', () => {
  it('is made of the row alone: two emissions of one ended job are the same event', () => {
    const first = jobEvent(ended());
    expect(jobEvent(ended())).toEqual(first);
    expect(first).toEqual({
      event_id: jobEventId(JOB, 'completed'),
      type: 'job.completed',
      job_id: JOB,
      tenant_id: 'tenant-a',
      status: 'completed',
      webhook_url: 'https://example.com/hook',
      summary: { total: 3, successful: 2, failed: 1 },
      occurred_at: '2026-01-02T03:04:05.678Z',
    });
    expect(checkEvent(first).ok).toBe(true);
  });

  it('describes an expiry, and leaves webhook_url out when the job has none', () => {
    const event = jobEvent(ended({ status: 'expired', webhook_url: null }));
    expect(event).toMatchObject({ type: 'job.expired', status: 'expired' });
    expect(event).not.toHaveProperty('webhook_url');
    expect(checkEvent(event).ok).toBe(true);
  });

  it('refuses a job that has not ended', () => {
    expect(() => jobEvent(ended({ status: 'processing' }))).toThrow(/has not ended/);
  });
});
