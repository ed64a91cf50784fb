/**
 * The staff dashboard's reads (issue 9, item 1: Today), for the signed-in staff member's own clinic
 * only: every exported page-facing function calls requireUser({ roles: ['staff'], clinicId }).
 * The `…Of(db, …)` functions are the data alone (tested against a real database).
 *
 * - the day's slots: the schedule read model's live holds counted per slot of the domain's grid
 *   (booked = confirmed holds, pending = unconfirmed holds not yet expired, free = the rest);
 * - requests waiting for the clinic (status requested, from today on), soonest first;
 * - the day's expected arrivals (confirmed, checked in, completed, no-show), by start time;
 * - patients' names from the patients read model (decrypted there; staff of the clinic may see a
 *   patient's name, contact details are not read here); `staffToday` records the names it shows in
 *   the access log (resource `patient-name`), one entry per render.
 */
import { and, asc, eq, gte, inArray, sql } from 'drizzle-orm';
import { requireUser } from '../auth/guard';
import { db as appDb, type Db } from '../db/client';
import { users } from '../db/schema';
import { atLocal, clinic as clinicDomain, clinicDay, DayKey, plusMinutes } from '../domain';
import { recordPersonalDataAccess } from '../privacy/access-log';
import { rmPatients, rmReservations, rmScheduleClinics, rmScheduleHolds } from '../projections/schema';
import { getClinicWithTreatments, type CatalogueClinic } from './catalogue';

/** A clinic day, yyyy-mm-dd, that really is a date within the days the product knows (DayKey). */
export function isClinicDay(day: string | undefined): day is string {
  return DayKey.safeParse(day).success;
}

/** The day a staff page shows: `?day=` when it is a date, else today (Seoul). */
export function staffDay(day: string | undefined, now = new Date()): string {
  return isClinicDay(day) ? day : clinicDay(now);
}

/** The clinic day `days` away from `day`. */
export function shiftDay(day: string, days: number): string {
  return clinicDay(plusMinutes(atLocal(day, '12:00'), days * 24 * 60));
}

export interface SlotSeats {
  time: string;
  startsAt: string;
  capacity: number;
  booked: number;
  pending: number;
  free: number;
}

export interface DeskReservation {
  id: string;
  patientId: string;
  patientName: string | null;
  treatmentName: string;
  kind: string;
  startsAt: string;
  endsAt: string;
  day: string;
  status: string;
  depositDueKrw: number;
  depositPaidKrw: number;
  note: string | null;
  visitId: string | null;
}

export interface TodayData {
  day: string;
  today: string;
  /** The day is a holiday or one-off closure: why (no seats offered; bookings still on it are listed by lib/queries/closures.ts). */
  closedReason: string | null;
  slots: SlotSeats[];
  requests: DeskReservation[];
  arrivals: DeskReservation[];
}

const ARRIVAL_STATUSES = ['confirmed', 'checked-in', 'completed', 'no-show'] as const;

/** Seats per slot of the day's grid, from the schedule read model's live holds. */
export async function slotSeatsOf(
  db: Db,
  clinicId: string,
  day: string,
  now: Date,
  fallback?: Pick<CatalogueClinic, 'openingHours' | 'slotMinutes' | 'slotCapacity'> & { closedDays?: Record<string, string> },
): Promise<SlotSeats[]> {
  // A closed day has no slots (the domain's grid is empty on it).
  if (fallback?.closedDays?.[day] !== undefined) return [];
  const [[facts], holds] = await Promise.all([
    db.select().from(rmScheduleClinics).where(eq(rmScheduleClinics.clinicId, clinicId)).limit(1),
    db.select().from(rmScheduleHolds).where(and(eq(rmScheduleHolds.clinicId, clinicId), eq(rmScheduleHolds.day, day))),
  ]);
  const f = facts ?? (fallback ? { openingHours: fallback.openingHours, slotMinutes: fallback.slotMinutes, slotCapacity: fallback.slotCapacity } : null);
  if (!f) return [];
  const grid = clinicDomain.slotStartsOn({ openingHours: f.openingHours, slotLengthMinutes: f.slotMinutes, slotCapacity: f.slotCapacity } as clinicDomain.ClinicBookingFacts, day);
  return grid.map((time) => {
    const covering = holds.filter((h) => h.slots.includes(time));
    const booked = covering.filter((h) => h.confirmed).length;
    // An unconfirmed hold past its expiry no longer takes a seat (the domain's rule), even before the sweep releases it.
    const pending = covering.filter((h) => !h.confirmed && h.expiresAt.getTime() > now.getTime()).length;
    return { time, startsAt: atLocal(day, time).toISOString(), capacity: f.slotCapacity, booked, pending, free: Math.max(0, f.slotCapacity - booked - pending) };
  });
}

async function withNames(db: Db, rows: Array<typeof rmReservations.$inferSelect>): Promise<DeskReservation[]> {
  const ids = [...new Set(rows.map((r) => r.patientId))];
  const patients = ids.length ? await db.select({ id: rmPatients.id, name: rmPatients.name, erased: rmPatients.erased }).from(rmPatients).where(inArray(rmPatients.id, ids)) : [];
  const names = new Map(patients.map((p) => [p.id, p.erased ? null : p.name]));
  return rows.map((r) => ({
    id: r.id,
    patientId: r.patientId,
    patientName: names.get(r.patientId) ?? null,
    treatmentName: r.treatmentName,
    kind: r.kind,
    startsAt: r.startsAt.toISOString(),
    endsAt: r.endsAt.toISOString(),
    day: r.day,
    status: r.status,
    depositDueKrw: r.depositDueKrw,
    depositPaidKrw: r.depositPaidKrw,
    note: r.note,
    visitId: r.visitId,
  }));
}

/** Today's desk for a clinic day (data only: callers authorise; see `staffToday`). */
export async function todayOf(
  db: Db,
  clinicId: string,
  day: string,
  now = new Date(),
  fallback?: Pick<CatalogueClinic, 'openingHours' | 'slotMinutes' | 'slotCapacity'> & { closedDays?: Record<string, string> },
): Promise<TodayData> {
  const today = clinicDay(now);
  const [slots, requested, arriving] = await Promise.all([
    slotSeatsOf(db, clinicId, day, now, fallback),
    db
      .select()
      .from(rmReservations)
      // The status written out (not a parameter) so the planner can use the partial index rm_reservations_requested_idx.
      .where(and(eq(rmReservations.clinicId, clinicId), gte(rmReservations.day, today), sql`${rmReservations.status} = 'requested'`))
      .orderBy(asc(rmReservations.startsAt), asc(rmReservations.id))
      .limit(200),
    db
      .select()
      .from(rmReservations)
      .where(and(eq(rmReservations.clinicId, clinicId), eq(rmReservations.day, day), inArray(rmReservations.status, [...ARRIVAL_STATUSES])))
      .orderBy(asc(rmReservations.startsAt), asc(rmReservations.id)),
  ]);
  const [requests, arrivals] = await Promise.all([withNames(db, requested), withNames(db, arriving)]);
  return { day, today, closedReason: fallback?.closedDays?.[day] ?? null, slots, requests, arrivals };
}

/** The clinic's active staff, by name. */
export function teamOf(db: Db, clinicId: string) {
  return db
    .select({ id: users.id, name: users.name, email: users.email })
    .from(users)
    .where(and(eq(users.clinicId, clinicId), eq(users.role, 'staff'), eq(users.active, true)))
    .orderBy(asc(users.name));
}

/** A clinic's dashboard data, for that clinic's own staff only. */
export async function staffClinicOverview(clinicId: string) {
  await requireUser({ roles: ['staff'], clinicId, callbackUrl: `/staff/${clinicId}` });
  const clinic = await getClinicWithTreatments(clinicId);
  if (!clinic) return null;
  return { clinic, team: await teamOf(appDb(), clinicId) };
}

/** Today (`/staff/<clinicId>?day=`): the clinic, its team and the day's desk, for that clinic's own staff only. */
export async function staffToday(clinicId: string, day: string | undefined, now = new Date()) {
  const user = await requireUser({ roles: ['staff'], clinicId, callbackUrl: `/staff/${clinicId}` });
  const clinic = await getClinicWithTreatments(clinicId);
  if (!clinic) return null;
  const [team, desk] = await Promise.all([teamOf(appDb(), clinicId), todayOf(appDb(), clinicId, staffDay(day, now), now, clinic)]);
  // Access log: one entry per render naming every patient whose decrypted name it shows (before it is shown), like the board.
  const patientIds = [...desk.requests, ...desk.arrivals].filter((r) => r.patientName !== null).map((r) => r.patientId);
  if (patientIds.length) await recordPersonalDataAccess({ user, action: 'view', resource: 'patient-name', patientIds, clinicId, detail: { page: 'today', day: desk.day } });
  return { clinic, team, desk };
}

/** The treatments staff may add to a visit (the clinic's listed ones), for that clinic's own staff only. */
export async function staffTreatments(clinicId: string) {
  await requireUser({ roles: ['staff'], clinicId, callbackUrl: `/staff/${clinicId}/board` });
  const clinic = await getClinicWithTreatments(clinicId);
  return clinic ? { clinic, treatments: clinic.treatments } : null;
}

/** A registered, active patient account by its e-mail (exact, case-insensitive), for a walk-in. */
export async function patientByEmailOf(db: Db, email: string): Promise<{ id: string } | null> {
  const normalized = email.trim().toLowerCase();
  const [row] = await db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(sql`lower(${users.email})`, normalized), eq(users.role, 'patient'), eq(users.active, true)))
    .limit(1);
  return row ?? null;
}

/** The walk-in lookup, for staff only (the arrival itself is checked by the command layer). */
export async function walkInPatient(email: string): Promise<{ id: string } | null> {
  await requireUser({ roles: ['staff'] });
  return patientByEmailOf(appDb(), email);
}
