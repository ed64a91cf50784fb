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
    email: storable(event.email?.toLowerCase() ?? null),
    ip: event.origin.ip ?? 'unknown',
    userAgent: storable(event.origin.userAgent),
    detail: event.detail ? (storable(event.detail) as Record<string, unknown>) : null,
    occurredAt: event.at ?? new Date(),
  });
}

/** NUL and lone surrogates (PostgreSQL's text and jsonb refuse them) as U+FFFD. */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * What a request brought (a path, a form's clinic id, a user agent) made storable: a hand-made request
 * with a NUL in it must still leave its record (a refusal that failed to insert would go unrecorded).
 */
function storable<T>(value: T): T {
  if (typeof value === 'string') return value.replace(UNSTORABLE, '\uFFFD') as T;
  if (Array.isArray(value)) return value.map(storable) as T;
  if (value && typeof value === 'object' && !(value instanceof Date)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [storable(k), storable(v)])) as T;
  return value;
}
