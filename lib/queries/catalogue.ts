import { asc, eq } from 'drizzle-orm';
import { db } from '../db/client';
import type { clinic as clinicDomain } from '../domain';
import { clinics, treatments } from '../db/schema';
import { rmClinicPolicies } from '../projections/schema';

// The catalogue (clinics, treatments, prices, hours) is public: no sign-in needed.

export async function listClinicsWithTreatments() {
  const [clinicRows, treatmentRows] = await Promise.all([
    db().select().from(clinics).orderBy(asc(clinics.nameEn)),
    db().select().from(treatments).orderBy(asc(treatments.priceKrw)),
  ]);
  return clinicRows.map((clinic) => ({ ...clinic, treatments: treatmentRows.filter((t) => t.clinicId === clinic.id) }));
}

/** A clinic with its treatments, opening intervals (lunch breaks included) and cancellation policy. */
export async function getClinicWithTreatments(clinicId: string) {
  const [row] = await db()
    .select({ clinic: clinics, policy: rmClinicPolicies.policy })
    .from(clinics)
    .leftJoin(rmClinicPolicies, eq(rmClinicPolicies.clinicId, clinics.id))
    .where(eq(clinics.id, clinicId))
    .limit(1);
  if (!row) return null;
  const list = await db().select().from(treatments).where(eq(treatments.clinicId, clinicId)).orderBy(asc(treatments.category), asc(treatments.priceKrw));
  return {
    ...row.clinic,
    policy: row.policy as clinicDomain.CancellationPolicy | null,
    treatments: list,
  };
}
