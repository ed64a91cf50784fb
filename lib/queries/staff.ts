import { and, asc, eq } from 'drizzle-orm';
import { requireUser } from '../auth/guard';
import { db } from '../db/client';
import { users } from '../db/schema';
import { getClinicWithTreatments } from './catalogue';

/** A clinic's dashboard data, for that clinic's own staff only. */
export async function staffClinicOverview(clinicId: string) {
  await requireUser({ roles: ['staff'], clinicId, callbackUrl: `/staff/${clinicId}` });
  const clinic = await getClinicWithTreatments(clinicId);
  if (!clinic) return null;
  const team = await db()
    .select({ id: users.id, name: users.name, email: users.email })
    .from(users)
    .where(and(eq(users.clinicId, clinicId), eq(users.role, 'staff'), eq(users.active, true)))
    .orderBy(asc(users.name));
  return { clinic, team };
}
