// The playground: plain ES modules, no build step, no third-party code. Every API call carries the
// key the user entered (kept in sessionStorage only), so the page shows what that key may see.
// Text from the API is always set with textContent, never parsed as HTML.
/* global document, Node, location, history, sessionStorage, fetch, URL, crypto, performance, setTimeout, clearTimeout */
import { checkSchemaShape, parseJson } from './json-check.js';

const KEY_STORAGE = 'sps.apiKey';
const END_STATUSES = new Set(['completed', 'failed', 'cancelled', 'expired']);
const WEBHOOK_END = new Set(['delivered', 'failed']);
const KNOWN_PROVIDERS = ['local', 'openai', 'openai-compatible', 'anthropic', 'gemini'];
const DEFAULT_SCHEMA = {
  type: 'object',
  required: ['restaurant', 'people', 'day'],
  properties: {
    restaurant: { type: 'string' },
    people: { type: 'integer', minimum: 1 },
    day: { type: 'string' },
    time: { type: 'string' },
  },
};
const DEFAULT_JOB_PROMPTS = [
  'Invoice #1001 from Acme, 2025-01-15, total $1,250.00',
  'Invoice #1002 from Globex, 2025-02-01, total $310.50',
  'Invoice #1003 from Initech, 2025-02-17, total $99.99',
  'Invoice #1004 from Umbrella, 2025-03-03, total $4,000.00',
  'Invoice #1005 from Hooli, 2025-03-21, total $12.00',
];
const DEFAULT_JOB_SCHEMA = {
  type: 'object',
  required: ['invoice_number', 'vendor', 'total'],
  properties: { invoice_number: { type: 'string' }, vendor: { type: 'string' }, total: { type: 'number' } },
};

const $ = (id) => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`playground: no #${id}`);
  return element;
};

/** An element with text content and attributes; children appended in order. */
function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'className') element.className = value;
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) element.append(child instanceof Node ? child : String(child ?? ''));
  return element;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const usd = (value) => (typeof value === 'number' ? value.toFixed(6) : '—');
const ms = (value) => (typeof value === 'number' ? `${value} ms` : '—');
const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');

// ---------------------------------------------------------------------------------------------
// API key and calls

function apiKey() {
  return sessionStorage.getItem(KEY_STORAGE) ?? '';
}

function setKeyStatus(text, kind = 'muted') {
  const status = $('key-status');
  status.textContent = text;
  status.className = kind;
}

/** One call to this API (relative to /playground/, so a path prefix in front of it still works). */
async function api(method, path, body, headers = {}) {
  const key = apiKey();
  if (!key) {
    setKeyStatus('enter an API key first', 'error');
    return { ok: false, status: 0, body: { error: { code: 'NO_KEY', message: 'enter an API key first' } } };
  }
  let response;
  try {
    response = await fetch(new URL(`../${path.replace(/^\//, '')}`, location.href), {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    return { ok: false, status: 0, body: { error: { code: 'NETWORK', message: String(error) } } };
  }
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = { error: { code: 'NOT_JSON', message: text.slice(0, 300) } };
  }
  if (response.status === 401) setKeyStatus('key refused (unknown, revoked or expired)', 'error');
  return { ok: response.ok, status: response.status, body: parsed, headers: response.headers };
}

/** The error envelope as one line: code, message, and the fields it names. */
function describeError(result) {
  const error = result.body?.error;
  if (!error) return `HTTP ${result.status}`;
  const fields = Array.isArray(error.details?.fields)
    ? ` (${error.details.fields.map((f) => `${f.field}: ${f.reason}`).join('; ')})`
    : '';
  return `${result.status ? `${result.status} ` : ''}${error.code}: ${error.message}${fields}`;
}

function initKey() {
  const input = $('api-key');
  input.value = apiKey();
  if (input.value) setKeyStatus('key set for this tab');
  $('key-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    sessionStorage.setItem(KEY_STORAGE, key);
    setKeyStatus('checking…');
    const result = await api('GET', '/v1/usage');
    if (result.ok) setKeyStatus(`key ok (${result.body.key.name})`, 'ok');
    else if (result.status !== 401) setKeyStatus(describeError(result), 'error');
    loadModels();
    scheduleSchemaCheck();
  });
  $('key-forget').addEventListener('click', () => {
    sessionStorage.removeItem(KEY_STORAGE);
    input.value = '';
    setKeyStatus('key forgotten');
  });
}

// ---------------------------------------------------------------------------------------------
// Tabs

function initTabs() {
  const tabs = ['analyze', 'jobs', 'recent'];
  const show = (name) => {
    for (const tab of tabs) {
      $(`tab-${tab}`).setAttribute('aria-selected', String(tab === name));
      $(`screen-${tab}`).hidden = tab !== name;
    }
    if (name === 'recent') loadRecent();
    if (name === 'jobs') loadJobList();
    history.replaceState(null, '', `#${name}`);
  };
  for (const tab of tabs) $(`tab-${tab}`).addEventListener('click', () => show(tab));
  const initial = location.hash.slice(1);
  if (tabs.includes(initial)) show(initial);
}

// ---------------------------------------------------------------------------------------------
// Models and providers: GET /v1/models when the API has it, else free text with suggestions.

async function loadModels() {
  const providers = new Set(KNOWN_PROVIDERS);
  const models = new Set();
  if (apiKey()) {
    const result = await api('GET', '/v1/models');
    // OpenAI's list shape: ids `provider/model` owned by their provider, and routing aliases (sps).
    if (result.ok && Array.isArray(result.body?.data)) {
      providers.clear();
      for (const { id, owned_by: owner } of result.body.data) {
        if (typeof id !== 'string' || typeof owner !== 'string' || owner === 'sps') continue;
        providers.add(owner);
        if (id.startsWith(`${owner}/`)) models.add(id.slice(owner.length + 1));
      }
      $('provider').placeholder = `any of ${[...providers].join(', ')}`;
    }
  }
  $('provider-list').replaceChildren(...[...providers].map((value) => el('option', { value })));
  $('model-list').replaceChildren(...[...models].map((value) => el('option', { value })));
}

// ---------------------------------------------------------------------------------------------
// Schema editors: parsed on every keystroke (line and column of a syntax error), a light
// structural check at once, then the API's own check (POST /v1/schema-check), debounced.

function schemaChecker(textarea, status, { remote }) {
  let timer;
  let generation = 0;
  const show = (text, kind) => {
    status.textContent = text;
    status.className = `status ${kind}`;
    textarea.classList.toggle('invalid', kind === 'error');
  };
  const check = () => {
    clearTimeout(timer);
    generation += 1;
    const text = textarea.value;
    if (!text.trim()) return (show('no schema: the default analysis shape is used', 'muted'), undefined);
    const parsed = parseJson(text);
    if (!parsed.ok) return (show(parsed.message, 'error'), undefined);
    const problem = checkSchemaShape(parsed.value);
    if (problem) return (show(problem, 'error'), undefined);
    if (!remote || !apiKey()) return (show('JSON ok', 'ok'), parsed.value);
    show('JSON ok; checking with the API…', 'pending');
    const mine = generation;
    timer = setTimeout(async () => {
      const result = await api('POST', '/v1/schema-check', { schema: parsed.value });
      if (mine !== generation) return; // edited since
      if (result.ok && result.body.valid) show('✓ valid schema (checked by the API)', 'ok');
      else if (result.ok) show(describeError({ status: 0, body: { error: result.body.error } }), 'error');
      else show(`could not check: ${describeError(result)}`, 'error');
    }, 400);
    return parsed.value;
  };
  textarea.addEventListener('input', check);
  return check;
}

let scheduleSchemaCheck = () => undefined;

/** The schema of an editor: undefined when empty, an Error when it does not parse. */
function schemaOf(textarea) {
  if (!textarea.value.trim()) return undefined;
  const parsed = parseJson(textarea.value);
  return parsed.ok ? parsed.value : new Error(parsed.message);
}

// ---------------------------------------------------------------------------------------------
// Analyze

function badge(text, kind = '') {
  return el('span', { className: `badge ${kind}` }, text);
}

async function runAnalyze() {
  const runStatus = $('run-status');
  const schema = schemaOf($('schema'));
  if (schema instanceof Error) {
    runStatus.textContent = 'fix the schema first';
    return;
  }
  const options = {};
  if ($('provider').value.trim()) options.provider = $('provider').value.trim();
  if ($('model').value.trim()) options.model = $('model').value.trim();
  if ($('routing').value) options.routing = $('routing').value;
  if ($('bypass-cache').checked) options.bypass_cache = true;
  const body = {
    prompt: $('prompt').value,
    format: $('format').value,
    ...(schema ? { schema } : {}),
    ...(Object.keys(options).length ? { options } : {}),
  };
  $('run').disabled = true;
  runStatus.textContent = 'running…';
  $('answer').textContent = '';
  $('answer-meta').replaceChildren();
  $('attempts').tBodies[0].replaceChildren();
  $('attempts-note').textContent = '';
  const started = performance.now();
  const result = await api('POST', '/v1/analyze', body);
  const elapsed = Math.round(performance.now() - started);
  $('run').disabled = false;
  runStatus.textContent = `${result.status || 'no answer'} in ${elapsed} ms`;
  let requestId;
  if (result.ok) {
    const answer = result.body;
    requestId = answer.request_id;
    $('answer').textContent =
      typeof answer.data === 'string' ? answer.data : JSON.stringify(answer.data, null, 2);
    $('answer-meta').replaceChildren(
      badge(
        `validation: ${answer.validation_status}`,
        answer.validation_status === 'passed' ? 'ok' : 'error',
      ),
      badge(`${answer.provider_used} / ${answer.model}`),
      badge(`${answer.processing_time_ms} ms`),
      badge(`format: ${answer.output_format}`),
      badge(answer.cached ? 'cached' : 'not cached', answer.cached ? 'info' : ''),
      badge(answer.repaired ? 'repaired' : 'not repaired', answer.repaired ? 'info' : ''),
      badge(`language: ${answer.original_language}`),
    );
    $('answer-meta').dataset.validation = answer.validation_status;
  } else {
    requestId = result.body?.error?.details?.request_id ?? result.body?.error?.request_id;
    $('answer').textContent = describeError(result);
    $('answer-meta').replaceChildren(badge(result.body?.error?.code ?? 'error', 'error'));
    $('answer-meta').dataset.validation = 'error';
  }
  if (requestId) await showAttempts(requestId);
}

/** Attempts, tokens and cost of a request, once the sink has stored it (a moment after the answer). */
async function showAttempts(requestId) {
  const note = $('attempts-note');
  note.textContent = 'reading attempts…';
  for (let delay = 150, tries = 0; tries < 12; tries += 1, delay = Math.min(delay * 1.6, 2000)) {
    const result = await api('GET', `/v1/requests/${encodeURIComponent(requestId)}`);
    if (result.ok) {
      const record = result.body;
      const rows = (record.attempts ?? []).map((attempt, i) =>
        el(
          'tr',
          {},
          el('td', {}, i + 1),
          el('td', {}, `${attempt.provider} / ${attempt.model}`),
          el('td', {}, attempt.outcome + (attempt.error_class ? ` (${attempt.error_class})` : '')),
          el('td', {}, `${attempt.tokens_in} / ${attempt.tokens_out}`),
          el('td', {}, attempt.unpriced ? 'unpriced' : usd(attempt.cost_usd)),
          el('td', {}, ms(attempt.latency_ms)),
        ),
      );
      $('attempts').tBodies[0].replaceChildren(...rows);
      note.textContent =
        `request ${record.request_id}: ${record.attempts?.length ?? 0} attempt(s), ` +
        `${record.tokens_in} tokens in, ${record.tokens_out} out, cost ${usd(record.cost_usd)} USD` +
        (rows.length === 0 && record.cached ? ' (answered from the cache: no provider call)' : '');
      note.dataset.requestId = record.request_id;
      return;
    }
    if (result.status !== 404) break;
    await sleep(delay);
  }
  note.textContent = `request ${requestId}: attempts not stored yet (see Recent later)`;
}

// ---------------------------------------------------------------------------------------------
// Jobs

let watching = 0; // the generation of the job monitor: a new watch stops the previous one

async function submitJob() {
  const status = $('job-submit-status');
  const prompts = $('job-prompts')
    .value.split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  if (prompts.length === 0) return void (status.textContent = 'give at least one prompt');
  const schema = schemaOf($('job-schema'));
  if (schema instanceof Error) return void (status.textContent = 'fix the schema first');
  const webhook = $('job-webhook').value.trim();
  $('job-submit').disabled = true;
  status.textContent = 'submitting…';
  const result = await api(
    'POST',
    '/v1/jobs',
    {
      job_type: 'batch',
      request_params: { prompts, ...(schema ? { schema } : {}) },
      ...(webhook ? { webhook_url: webhook } : {}),
    },
    { 'idempotency-key': crypto.randomUUID() },
  );
  $('job-submit').disabled = false;
  if (!result.ok) return void (status.textContent = describeError(result));
  status.textContent = `accepted: ${result.body.job_id}`;
  loadJobList();
  watchJob(result.body.job_id);
}

/** Polls GET /v1/jobs/{id} with backoff (fast while it moves) until the job and its webhook end. */
async function watchJob(jobId) {
  const mine = ++watching;
  $('job-id').textContent = jobId;
  $('job-cancel').disabled = false;
  $('job-cancel').onclick = async () => {
    const result = await api('DELETE', `/v1/jobs/${jobId}`);
    $('job-counts').textContent = result.ok ? 'cancelling…' : describeError(result);
  };
  let delay = 250;
  let last = '';
  for (;;) {
    const result = await api('GET', `/v1/jobs/${jobId}`);
    if (mine !== watching) return;
    if (!result.ok) {
      $('job-status').textContent = describeError(result);
      return;
    }
    const job = result.body;
    renderJob(job);
    const ended = END_STATUSES.has(job.status);
    if (ended) $('job-cancel').disabled = true;
    if (ended && (!job.webhook || WEBHOOK_END.has(job.webhook.status ?? ''))) return loadJobList();
    const state = JSON.stringify([job.status, job.progress, job.webhook?.deliveries?.length]);
    delay = state === last ? Math.min(delay * 1.5, 5000) : 250;
    last = state;
    await sleep(delay);
    if (mine !== watching) return;
  }
}

function renderJob(job) {
  const { total, completed, failed } = job.progress;
  const done = completed + failed;
  const status = $('job-status');
  status.textContent = job.status;
  status.className = `badge ${job.status === 'completed' ? 'ok' : END_STATUSES.has(job.status) ? 'error' : 'info'}`;
  $('job-counts').textContent = `${done}/${total} done · ${completed} succeeded · ${failed} failed`;
  $('job-counts').dataset.done = String(done);
  $('job-counts').dataset.total = String(total);
  const progress = $('job-progress');
  progress.max = Math.max(total, 1);
  progress.value = done;
  const items = [...job.results].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
  $('job-items').tBodies[0].replaceChildren(
    ...items.map((item) =>
      el(
        'tr',
        {},
        el('td', {}, item.index ?? '—'),
        el('td', {}, item.status),
        el(
          'td',
          { className: 'code' },
          item.error
            ? `${item.error.code}: ${item.error.message}`
            : JSON.stringify(item.output?.data ?? item.output),
        ),
      ),
    ),
  );
  const info = $('job-webhook-info');
  const deliveries = job.webhook?.deliveries ?? [];
  info.textContent = job.webhook
    ? `${job.webhook.url} — ${job.webhook.status ?? 'not sent yet'} (${deliveries.length} attempt(s))`
    : 'no webhook for this job';
  $('job-deliveries').tBodies[0].replaceChildren(
    ...deliveries.map((d) =>
      el(
        'tr',
        {},
        el('td', {}, d.attempt),
        el('td', {}, when(d.attempted_at)),
        el('td', {}, d.status_code ?? '—'),
        el('td', {}, ms(d.latency_ms)),
        el('td', {}, d.outcome + (d.error ? ` (${d.error})` : '')),
      ),
    ),
  );
}

async function loadJobList() {
  if (!apiKey()) return;
  const result = await api('GET', '/v1/jobs?limit=10');
  if (!result.ok) return;
  $('job-list').tBodies[0].replaceChildren(
    ...result.body.jobs.map((job) => {
      const link = el('a', { href: '#jobs', 'data-job-id': job.job_id }, job.job_id.slice(0, 8));
      link.addEventListener('click', (event) => {
        event.preventDefault();
        watchJob(job.job_id);
      });
      const { total, completed, failed } = job.progress;
      return el(
        'tr',
        {},
        el('td', {}, link),
        el('td', {}, job.status),
        el('td', {}, `${completed + failed}/${total}`),
        el('td', {}, when(job.created_at)),
      );
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Recent requests and spend

async function loadRecent() {
  const status = $('recent-status');
  if (!apiKey()) return void (status.textContent = 'enter an API key first');
  status.textContent = 'loading…';
  const [usage, recent] = await Promise.all([api('GET', '/v1/usage'), api('GET', '/v1/requests?limit=20')]);
  if (!usage.ok || !recent.ok) {
    status.textContent = describeError(usage.ok ? recent : usage);
    return;
  }
  status.textContent = `updated ${new Date().toLocaleTimeString()}`;
  const { tenant, key } = usage.body;
  const budget = (limit, unit) => (limit === null ? '' : ` of ${unit(limit)} budget`);
  const card = (title, lines) =>
    el('div', { className: 'card' }, el('h3', {}, title), ...lines.map((l) => el('p', {}, l)));
  $('usage').replaceChildren(
    card('Tenant today (UTC)', [
      `${tenant.day.requests} requests`,
      `${tenant.day.tokens} tokens`,
      `${usd(tenant.day.cost_usd)} USD`,
    ]),
    card('Tenant this month', [
      `${tenant.month.requests} requests`,
      `${tenant.month.tokens} tokens`,
      `${usd(tenant.month.cost_usd)} USD`,
    ]),
    card(`This key (${key.name})`, [
      `today: ${key.day.tokens} tokens${budget(key.budgets.daily_tokens, String)}`,
      `today: ${usd(key.day.cost_usd)} USD${budget(key.budgets.daily_cost_usd, usd)}`,
      `month: ${key.month.tokens} tokens${budget(key.budgets.monthly_tokens, String)}`,
      `month: ${usd(key.month.cost_usd)} USD${budget(key.budgets.monthly_cost_usd, usd)}`,
    ]),
  );
  $('recent').tBodies[0].replaceChildren(
    ...recent.body.requests.map((r) =>
      el(
        'tr',
        { 'data-request-id': r.request_id },
        el('td', {}, when(r.created_at)),
        el('td', { className: 'code', title: r.request_id }, r.request_id.slice(0, 8)),
        el('td', { className: 'prompt', title: r.prompt_preview }, r.prompt_preview),
        el(
          'td',
          {},
          badge(
            r.status === 'succeeded' ? (r.validation_status ?? 'succeeded') : (r.error_code ?? 'failed'),
            r.status === 'succeeded' ? 'ok' : 'error',
          ),
        ),
        el('td', {}, `${r.provider_used ?? '—'} / ${r.model ?? '—'}`),
        el('td', {}, r.tokens_used),
        el('td', {}, usd(r.cost_usd)),
        el('td', {}, ms(r.processing_time_ms)),
        el(
          'td',
          {},
          [r.cached && 'cached', r.repaired && 'repaired', r.job_id && 'job'].filter(Boolean).join(' '),
        ),
      ),
    ),
  );
}

// ---------------------------------------------------------------------------------------------

function init() {
  initKey();
  $('schema').value = JSON.stringify(DEFAULT_SCHEMA, null, 2);
  $('job-prompts').value = DEFAULT_JOB_PROMPTS.join('\n');
  $('job-schema').value = JSON.stringify(DEFAULT_JOB_SCHEMA, null, 2);
  scheduleSchemaCheck = schemaChecker($('schema'), $('schema-status'), { remote: true });
  schemaChecker($('job-schema'), $('job-schema-status'), { remote: false })();
  scheduleSchemaCheck();
  $('run').addEventListener('click', runAnalyze);
  $('job-submit').addEventListener('click', submitJob);
  $('recent-refresh').addEventListener('click', loadRecent);
  initTabs();
  loadModels();
  document.body.dataset.ready = 'true';
}

init();
