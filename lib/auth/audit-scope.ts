/**
 * Who may read the audit area (issue 10 item 8), and how far: auditors read every clinic, read-only;
 * a clinic manager (staff with the manager flag) reads only their own clinic's trail and access log;
 * everyone else — other staff, patients, admins (an admin runs the system, an auditor checks it) — is
 * refused. Every audit page and every lib/queries audit function calls `requireAuditScope` on the
 * server and filters with `scopedClinic` / checks with `assertInScope`, whatever the proxy decided.
 */
import { forbidden } from 'next/navigation';
import { requireUser } from './guard';
import { refuse } from './refusals';
import type { SessionUser } from './roles';

export interface AuditScope {
  user: SessionUser;
  /** null: every clinic (an auditor); otherwise the one clinic a manager may read. */
  clinicId: string | null;
}

/** The scope a user reads the audit area with, or null if they may not read it at all. */
export function auditScopeOf(user: Pick<SessionUser, 'role' | 'clinicId' | 'isClinicManager'>): { clinicId: string | null } | null {
  if (user.role === 'auditor') return { clinicId: null };
  if (user.role === 'staff' && user.isClinicManager && user.clinicId) return { clinicId: user.clinicId };
  return null;
}

/** Signed out → sign-in; not an auditor or a clinic manager → 403; otherwise the caller's scope. */
export async function requireAuditScope(callbackUrl: string): Promise<AuditScope> {
  const user = await requireUser({ roles: ['auditor', 'staff'], callbackUrl });
  const scope = auditScopeOf(user);
  if (!scope) return refuse(user, { at: callbackUrl, required: 'auditor or clinic manager' });
  return { user, clinicId: scope.clinicId };
}

/**
 * The clinic a query must filter on: a manager's own clinic whatever was asked for (a filter can
 * narrow an auditor's view, never widen a manager's); for an auditor, the requested one or none.
 */
export function scopedClinic(scope: Pick<AuditScope, 'clinicId'>, requested?: string | null): string | undefined {
  return scope.clinicId ?? (requested || undefined);
}

/**
 * 403 when a manager reaches something that is not wholly their clinic's: the clinics a thing belongs
 * to (e.g. of a stream's events; nulls — events of no clinic — are ignored) must be theirs alone, and
 * a thing of no clinic at all (a patient's own stream) is not theirs. Auditors reach everything.
 */
export function assertInScope(scope: Pick<AuditScope, 'clinicId'>, clinicIds: string | null | readonly (string | null)[]): void {
  if (scope.clinicId === null) return;
  const ids = (typeof clinicIds === 'string' || clinicIds === null ? [clinicIds] : clinicIds).filter((id): id is string => id !== null);
  if (ids.length === 0 || ids.some((id) => id !== scope.clinicId)) forbidden();
}
