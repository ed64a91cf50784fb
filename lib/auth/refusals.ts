/**
 * Refusals appear in the audit trail (issue 10 item 6): a signed-in account refused by a page, query,
 * action, route or command (403) is recorded as the security event 'refused', once per request,
 * before the 403. `refuse` is the one way to answer 403 with a record.
 */
import { cache } from 'react';
import { forbidden } from 'next/navigation';
import { db } from '../db/client';
import type { RequestOrigin } from '../runtime/request-origin';
import type { SessionUser } from './roles';
import { recordSecurityEvent } from './security-log';

/** One record per request (a page's queries may each refuse the same request). */
const requestState = cache(() => ({ recorded: false }));

async function origin(): Promise<RequestOrigin> {
  try {
    const [{ headers }, { requestOrigin }] = await Promise.all([import('next/headers'), import('../runtime/request-origin')]);
    return requestOrigin(await headers());
  } catch {
    // Outside a request (a script calling a query): no origin to record.
    return { ip: null, userAgent: null };
  }
}

/**
 * Records the refusal of `user` (what was refused: a page, a command…). A failure to record is
 * logged and does not change the answer: the caller is refused either way.
 */
export async function recordRefusal(user: Pick<SessionUser, 'id' | 'email' | 'role' | 'clinicId'>, what: Record<string, unknown>): Promise<void> {
  const state = requestState();
  if (state.recorded) return;
  state.recorded = true;
  try {
    await recordSecurityEvent(db(), {
      type: 'refused',
      userId: user.id,
      email: user.email,
      origin: await origin(),
      detail: { role: user.role, ...(user.clinicId ? { clinicId: user.clinicId } : {}), ...what },
    });
  } catch (error) {
    console.error('could not record a refusal', error);
  }
}

/** Records the refusal, then answers 403. */
export async function refuse(user: Pick<SessionUser, 'id' | 'email' | 'role' | 'clinicId'>, what: Record<string, unknown>): Promise<never> {
  await recordRefusal(user, what);
  forbidden();
}
