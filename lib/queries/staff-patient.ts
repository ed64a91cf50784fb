/**
 * Staff's view of a patient (issue 9, item 6): the patient's reservations and visits at the staff
 * member's own clinic only, from the reservations and visits read models. A patient with neither at
 * the clinic does not exist for that clinic (404): staff cannot look up arbitrary patients.
 *
 * Personal data is read only when needed and every read is written to the access log first
 * (lib/privacy/access-log.ts): the name on each render (`patient-name`), the phone and e-mail only
 * through "show contact" (`patient-contact`).
 */
import { and, desc, eq } from 'drizzle-orm';
import { notFound } from 'next/navigation';
import { requireUser } from '../auth/guard';
import { db as appDb, type Db } from '../db/client';
import { recordPersonalDataAccess } from '../privacy/access-log';
import { rmPatients, rmReservations, rmVisits } from '../projections/schema';
import type { RequestOrigin } from '../runtime/request-origin';

export interface StaffPatientReservation {
  id: string;
  treatmentName: string;
  kind: string;
  startsAt: string;
  day: string;
  status: string;
  depositDueKrw: number;
  depositPaidKrw: number;
}

export interface StaffPatientVisit {
  id: string;
  day: string;
  stage: string;
  arrivedAt: string;
  dischargedAt: string | null;
  totalKrw: number;
  treatments: string[];
}

export interface StaffPatientView {
  patientId: string;
  /** Decrypted name; null when erased or not projected yet. */
  name: string | null;
  erased: boolean;
  reservations: StaffPatientReservation[];
  visits: StaffPatientVisit[];
}

export interface PatientContact {
  phone: string | null;
  email: string | null;
  erased: boolean;
}

/** The patient's reservations and visits at the clinic (data only: callers authorise); null when there are none. */
export async function staffPatientOf(db: Db, clinicId: string, patientId: string): Promise<StaffPatientView | null> {
  const [reservations, visits, [patient]] = await Promise.all([
    db
      .select()
      .from(rmReservations)
      .where(and(eq(rmReservations.clinicId, clinicId), eq(rmReservations.patientId, patientId)))
      .orderBy(desc(rmReservations.startsAt)),
    db
      .select()
      .from(rmVisits)
      .where(and(eq(rmVisits.clinicId, clinicId), eq(rmVisits.patientId, patientId)))
      .orderBy(desc(rmVisits.arrivedAt)),
    db.select({ name: rmPatients.name, erased: rmPatients.erased }).from(rmPatients).where(eq(rmPatients.id, patientId)).limit(1),
  ]);
  if (reservations.length === 0 && visits.length === 0) return null;
  return {
    patientId,
    name: patient && !patient.erased ? patient.name : null,
    erased: patient?.erased ?? false,
    reservations: reservations.map((r) => ({
      id: r.id,
      treatmentName: r.treatmentName,
      kind: r.kind,
      startsAt: r.startsAt.toISOString(),
      day: r.day,
      status: r.status,
      depositDueKrw: r.depositDueKrw,
      depositPaidKrw: r.depositPaidKrw,
    })),
    visits: visits.map((v) => ({
      id: v.id,
      day: v.day,
      stage: v.stage,
      arrivedAt: v.arrivedAt.toISOString(),
      dischargedAt: v.dischargedAt?.toISOString() ?? null,
      totalKrw: v.totalKrw,
      treatments: v.treatments.map((t) => t.name),
    })),
  };
}

/** Whether the patient has a reservation or a visit at the clinic (the only patients its staff may look at). */
async function isPatientOfClinic(db: Db, clinicId: string, patientId: string): Promise<boolean> {
  const [[reservation], [visit]] = await Promise.all([
    db.select({ id: rmReservations.id }).from(rmReservations).where(and(eq(rmReservations.clinicId, clinicId), eq(rmReservations.patientId, patientId))).limit(1),
    db.select({ id: rmVisits.id }).from(rmVisits).where(and(eq(rmVisits.clinicId, clinicId), eq(rmVisits.patientId, patientId))).limit(1),
  ]);
  return !!reservation || !!visit;
}

/** The page's data: the clinic's own staff only (403 otherwise); 404 for a patient who is not the clinic's. */
export async function staffPatient(clinicId: string, patientId: string): Promise<StaffPatientView> {
  const user = await requireUser({ roles: ['staff'], clinicId, callbackUrl: `/staff/${clinicId}/patients/${patientId}` });
  const db = appDb();
  const view = await staffPatientOf(db, clinicId, patientId);
  if (!view) notFound();
  if (view.name !== null) await recordPersonalDataAccess({ user, action: 'view', resource: 'patient-name', patientIds: [patientId], clinicId }, db);
  return view;
}

/**
 * "Show contact": the patient's phone and e-mail (decrypted in the patients read model), for the
 * clinic's own staff, recorded in the access log before they are returned. A patient who is not the
 * clinic's → 404, before anything is read or recorded.
 */
export async function revealPatientContact(clinicId: string, patientId: string, origin: RequestOrigin): Promise<PatientContact> {
  const user = await requireUser({ roles: ['staff'], clinicId });
  const db = appDb();
  if (!(await isPatientOfClinic(db, clinicId, patientId))) notFound();
  const [patient] = await db.select({ phone: rmPatients.phone, email: rmPatients.email, erased: rmPatients.erased }).from(rmPatients).where(eq(rmPatients.id, patientId)).limit(1);
  if (!patient || patient.erased) return { phone: null, email: null, erased: patient?.erased ?? false };
  await recordPersonalDataAccess({ user, action: 'view', resource: 'patient-contact', patientIds: [patientId], clinicId, origin }, db);
  return { phone: patient.phone, email: patient.email, erased: false };
}
