import { describe, expect, it } from 'vitest';
import { checkWebhookTarget } from '../src/target-check.js';

describe('webhook target check', () => {
  it.each([
    'http://127.0.0.1/hook',
    'http://localhost:8080/hook',
    'http://10.1.2.3/hook',
    'http://172.16.0.1/hook',
    'http://192.168.1.10/hook',
    'http://169.254.169.254/latest/meta-data',
    'http://[::1]/hook',
    'http://[fd00::1]/hook',
    'http://100.64.0.1/hook',
    'http://0.0.0.0/hook',
  ])('refuses %s', async (url) => {
    expect((await checkWebhookTarget(url)).ok).toBe(false);
  });

  it('refuses other schemes and embedded credentials', async () => {
    expect(await checkWebhookTarget('file:///etc/passwd')).toMatchObject({
      ok: false,
      reason: 'must use http or https',
    });
    expect(await checkWebhookTarget('https://user:pw@93.184.216.34/')).toMatchObject({ ok: false });
  });

  it('accepts a public address, and an allowlisted private host', async () => {
    expect((await checkWebhookTarget('https://93.184.216.34/hook')).ok).toBe(true);
    expect((await checkWebhookTarget('http://127.0.0.1:9999/hook', ['127.0.0.1'])).ok).toBe(true);
  });
});
