import { desc } from 'drizzle-orm';
import { requireUser } from '../auth/guard';
import { db } from '../db/client';
import { securityEvents } from '../db/schema';

/** Newest security events first, for auditors. */
export async function recentSecurityEvents(limit = 200) {
  await requireUser({ roles: ['auditor'], callbackUrl: '/audit' });
  return db().select().from(securityEvents).orderBy(desc(securityEvents.occurredAt), desc(securityEvents.id)).limit(limit);
}
