import { describe, expect, it } from 'vitest';
import { jobItemRequestId, type PromptRequestMessage } from '@sps/contracts';
import type { Database } from '@sps/db';
import {
  JobPublicationError,
  jobItemMessages,
  owesPublication,
  publishJobItems,
} from '../src/job-publisher.js';

const JOB = {
  id: '6f1c2a4e-93b1-4d57-a0c2-1f2e3d4c5b6a',
  tenant_id: 'b1d2e3f4-0000-4000-8000-000000000001',
  api_key_id: 'b1d2e3f4-0000-4000-8000-000000000002',
  request_params: {
    prompts: ['first ', 'second'],
    format: 'xml',
    schema: { type: 'object' },
    options: { provider: 'openai', timeout_ms: 5_000 },
    labels: { schema: 'invoice' },
  },
  total_items: 2,
  expires_at: new Date(Date.now() + 3600_000),
};

describe('jobItemMessages', () => {
  it('builds each item from the stored row, with its deterministic request id', () => {
    const messages = jobItemMessages(JOB);
    expect(messages).toHaveLength(2);
    expect(messages.map((m) => m.request_id)).toEqual([
      jobItemRequestId(JOB.id, 0),
      jobItemRequestId(JOB.id, 1),
    ]);
    expect(messages[0]).toMatchObject({
      tenant_id: JOB.tenant_id,
      api_key_id: JOB.api_key_id,
      job_id: JOB.id,
      item_index: 0,
      prompt: 'first',
      format: 'xml',
      schema: { type: 'object' },
      labels: { schema: 'invoice' },
      options: { provider: 'openai', timeout_ms: 120_000 },
      deadline_at: JOB.expires_at.toISOString(),
    });
    expect(jobItemMessages(JOB).map((m) => m.request_id)).toEqual(messages.map((m) => m.request_id));
  });

  it('builds the one item of an analyze job, and refuses a row whose prompts do not match its count', () => {
    const single = { ...JOB, request_params: { prompt: 'only' }, total_items: 1 };
    expect(jobItemMessages(single).map((m) => [m.prompt, m.item_index])).toEqual([['only', 0]]);
    expect(() => jobItemMessages({ ...JOB, total_items: 3 })).toThrow(/stores 2 prompts for 3 items/);
  });
});

describe('publishJobItems', () => {
  it('marks nothing when an item is not acknowledged, after every send settled', async () => {
    const sent: PromptRequestMessage[] = [];
    const pipeline = {
      submit: async (message: PromptRequestMessage) => {
        sent.push(message);
        if (message.item_index === 1) throw new Error('broker gone');
      },
    };
    const db = new Proxy({} as Database, {
      get: () => {
        throw new Error('the job must not be marked');
      },
    });
    const failure = await publishJobItems({ db, pipeline }, JOB).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(JobPublicationError);
    expect(failure).toMatchObject({ jobId: JOB.id, failed: 1, total: 2 });
    expect(sent).toHaveLength(2);
  });
});

describe('owesPublication', () => {
  const base = {
    items_published_at: null,
    status: 'pending' as const,
    expires_at: new Date(Date.now() + 1000),
  };
  it('holds for a running, unexpired job whose items were not all acknowledged', () => {
    expect(owesPublication(base)).toBe(true);
    expect(owesPublication({ ...base, status: 'processing' })).toBe(true);
    expect(owesPublication({ ...base, items_published_at: new Date() })).toBe(false);
    expect(owesPublication({ ...base, status: 'cancelled' })).toBe(false);
    expect(owesPublication({ ...base, expires_at: new Date(Date.now() - 1) })).toBe(false);
  });
});
