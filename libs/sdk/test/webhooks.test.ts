import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signPayload } from '@sps/webhooks';
import { verifyWebhook, WebhookVerificationError } from '../src/index.js';

const secret = `whsec_${randomBytes(24).toString('base64')}`;
const body = JSON.stringify({
  type: 'job.completed',
  timestamp: '2026-01-01T00:00:00Z',
  data: { job_id: 'j' },
});

describe('verifyWebhook (against what libs/webhooks signs)', () => {
  it('accepts a signed body, from plain or fetch headers, bytes or text', () => {
    const headers = signPayload(secret, 'msg_1', body);
    expect(verifyWebhook(headers, body, secret).type).toBe('job.completed');
    expect(verifyWebhook(new Headers(headers), Buffer.from(body), secret).data.job_id).toBe('j');
    const bare = secret.slice('whsec_'.length);
    expect(verifyWebhook(headers, body, bare).type).toBe('job.completed');
  });

  it('accepts any of several signatures (key rotation)', () => {
    const headers = signPayload(secret, 'msg_1', body);
    const other = signPayload(`whsec_${randomBytes(24).toString('base64')}`, 'msg_1', body);
    headers['webhook-signature'] = `${other['webhook-signature']} ${headers['webhook-signature']}`;
    expect(verifyWebhook(headers, body, secret).type).toBe('job.completed');
  });

  it('refuses a tampered body, another id, another secret, missing headers', () => {
    const headers = signPayload(secret, 'msg_1', body);
    expect(() => verifyWebhook(headers, body.replace('completed', 'failed'), secret)).toThrow(
      WebhookVerificationError,
    );
    expect(() => verifyWebhook({ ...headers, 'webhook-id': 'msg_2' }, body, secret)).toThrow(/signature/);
    expect(() => verifyWebhook(headers, body, `whsec_${randomBytes(24).toString('base64')}`)).toThrow(
      /signature/,
    );
    expect(() => verifyWebhook({ 'webhook-id': 'msg_1' }, body, secret)).toThrow(/missing/);
    expect(() =>
      verifyWebhook(
        { ...headers, 'webhook-signature': 'v2,' + headers['webhook-signature']!.slice(3) },
        body,
        secret,
      ),
    ).toThrow(/signature/);
  });

  it('refuses a timestamp outside the tolerance, either way', () => {
    const old = signPayload(secret, 'msg_1', body, new Date(Date.now() - 301_000));
    expect(() => verifyWebhook(old, body, secret)).toThrow(/too old/);
    expect(verifyWebhook(old, body, secret, { toleranceSeconds: 600 }).type).toBe('job.completed');
    const future = signPayload(secret, 'msg_1', body, new Date(Date.now() + 301_000));
    expect(() => verifyWebhook(future, body, secret)).toThrow(/future/);
  });
});
