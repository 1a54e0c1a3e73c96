import { sql } from 'kysely';
import type { Database } from '@sps/db';

/**
 * Ends a test tenant's jobs still running (cancelled, published, event marked emitted), so that no
 * job resumer or sweeper of a later test, which act on every job in the shared database, picks them up.
 */
export async function endTenantJobs(db: Database, tenantId: string): Promise<void> {
  await db
    .updateTable('jobs')
    .set({
      status: 'cancelled',
      completed_at: sql`now()`,
      event_emitted_at: sql`now()`,
      items_published_at: sql`coalesce(items_published_at, now())`,
    })
    .where('tenant_id', '=', tenantId)
    .where('status', 'in', ['pending', 'processing'])
    .execute();
}
