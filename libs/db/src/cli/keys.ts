// npm run keys -- --help, and each command's --help (`npm run keys -- create --help`): the usage,
// from `keysCli` below. Adding an option: an entry in `options`, and its name in the commands that take it.
import { Type } from '@sinclair/typebox';
import { DatabaseConfig, loadConfig } from '@sps/config';
import { createDatabase } from '../database.js';
import { migrateToLatest } from '../migrate.js';
import {
  createApiKey,
  listApiKeys,
  revokeApiKey,
  updateKeyControls,
  type KeyControls,
} from '../repositories/api-keys.js';
import { isMain, runCli, UsageError, type CliSpec, type ParsedCommandLine } from './args.js';

/** The per-key controls, taken by create and update. */
const CONTROLS = [
  'allow-providers',
  'allow-models',
  'daily-tokens',
  'monthly-tokens',
  'daily-cost-usd',
  'monthly-cost-usd',
];

export const keysCli: CliSpec = {
  name: 'npm run keys --',
  summary:
    "Manage API keys in DATABASE_URL's database (migrated first). Secrets are shown once, at creation; " +
    "running API instances see a change within their key cache's lifetime.",
  options: {
    tenant: {
      type: 'string',
      value: 'T',
      description: 'tenant name (create: made if new; list: only its keys)',
    },
    name: { type: 'string', value: 'N', description: 'a name for the key' },
    'rate-limit': { type: 'string', value: 'R', description: 'requests per hour (default 1000)' },
    'expires-in-days': {
      type: 'string',
      value: 'D',
      description: 'the key expires after D days (default: never)',
    },
    json: { type: 'boolean', description: 'print the created key as JSON' },
    'allow-providers': {
      type: 'string',
      value: 'a,b',
      description: 'providers the key may use (any: no restriction)',
    },
    'allow-models': {
      type: 'string',
      value: 'm1,m2',
      description: 'models the key may use (any: no restriction)',
    },
    'daily-tokens': { type: 'string', value: 'N', description: 'daily token budget (none: no budget)' },
    'monthly-tokens': { type: 'string', value: 'N', description: 'monthly token budget (none: no budget)' },
    'daily-cost-usd': {
      type: 'string',
      value: 'X',
      description: 'daily cost budget in USD (none: no budget)',
    },
    'monthly-cost-usd': {
      type: 'string',
      value: 'X',
      description: 'monthly cost budget in USD (none: no budget)',
    },
  },
  commands: {
    create: {
      summary: 'create a key for a tenant; prints the key and its webhook signing secret, once',
      required: ['tenant', 'name'],
      options: ['rate-limit', 'expires-in-days', ...CONTROLS, 'json'],
    },
    list: { summary: 'list keys (prefixes, never secrets)', options: ['tenant'] },
    update: {
      summary: "change a key's rate limit or controls (absent options: unchanged)",
      positionals: ['key-id'],
      options: ['rate-limit', ...CONTROLS],
    },
    revoke: { summary: 'revoke a key (at once for new lookups)', positionals: ['key-id'] },
  },
};

async function main({ command, positionals, values }: Extract<ParsedCommandLine, { kind: 'run' }>) {
  const [id] = positionals;
  // Read before connecting: a mistake in an option is a usage error, with nothing opened.
  const controls = command === 'create' || command === 'update' ? keyControlsFrom(values) : {};
  const rateLimit = positiveInteger(values, 'rate-limit');
  const days = positiveInteger(values, 'expires-in-days', 36_500);
  const changes = { ...controls, ...(rateLimit !== undefined ? { rateLimitPerHour: rateLimit } : {}) };
  if (command === 'update' && Object.keys(changes).length === 0)
    throw new UsageError(
      `update needs a change: ${['rate-limit', ...CONTROLS].map((o) => `--${o}`).join(', ')}`,
    );
  const config = loadConfig(Type.Object(DatabaseConfig));
  const db = createDatabase({ url: config.DATABASE_URL, poolSize: 1, applicationName: 'sps-keys' });
  try {
    await migrateToLatest(db);
    if (command === 'create') {
      const created = await createApiKey(db, {
        tenant: values.tenant as string,
        name: values.name as string,
        rateLimitPerHour: rateLimit,
        expiresAt: days ? new Date(Date.now() + days * 86_400_000) : undefined,
        controls,
      });
      if (values.json) console.log(JSON.stringify(created));
      else {
        console.log(`api key (shown once, store it now):   ${created.key}`);
        console.log(`webhook signing secret (shown once):  ${created.webhookSecret}`);
        console.log(`key id: ${created.apiKeyId}  tenant id: ${created.tenantId}`);
      }
    } else if (command === 'list') {
      console.table(await listApiKeys(db, values.tenant as string | undefined));
    } else if (command === 'update') {
      console.log((await updateKeyControls(db, id!, changes)) ? `updated ${id}` : `no key ${id}`);
    } else if (command === 'revoke') {
      console.log((await revokeApiKey(db, id!)) ? `revoked ${id}` : `no active key ${id}`);
    }
  } finally {
    await db.destroy();
  }
}

/** A whole number from 1 to `max` from an option, undefined when absent; a UsageError otherwise. */
export function positiveInteger(
  values: Record<string, string | boolean | undefined>,
  flag: string,
  max = 2_147_483_647, // the database's integer
) {
  const value = values[flag];
  if (typeof value !== 'string') return undefined;
  const number = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(number) || number < 1 || number > max)
    throw new UsageError(`--${flag}: must be a whole number from 1 to ${max} (got '${value}')`);
  return number;
}

if (isMain(import.meta.url)) await runCli(keysCli, process.argv.slice(2), main);

/**
 * The key controls named on the command line (absent: unchanged). `any` lifts an allowlist and
 * `none` a budget; running API instances apply a change within their key cache's lifetime.
 */
export function keyControlsFrom(options: Record<string, string | boolean | undefined>): Partial<KeyControls> {
  const controls: Partial<KeyControls> = {};
  const list = (flag: string) => {
    const value = options[flag];
    if (typeof value !== 'string') return undefined;
    if (value.trim() === 'any') return null;
    const names = value
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean);
    if (names.length === 0) throw new UsageError(`--${flag}: give names separated by commas, or any`);
    return names;
  };
  const amount = (flag: string, integer: boolean) => {
    const value = options[flag];
    if (typeof value !== 'string') return undefined;
    if (value.trim() === 'none') return null;
    const number = Number(value);
    if (
      value.trim() === '' ||
      !Number.isFinite(number) ||
      number < 0 ||
      (integer && !Number.isSafeInteger(number))
    )
      throw new UsageError(`--${flag}: must be a non-negative ${integer ? 'integer' : 'number'}, or none`);
    return number;
  };
  const entries: [keyof KeyControls, string[] | number | null | undefined][] = [
    ['allowedProviders', list('allow-providers')],
    ['allowedModels', list('allow-models')],
    ['dailyTokenBudget', amount('daily-tokens', true)],
    ['monthlyTokenBudget', amount('monthly-tokens', true)],
    ['dailyCostBudgetUsd', amount('daily-cost-usd', false)],
    ['monthlyCostBudgetUsd', amount('monthly-cost-usd', false)],
  ];
  for (const [name, value] of entries) if (value !== undefined) Object.assign(controls, { [name]: value });
  return controls;
}
