// npm run migrate -- --help: the usage, from `migrateCli` below.
import { loadConfig, DatabaseConfig } from '@sps/config';
import { Type } from '@sinclair/typebox';
import { createDatabase } from '../database.js';
import { migrateToLatest } from '../migrate.js';
import { isMain, runCli, type CliSpec } from './args.js';

export const migrateCli: CliSpec = {
  name: 'npm run migrate --',
  summary:
    "Brings DATABASE_URL's database schema up to date (every migration not applied yet, in order), " +
    'and prints what it applied.',
  options: {},
};

async function main() {
  const config = loadConfig(Type.Object(DatabaseConfig));
  const db = createDatabase({ url: config.DATABASE_URL, poolSize: 1, applicationName: 'sps-migrate' });
  try {
    const applied = await migrateToLatest(db);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database schema up to date');
  } finally {
    await db.destroy();
  }
}

if (isMain(import.meta.url)) await runCli(migrateCli, process.argv.slice(2), main);
