/**
 * The access log (PIPA 접속기록; docs/privacy.md, "Access log"): who — staff, auditors, admins — read
 * whose personal data, when, from where, and why. Every server-side read of patient personal data by
 * someone other than the patient calls `recordPersonalDataAccess` in the same request BEFORE the data
 * is returned: the insert is awaited and its failure propagates, so data that could not be logged is
 * never shown. A patient reading their own data is not logged (the log is about those who handle it).
 *
 * The table (migration 0015) refuses UPDATE, DELETE and TRUNCATE by triggers, like es_events, and its
 * rows are hash-chained (migration 0020, lib/integrity/access-chain.ts) and included in the log's seals.
 */
import type { SessionUser } from '../auth/roles';
import { db as appDb, type Db } from '../db/client';
import type { AccessLogAction } from '../db/schema';
import { accessChainKeysFromEnv, appendChainedAccessRow } from '../integrity/access-chain';
import type { RequestOrigin } from '../runtime/request-origin';

export interface PersonalDataAccess {
  /** Who read: the signed-in account (its role and clinic are recorded as they are now). */
  user: Pick<SessionUser, 'id' | 'role' | 'clinicId'>;
  action: AccessLogAction;
  /** What was read, a short label: `patient-contact`, `account-list`, `visit-board-names`. */
  resource: string;
  /** Whose data: the patients whose personal data is returned (empty for e.g. a list of accounts). */
  patientIds?: readonly string[];
  /** The clinic the read was made in (a staff member's own clinic); defaults to the reader's clinic. */
  clinicId?: string | null;
  /** Why: required for exports (the database refuses an export without one). */
  reason?: string | null;
  /** Where the request came from; read from the request's headers when not given. */
  origin?: RequestOrigin;
  /** Small, non-personal facts about the read (e.g. how many rows a list held). */
  detail?: Record<string, unknown>;
}

async function currentOrigin(): Promise<RequestOrigin> {
  // Imported lazily so that lib/privacy stays usable outside a request (tests, scripts pass `origin`).
  const [{ headers }, { requestOrigin }] = await Promise.all([import('next/headers'), import('../runtime/request-origin')]);
  return requestOrigin(await headers());
}

/** Appends one access-log entry; throws (and so withholds the data) if it cannot be recorded. */
export async function recordPersonalDataAccess(entry: PersonalDataAccess, db: Db = appDb()): Promise<{ id: number }> {
  if (entry.action === 'export' && !entry.reason?.trim()) throw new Error('access log: an export needs a reason');
  const origin = entry.origin ?? (await currentOrigin());
  // Chained to the previous entry under the head row's lock (lib/integrity/access-chain.ts).
  return appendChainedAccessRow(db, accessChainKeysFromEnv()[0]!, {
    accountId: entry.user.id,
    role: entry.user.role,
    clinicId: entry.clinicId === undefined ? entry.user.clinicId : entry.clinicId,
    ip: origin.ip,
    userAgent: origin.userAgent,
    action: entry.action,
    resource: entry.resource,
    patientIds: [...new Set(entry.patientIds ?? [])],
    reason: entry.reason?.trim() || null,
    detail: entry.detail ?? null,
  });
}
