import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { Database } from './database.js';
import * as initial from './migrations/0001-initial.js';
import * as jobOutbox from './migrations/0002-job-outbox.js';
import * as jobPublication from './migrations/0003-job-publication.js';
import * as keyControls from './migrations/0004-key-controls.js';
import * as requestLogsFts from './migrations/0005-request-logs-fts.js';

const MIGRATIONS: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-job-outbox': jobOutbox,
  '0003-job-publication': jobPublication,
  '0004-key-controls': keyControls,
  '0005-request-logs-fts': requestLogsFts,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

/** Applies pending migrations; concurrent callers are serialised by kysely's migration lock. */
export async function migrateToLatest(db: Database): Promise<string[]> {
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
