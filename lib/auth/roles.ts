import type { Role } from '../db/schema';

/** What the session (JWT) carries about a user. */
export interface SessionUser {
  id: string;
  email: string;
  name: string;
  role: Role;
  /** Staff only: the clinic they belong to. */
  clinicId: string | null;
  /**
   * Staff only: a clinic manager (an admin sets it), who also runs the clinic (catalogue, hours,
   * closures, settings). Read from the account row on every request (lib/auth/guard.ts), so a change
   * counts from the next request; the token's copy is only what sign-in saw.
   */
  isClinicManager: boolean;
}

/** Where each role lands after signing in. */
export function homeFor(user: Pick<SessionUser, 'role' | 'clinicId'>): string {
  switch (user.role) {
    case 'patient':
      return '/me';
    case 'staff':
      return user.clinicId ? `/staff/${user.clinicId}` : '/forbidden';
    case 'auditor':
      return '/audit';
    case 'admin':
      return '/admin';
  }
}

export type RouteDecision = 'allow' | 'sign-in' | 'forbidden';

/**
 * Which protected area a path belongs to, and whether `user` may enter it.
 * Used by the proxy (first line) and mirrored by `requireUser` in every page,
 * action and query (the line that counts).
 */
export function decideRoute(pathname: string, user: Pick<SessionUser, 'role' | 'clinicId'> | null): RouteDecision {
  const area = pathname.split('/')[1] ?? '';
  const allowed: Record<string, readonly Role[]> = {
    me: ['patient'],
    staff: ['staff'],
    // Auditors (every clinic) and clinic managers (their own clinic). All staff pass here: the manager
    // flag is read from the account row by each audit page and query (lib/auth/audit-scope.ts), which
    // refuse staff without it; the session's copy is only what sign-in saw, so a flag granted or taken
    // since counts from the next request.
    audit: ['auditor', 'staff'],
    admin: ['admin'],
  };
  const roles = allowed[area];
  if (!roles) return 'allow';
  if (!user) return 'sign-in';
  if (!roles.includes(user.role)) return 'forbidden';
  if (area === 'staff') {
    const clinicId = pathname.split('/')[2];
    if (clinicId && clinicId !== user.clinicId) return 'forbidden';
  }
  return 'allow';
}
