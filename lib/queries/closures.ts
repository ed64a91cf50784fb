/**
 * Holidays and one-off closures with the bookings still on them (issue 9, item 5): closing a day
 * stops new bookings (the domain refuses them, availability offers no slot), but the reservations
 * already on it stay as they are — this lists them so the clinic can move or cancel each one with
 * the staff commands (reschedule / cancel by staff). For the clinic's own staff (its manager too).
 *
 * Reads the catalogue read model's closures (rm_clinic_closures) and the reservations read model;
 * patients' names as Today shows them (decrypted in the patients read model), recorded in the access
 * log (resource `patient-name`) once per call that shows any.
 */
import { and, asc, eq, gte, inArray } from 'drizzle-orm';
import { requireUser } from '../auth/guard';
import { db as appDb, type Db } from '../db/client';
import { clinicDay } from '../domain';
import { recordPersonalDataAccess } from '../privacy/access-log';
import { rmClinicClosures, rmPatients, rmReservations } from '../projections/schema';

/** Reservations that still hold a place on a closed day: not yet at the clinic, not cancelled or rejected. */
const STILL_BOOKED = ['requested', 'confirmed'] as const;

export interface ClosedDayBooking {
  reservationId: string;
  patientId: string;
  /** null: the patient's data was erased. */
  patientName: string | null;
  treatmentName: string;
  kind: string;
  startsAt: string;
  endsAt: string;
  status: (typeof STILL_BOOKED)[number];
}

export interface ClosedDay {
  /** yyyy-mm-dd, Asia/Seoul. */
  day: string;
  reason: string;
  closedAt: string;
  /** The bookings to move or cancel, by start. */
  bookings: ClosedDayBooking[];
}

/** The clinic's closures from `fromDay` on, each with its remaining bookings (data only: callers authorise). */
export async function closedDaysOf(db: Db, clinicId: string, fromDay: string): Promise<ClosedDay[]> {
  const closures = await db
    .select()
    .from(rmClinicClosures)
    .where(and(eq(rmClinicClosures.clinicId, clinicId), gte(rmClinicClosures.day, fromDay)))
    .orderBy(asc(rmClinicClosures.day));
  if (closures.length === 0) return [];
  const booked = await db
    .select()
    .from(rmReservations)
    .where(
      and(
        eq(rmReservations.clinicId, clinicId),
        inArray(
          rmReservations.day,
          closures.map((c) => c.day),
        ),
        inArray(rmReservations.status, [...STILL_BOOKED]),
      ),
    )
    .orderBy(asc(rmReservations.startsAt), asc(rmReservations.id));
  const patientIds = [...new Set(booked.map((r) => r.patientId))];
  const patients = patientIds.length
    ? await db.select({ id: rmPatients.id, name: rmPatients.name, erased: rmPatients.erased }).from(rmPatients).where(inArray(rmPatients.id, patientIds))
    : [];
  const names = new Map(patients.map((p) => [p.id, p.erased ? null : p.name]));
  return closures.map((c) => ({
    day: c.day,
    reason: c.reason,
    closedAt: c.closedAt.toISOString(),
    bookings: booked
      .filter((r) => r.day === c.day)
      .map((r) => ({
        reservationId: r.id,
        patientId: r.patientId,
        patientName: names.get(r.patientId) ?? null,
        treatmentName: r.treatmentName,
        kind: r.kind,
        startsAt: r.startsAt.toISOString(),
        endsAt: r.endsAt.toISOString(),
        status: r.status as ClosedDayBooking['status'],
      })),
  }));
}

/**
 * The clinic's closures from today (Seoul) on, with the bookings still on each, for the clinic's own
 * staff only (others get 403).
 */
export async function closedDayBookings(clinicId: string, now = new Date()): Promise<ClosedDay[]> {
  const user = await requireUser({ roles: ['staff'], clinicId, callbackUrl: `/staff/${clinicId}` });
  const days = await closedDaysOf(appDb(), clinicId, clinicDay(now));
  const named = days.flatMap((d) => d.bookings).filter((b) => b.patientName !== null);
  // Access log: one entry naming every patient whose decrypted name this shows, before it is shown.
  if (named.length) {
    await recordPersonalDataAccess({ user, action: 'view', resource: 'patient-name', patientIds: [...new Set(named.map((b) => b.patientId))], clinicId, detail: { page: 'closures' } });
  }
  return days;
}
