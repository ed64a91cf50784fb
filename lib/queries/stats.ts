/**
 * The clinic's statistics (issue 9, item 4): today and the last 30 Seoul days (today and the 29 before),
 * for the signed-in staff member of that clinic only.
 *
 * - bookings, cancellations, revenue: the daily-stats read model (rm_clinic_daily_stats), by the Seoul day
 *   the event happened (a booking made, a cancellation, money captured − refunded);
 * - no-show rate: of the appointments of that day that reached their start time (confirmed, checked in,
 *   completed or no-show, start ≤ now), the share recorded as no-shows (rm_reservations, by appointment day;
 *   docs/read-side.md);
 * - top treatments: reservations for days in the period (not cancelled, not rejected), counted per
 *   treatment (rm_reservations, on its (clinic_id, day) index).
 */
import { and, eq, gte, lte, sql } from 'drizzle-orm';
import { requireUser } from '../auth/guard';
import { db as appDb, type Db } from '../db/client';
import { clinicDay } from '../domain';
import { rmClinicDailyStats, rmReservations } from '../projections/schema';
import { getClinicWithTreatments } from './catalogue';
import { shiftDay } from './staff';

export const STATS_DAYS = 30;

export interface StatsDay {
  readonly day: string;
  readonly bookings: number;
  readonly cancellations: number;
  readonly noShows: number;
  /** Appointments of the day that reached their time (the no-show rate's denominator). */
  readonly due: number;
  /** noShows / due, 0..1; null when nothing was due. */
  readonly noShowRate: number | null;
  readonly capturedKrw: number;
  readonly refundedKrw: number;
  /** Captured − refunded. */
  readonly revenueKrw: number;
}

export interface TopTreatment {
  readonly treatmentId: string;
  readonly treatmentName: string;
  readonly reservations: number;
}

export interface ClinicStats {
  readonly clinicId: string;
  readonly today: string;
  readonly from: string;
  /** Oldest first, one per day (days with nothing are zeros). */
  readonly days: readonly StatsDay[];
  readonly todayTotals: StatsDay;
  readonly periodTotals: Omit<StatsDay, 'day'>;
  readonly topToday: readonly TopTreatment[];
  readonly topPeriod: readonly TopTreatment[];
}

const rate = (noShows: number, due: number) => (due === 0 ? null : noShows / due);

function sum(days: readonly StatsDay[]): Omit<StatsDay, 'day'> {
  const t = { bookings: 0, cancellations: 0, noShows: 0, due: 0, capturedKrw: 0, refundedKrw: 0, revenueKrw: 0 };
  for (const d of days) {
    t.bookings += d.bookings;
    t.cancellations += d.cancellations;
    t.noShows += d.noShows;
    t.due += d.due;
    t.capturedKrw += d.capturedKrw;
    t.refundedKrw += d.refundedKrw;
    t.revenueKrw += d.revenueKrw;
  }
  return { ...t, noShowRate: rate(t.noShows, t.due) };
}

const LIVE = sql`${rmReservations.status} not in ('cancelled', 'rejected')`;

async function topTreatments(db: Db, clinicId: string, from: string, to: string, limit = 5): Promise<TopTreatment[]> {
  const rows = await db
    .select({ treatmentId: rmReservations.treatmentId, treatmentName: sql<string>`max(${rmReservations.treatmentName})`, reservations: sql<number>`count(*)::int` })
    .from(rmReservations)
    .where(and(eq(rmReservations.clinicId, clinicId), gte(rmReservations.day, from), lte(rmReservations.day, to), LIVE))
    .groupBy(rmReservations.treatmentId)
    .orderBy(sql`count(*) desc`, rmReservations.treatmentId)
    .limit(limit);
  return rows;
}

/** The statistics of one clinic for the 30 Seoul days ending on `now`'s day (the data alone; tested on a real database). */
export async function clinicStatsOf(db: Db, clinicId: string, now = new Date()): Promise<ClinicStats> {
  const today = clinicDay(now);
  const from = shiftDay(today, -(STATS_DAYS - 1));
  const [daily, appointments, topToday, topPeriod] = await Promise.all([
    db
      .select()
      .from(rmClinicDailyStats)
      .where(and(eq(rmClinicDailyStats.clinicId, clinicId), gte(rmClinicDailyStats.day, from), lte(rmClinicDailyStats.day, today))),
    db
      .select({
        day: rmReservations.day,
        due: sql<number>`count(*) filter (where ${rmReservations.status} in ('confirmed', 'checked-in', 'completed', 'no-show'))::int`,
        noShows: sql<number>`count(*) filter (where ${rmReservations.status} = 'no-show')::int`,
      })
      .from(rmReservations)
      .where(and(eq(rmReservations.clinicId, clinicId), gte(rmReservations.day, from), lte(rmReservations.day, today), lte(rmReservations.startsAt, now)))
      .groupBy(rmReservations.day),
    // Today: every treatment (the page shows today's count beside each of the period's top ones).
    topTreatments(db, clinicId, today, today, 100),
    topTreatments(db, clinicId, from, today),
  ]);
  const byDay = new Map(daily.map((d) => [d.day, d]));
  const dueByDay = new Map(appointments.map((a) => [a.day, a]));
  const days: StatsDay[] = [];
  for (let day = from; day <= today; day = shiftDay(day, 1)) {
    const d = byDay.get(day);
    const a = dueByDay.get(day);
    const noShows = a?.noShows ?? 0;
    const due = a?.due ?? 0;
    days.push({
      day,
      bookings: d?.bookings ?? 0,
      cancellations: d?.cancellations ?? 0,
      noShows,
      due,
      noShowRate: rate(noShows, due),
      capturedKrw: d?.capturedKrw ?? 0,
      refundedKrw: d?.refundedKrw ?? 0,
      revenueKrw: d?.revenueKrw ?? 0,
    });
  }
  return { clinicId, today, from, days, todayTotals: days[days.length - 1]!, periodTotals: sum(days), topToday, topPeriod };
}

/** The statistics page's data for the signed-in staff member of this clinic (403 for anyone else); null for no such clinic. */
export async function clinicStats(clinicId: string, now = new Date()) {
  await requireUser({ roles: ['staff'], clinicId, callbackUrl: `/staff/${clinicId}/stats` });
  const clinic = await getClinicWithTreatments(clinicId);
  if (!clinic) return null;
  return { clinic: { nameKo: clinic.nameKo, nameEn: clinic.nameEn }, stats: await clinicStatsOf(appDb(), clinicId, now) };
}
