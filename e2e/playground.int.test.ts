import { execFileSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '@sps/db';
import { json, startPipeline, type Pipeline } from './harness.js';

/**
 * The web playground driven in a real browser (Debian's Chromium, headless, through
 * puppeteer-core: no browser is downloaded) against the whole system. Screenshots of each screen
 * go to docs/ when SPS_WRITE_SCREENSHOTS=1 (to commit them), else to a temporary directory.
 */

/** Chromium from CHROMIUM_PATH (scripts/test.sh sets it with scripts/chromium.sh) or the PATH. */
function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  for (const candidate of candidates) {
    if (!candidate) continue;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      'Chromium not found: the playground test needs it. Run `bash scripts/chromium.sh` ' +
        "(installs Debian's chromium) or set CHROMIUM_PATH to a Chromium binary.",
    );
  }
}

const SCREENSHOTS =
  process.env.SPS_WRITE_SCREENSHOTS === '1' ? 'docs' : mkdtempSync(join(tmpdir(), 'playground-'));

/** A webhook receiver answering 200. */
class Receiver {
  readonly received: string[] = [];
  private server!: Server;
  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        this.received.push(body);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}/hook`;
  }
  stop = () => new Promise<void>((resolve) => this.server.close(() => resolve()));
}

const text = (page: Page, selector: string) => page.$eval(selector, (element) => element.textContent ?? '');

// Code that runs in the page is given as text: this project's TypeScript has no DOM types.

/** Waits until `expression` is truthy in the page. */
const until = (page: Page, expression: string, timeout = 10_000) =>
  page.waitForFunction(expression, { timeout });

/** The value of `expression` in the page. */
const inPage = <T>(page: Page, expression: string): Promise<T> => page.evaluate(expression) as Promise<T>;

const attribute = (page: Page, selector: string, name: string) =>
  inPage<string | null>(
    page,
    `document.querySelector(${JSON.stringify(selector)})?.getAttribute(${JSON.stringify(name)}) ?? null`,
  );

const rowCount = (page: Page, selector: string) =>
  inPage<number>(page, `document.querySelectorAll(${JSON.stringify(`${selector} tbody tr`)}).length`);

const textOf = (selector: string) =>
  `(document.querySelector(${JSON.stringify(selector)})?.textContent ?? '')`;

/** Sets a textarea or input as typing would (an `input` event), for long multi-line values. */
const fill = (page: Page, selector: string, value: string) =>
  inPage(
    page,
    `(() => { const e = document.querySelector(${JSON.stringify(selector)}); e.value = ${JSON.stringify(value)};
      e.dispatchEvent(new Event('input', { bubbles: true })); })()`,
  );

describe('web playground (headless Chromium, real Kafka, Postgres, Redis; fake provider)', () => {
  let pipeline: Pipeline;
  let browser: Browser;
  let page: Page;
  const receiver = new Receiver();
  let webhookUrl: string;
  let otherRequestId: string;
  const otherPrompt = `another tenant's private prompt ${Date.now()}`;
  let analyzedRequestId: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const executablePath = chromiumPath(); // first: a missing browser fails before anything starts
    mkdirSync(SCREENSHOTS, { recursive: true });
    webhookUrl = await receiver.start();
    pipeline = await startPipeline({
      apps: ['sink', 'processor', 'ingest-api', 'webhook-dispatcher'],
      env: { WEBHOOK_ALLOWLIST: '127.0.0.1', WEBHOOK_RETRY_DELAYS_MS: '300,300,300' },
    });
    // Another tenant's request, stored: the playground must never show it.
    const other = await createApiKey(pipeline.db, { tenant: `other-${pipeline.prefix}`, name: 'other' });
    const response = await fetch(`${pipeline.baseUrl}/v1/analyze`, {
      method: 'POST',
      headers: { authorization: `Bearer ${other.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: otherPrompt }),
    });
    expect(response.status).toBe(200);
    otherRequestId = (await json(response)).request_id;
    browser = await puppeteer.launch({
      executablePath,
      headless: true,
      // Root in a container: Chromium's sandbox needs user namespaces it may not have.
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
    });
    page = await browser.newPage();
    await page.setViewport({ width: 1360, height: 900, deviceScaleFactor: 1 });
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    page.on('console', (message) => {
      // A 404 while the sink has not stored a result yet is expected; anything else is not.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
        pageErrors.push(message.text());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await pipeline?.stop();
    await receiver.stop();
  });

  it('serves the page with a same-origin Content-Security-Policy', async () => {
    const response = await page.goto(`${pipeline.baseUrl}/playground`, { waitUntil: 'networkidle0' });
    expect(response?.status()).toBe(200);
    expect(page.url()).toBe(`${pipeline.baseUrl}/playground/`);
    const csp = response?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    await page.waitForSelector('body[data-ready="true"]');
    const missing = await fetch(`${pipeline.baseUrl}/playground/..%2F..%2Fpackage.json`);
    expect(missing.status).toBe(404);
  });

  it('runs a prompt with a schema and shows the validated answer, attempts, tokens and cost', async () => {
    await page.type('#api-key', pipeline.apiKey);
    await page.click('#key-save');
    await until(page, `${textOf('#key-status')}.startsWith('key ok')`);
    expect(await inPage(page, `sessionStorage.getItem('sps.apiKey')`)).toBe(pipeline.apiKey);
    // The schema editor is checked by the API once a key is set.
    await until(page, `${textOf('#schema-status')}.includes('✓')`);

    await page.click('#prompt', { count: 3 });
    await page.keyboard.press('Backspace');
    await page.type('#prompt', 'Book a table for two at Luigi on Friday at 8pm');
    await page.click('#run');
    await until(page, `document.querySelector('#answer-meta').getAttribute('data-validation')`, 30_000);
    const answerText = await text(page, '#answer');
    expect(await attribute(page, '#answer-meta', 'data-validation'), answerText).toBe('passed');
    expect(JSON.parse(answerText)).toEqual(
      expect.objectContaining({
        restaurant: expect.any(String),
        people: expect.any(Number),
        day: expect.any(String),
      }),
    );
    expect(await text(page, '#answer-meta')).toContain('validation: passed');
    // Attempts, tokens and cost come from GET /v1/requests/{id} once the sink has stored the result.
    await until(page, `${textOf('#attempts-note')}.includes('attempt(s)')`, 20_000);
    analyzedRequestId = (await attribute(page, '#attempts-note', 'data-request-id')) ?? '';
    expect(analyzedRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await rowCount(page, '#attempts')).toBeGreaterThanOrEqual(1);
    expect(await text(page, '#attempts-note')).toMatch(/\d+ tokens in, \d+ out, cost \d+\.\d{6} USD/);
    await page.screenshot({ path: join(SCREENSHOTS, 'playground-analyze.png'), fullPage: true });
  });

  it('shows schema errors inline as you type: JSON syntax with line and column, and the API check', async () => {
    const valid = await inPage<string>(page, `document.querySelector('#schema').value`);
    await fill(page, '#schema', '');
    await page.type('#schema', '{\n  "type": "object",\n  "properties": }');
    await until(page, `document.querySelector('#schema-status').className.includes('error')`);
    expect(await text(page, '#schema-status')).toMatch(/JSON error at line 3, column \d+/);
    expect(await inPage(page, `document.querySelector('#schema').classList.contains('invalid')`)).toBe(true);

    // Well-formed JSON that no validator can compile: the API's check (POST /v1/schema-check) names it.
    await fill(
      page,
      '#schema',
      '{"type": "object", "properties": {"code": {"type": "string", "pattern": "("}}}',
    );
    await until(page, `${textOf('#schema-status')}.includes('INVALID')`);
    expect(await text(page, '#schema-status')).toContain('INVALID_SCHEMA');

    await fill(page, '#schema', valid);
    await until(page, `${textOf('#schema-status')}.includes('✓')`);
  });

  it('submits a job of five prompts and watches it complete, with its webhook delivery', async () => {
    await page.click('#tab-jobs');
    await page.type('#job-webhook', webhookUrl);
    await page.click('#job-submit');
    await until(page, `${textOf('#job-status')} === 'completed'`, 60_000);
    expect(await attribute(page, '#job-counts', 'data-done')).toBe('5');
    expect(await attribute(page, '#job-counts', 'data-total')).toBe('5');
    expect(await text(page, '#job-counts')).toContain('5/5 done');
    const bar = `document.querySelector('#job-progress')`;
    expect(await inPage(page, `[${bar}.value, ${bar}.max]`)).toEqual([5, 5]);
    expect(await rowCount(page, '#job-items')).toBe(5);
    // The monitor keeps polling until the webhook is delivered.
    await until(page, `${textOf('#job-webhook-info')}.includes('delivered')`, 30_000);
    expect(await rowCount(page, '#job-deliveries')).toBeGreaterThanOrEqual(1);
    expect(receiver.received.length).toBeGreaterThanOrEqual(1);
    await until(page, `document.querySelectorAll('#job-list tbody tr').length >= 1`);
    await page.screenshot({ path: join(SCREENSHOTS, 'playground-jobs.png'), fullPage: true });
  });

  it("lists the tenant's recent requests and spend, and nothing of another tenant", async () => {
    await page.click('#tab-recent');
    await until(
      page,
      `document.querySelector('#recent tbody tr[data-request-id="${analyzedRequestId}"]') !== null`,
    );
    const ids = await inPage<string[]>(
      page,
      `[...document.querySelectorAll('#recent tbody tr')].map((row) => row.getAttribute('data-request-id'))`,
    );
    expect(ids.length).toBeGreaterThanOrEqual(6); // the analyze call and the job's five items
    expect(ids).not.toContain(otherRequestId);
    const content = await page.content();
    expect(content).not.toContain(otherPrompt);
    expect(content).not.toContain(otherRequestId);
    const usage = await text(page, '#usage');
    expect(Number(/Tenant today \(UTC\)(\d+) requests/.exec(usage)?.[1])).toBeGreaterThanOrEqual(6);
    await page.screenshot({ path: join(SCREENSHOTS, 'playground-recent.png'), fullPage: true });

    // The same isolation through the API the page uses.
    const listed = await json(
      await fetch(`${pipeline.baseUrl}/v1/requests?limit=100`, {
        headers: { authorization: `Bearer ${pipeline.apiKey}` },
      }),
    );
    expect(listed.requests.map((r: { request_id: string }) => r.request_id)).not.toContain(otherRequestId);
    expect(pageErrors).toEqual([]);
  });
});
