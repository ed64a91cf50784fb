import { and, asc, isNull, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { emailOutbox } from '../db/schema';

export type OutboxTemplate = (typeof emailOutbox.$inferInsert)['template'];

/**
 * Mail the app sends goes into email_outbox first, in the transaction that decided to send it; a
 * sender delivers the unsent rows (none is wired up here: no mail server is needed to run Yeyak, and
 * tests read the rows).
 */
export async function queueEmail(db: DbOrTx, message: { to: string; template: OutboxTemplate; payload: Record<string, string> }): Promise<void> {
  await db.insert(emailOutbox).values({ toEmail: message.to.toLowerCase(), template: message.template, payload: message.payload });
}

/** Unsent messages to `to` (oldest first). */
export async function unsentEmailTo(db: DbOrTx, to: string) {
  return db
    .select()
    .from(emailOutbox)
    .where(and(sql`lower(${emailOutbox.toEmail}) = ${to.toLowerCase()}`, isNull(emailOutbox.sentAt)))
    .orderBy(asc(emailOutbox.id));
}
