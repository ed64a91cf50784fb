import { asc, eq } from 'drizzle-orm';
import { db } from '../db/client';
import { clinics, treatments } from '../db/schema';

// The catalogue (clinics, treatments, prices, hours) is public: no sign-in needed.

export async function listClinicsWithTreatments() {
  const [clinicRows, treatmentRows] = await Promise.all([
    db().select().from(clinics).orderBy(asc(clinics.nameEn)),
    db().select().from(treatments).orderBy(asc(treatments.priceKrw)),
  ]);
  return clinicRows.map((clinic) => ({ ...clinic, treatments: treatmentRows.filter((t) => t.clinicId === clinic.id) }));
}

export async function getClinicWithTreatments(clinicId: string) {
  const [clinic] = await db().select().from(clinics).where(eq(clinics.id, clinicId)).limit(1);
  if (!clinic) return null;
  const list = await db().select().from(treatments).where(eq(treatments.clinicId, clinicId)).orderBy(asc(treatments.category), asc(treatments.priceKrw));
  return { ...clinic, treatments: list };
}
