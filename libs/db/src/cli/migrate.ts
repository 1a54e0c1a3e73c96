import { loadConfig, DatabaseConfig } from '@sps/config';
import { Type } from '@sinclair/typebox';
import { createDatabase } from '../database.js';
import { migrateToLatest } from '../migrate.js';

const config = loadConfig(Type.Object(DatabaseConfig));
const db = createDatabase({ url: config.DATABASE_URL, poolSize: 1, applicationName: 'sps-migrate' });
try {
  const applied = await migrateToLatest(db);
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database schema up to date');
} finally {
  await db.destroy();
}
