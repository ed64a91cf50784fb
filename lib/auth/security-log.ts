import { securityEvents, type SecurityEventType } from '../db/schema';
import type { Db } from '../db/client';

export interface RequestOrigin {
  ip: string;
  userAgent: string | null;
}

/** Where a request came from, as far as the headers can tell. */
export function originFrom(headers: Headers): RequestOrigin {
  // The first X-Forwarded-For hop is the client as seen by our own proxy (Next's server sets it
  // for direct connections). Behind a load balancer, it must be configured to overwrite the header.
  const forwarded = headers.get('x-forwarded-for')?.split(',')[0]?.trim();
  const ip = forwarded || headers.get('x-real-ip') || 'unknown';
  return { ip: ip.replace(/^::ffff:/, ''), userAgent: headers.get('user-agent') };
}

export async function recordSecurityEvent(
  db: Db,
  event: { type: SecurityEventType; userId?: string | null; email?: string | null; origin: RequestOrigin; detail?: Record<string, unknown>; at?: Date },
): Promise<void> {
  await db.insert(securityEvents).values({
    type: event.type,
    userId: event.userId ?? null,
    email: event.email?.toLowerCase() ?? null,
    ip: event.origin.ip,
    userAgent: event.origin.userAgent,
    detail: event.detail ?? null,
    occurredAt: event.at ?? new Date(),
  });
}
