import { securityEvents, type SecurityEventType } from '../db/schema';
import type { DbOrTx } from '../db/client';
import type { RequestOrigin } from '../runtime/request-origin';

export async function recordSecurityEvent(
  db: DbOrTx,
  event: { type: SecurityEventType; userId?: string | null; email?: string | null; origin: RequestOrigin; detail?: Record<string, unknown>; at?: Date },
): Promise<void> {
  await db.insert(securityEvents).values({
    type: event.type,
    userId: event.userId ?? null,
    email: event.email?.toLowerCase() ?? null,
    ip: event.origin.ip ?? 'unknown',
    userAgent: event.origin.userAgent,
    detail: event.detail ?? null,
    occurredAt: event.at ?? new Date(),
  });
}
