/**
 * Public availability: the free slots of a clinic day for a treatment, and each clinic's next free
 * slot. The seats come from the schedule read model's live holds (rm_schedule_holds) counted by the
 * domain itself (schedule.availability: capacity − live holds overlapping the slot, an unconfirmed
 * hold past its expiry no longer counting), and the slot grid is the domain's (clinic.slotStartsOn,
 * placeInSlots), so a day without a booking yet shows the same grid the decider would accept.
 *
 * The rows are cached per clinic (public cache, dropped when the schedule projection announces a
 * change to that clinic); what depends on the time (past slots, minimum notice, expired holds) is
 * computed on every call from `now`.
 */
import { and, eq, gte } from 'drizzle-orm';
import { db } from '../db/client';
import { atLocal, clinic as clinicDomain, clinicDay, iso, minutesOfDay, plusMinutes, schedule as scheduleDomain } from '../domain';
import { rmScheduleClinics, rmScheduleHolds } from '../projections/schema';
import { bookingDurationOf, getClinicWithTreatments, type CatalogueClinic } from './catalogue';
import { publicCache } from './public-cache';

/** A safety net only: the schedule projection announces each change and the entry is dropped at once. */
const SCHEDULE_TTL_MS = 5_000;

export interface SlotOffer {
  /** The clinic day (Seoul), yyyy-mm-dd. */
  day: string;
  /** Local HH:mm in Seoul. */
  time: string;
  /** ISO instant (UTC) of the start: what the booking page takes. */
  startsAt: string;
  /** Seats left for the whole treatment: the fewest over the slots it occupies. */
  seatsLeft: number;
  full: boolean;
}

interface ScheduleRows {
  /** The schedule projection's copy of the clinic's slot facts (null before its first event). */
  facts: { openingHours: clinicDomain.OpeningHours; slotMinutes: number; slotCapacity: number } | null;
  /** Live holds from `fromDay` on, by day. */
  holdsByDay: Map<string, scheduleDomain.Hold[]>;
  fromDay: string;
}

/** One cached read per clinic: its slot facts and every live hold from today (Seoul) on. */
function scheduleRows(clinicId: string, today: string): Promise<ScheduleRows> {
  return publicCache().get(`schedule|${clinicId}|${today}`, ['schedule', `schedule:${clinicId}`], SCHEDULE_TTL_MS, async () => {
    const [[facts], holds] = await Promise.all([
      db().select().from(rmScheduleClinics).where(eq(rmScheduleClinics.clinicId, clinicId)).limit(1),
      db()
        .select()
        .from(rmScheduleHolds)
        .where(and(eq(rmScheduleHolds.clinicId, clinicId), gte(rmScheduleHolds.day, today))),
    ]);
    const holdsByDay = new Map<string, scheduleDomain.Hold[]>();
    for (const h of holds) {
      const hold: scheduleDomain.Hold = {
        holdId: h.holdId,
        reservationId: h.reservationId,
        startsAt: h.startsAt.toISOString(),
        endsAt: h.endsAt.toISOString(),
        slots: h.slots,
        // The read model keeps no slot length per hold: the clinic's current one (they only differ
        // for holds placed before a slot-length change).
        slotLengthMinutes: facts?.slotMinutes ?? 30,
        expiresAt: h.expiresAt.toISOString(),
        confirmed: h.confirmed,
      };
      holdsByDay.set(h.day, [...(holdsByDay.get(h.day) ?? []), hold]);
    }
    return { facts: facts ? { openingHours: facts.openingHours, slotMinutes: facts.slotMinutes, slotCapacity: facts.slotCapacity } : null, holdsByDay, fromDay: today };
  });
}

function bookingFacts(clinic: CatalogueClinic, rows: ScheduleRows): clinicDomain.ClinicBookingFacts {
  // The schedule projection's facts are what the holds were counted against; the catalogue's are
  // the same events' copy and stand in until the schedule projection has seen the clinic.
  const f = rows.facts ?? { openingHours: clinic.openingHours, slotMinutes: clinic.slotMinutes, slotCapacity: clinic.slotCapacity };
  return {
    openingHours: f.openingHours,
    slotLengthMinutes: f.slotMinutes,
    slotCapacity: f.slotCapacity,
    policy: { minimumNoticeHours: clinic.policy?.minimumNoticeHours ?? 0 },
    settings: { bookingHorizonDays: clinic.bookingHorizonDays },
    closedDays: clinic.closedDays,
  };
}

/** The last clinic day a patient may book (the domain's rule: today + the clinic's horizon, Seoul). */
export function lastBookableDay(clinic: Pick<CatalogueClinic, 'bookingHorizonDays'>, now: Date): string {
  return clinicDomain.lastBookableDay(now, clinic.bookingHorizonDays);
}

/**
 * Pure results memoised per cached read-model object (a WeakMap: they go with the entry when the
 * public cache drops it). The time zone arithmetic of the domain's grid costs ≈ 0.2 ms a slot here,
 * too much to redo for every visitor of every clinic; what depends on `now` is still applied per call.
 */
const daysMemo = new WeakMap<object, Map<string, BookableDay[]>>();

export interface BookableDay {
  day: string;
  /** The clinic opens that day: it has opening hours and is not closed. */
  open: boolean;
  /** Why it is closed (a holiday or one-off closure), or null. */
  closedReason: string | null;
}
const gridMemo = new WeakMap<object, Map<string, GridStart[]>>();

interface GridStart {
  time: string;
  startsAt: Date;
  iso: string;
  /** The slots (HH:mm) a booking starting here occupies. */
  slots: readonly string[];
}

function memo<V>(store: WeakMap<object, Map<string, V>>, owner: object, key: string, make: () => V): V {
  let m = store.get(owner);
  if (!m) store.set(owner, (m = new Map()));
  let v = m.get(key);
  if (v === undefined) {
    if (m.size > 1000) m.clear();
    m.set(key, (v = make()));
  }
  return v;
}

/** The clinic days from today (Seoul) to the end of the horizon, each with whether the clinic opens (hours, closures). */
export function bookableDays(clinic: Pick<CatalogueClinic, 'bookingHorizonDays' | 'openingHours'> & { closedDays?: Record<string, string> }, now: Date): BookableDay[] {
  const today = clinicDay(now);
  // Keyed by the closures too: a caller may pair the same hours with other closures.
  const closedKey = Object.keys(clinic.closedDays ?? {}).join(',');
  return memo(daysMemo, clinic.openingHours, `${today}|${clinic.bookingHorizonDays}|${closedKey}`, () => {
    const last = lastBookableDay(clinic, now);
    const noon = atLocal(today, '12:00');
    const days: BookableDay[] = [];
    for (let i = 0; ; i++) {
      const day = clinicDay(plusMinutes(noon, i * 24 * 60));
      if (day > last) break;
      const closedReason = clinic.closedDays?.[day] ?? null;
      days.push({ day, open: closedReason === null && clinicDomain.intervalsOn(clinic.openingHours, day).length > 0, closedReason });
    }
    return days;
  });
}

/**
 * The domain's grid for a booking of `durationMinutes` on `day`: every slot start (slotStartsOn) where
 * placeInSlots accepts it, i.e. it fits in one opening interval.
 */
function gridOn(owner: object, facts: clinicDomain.ClinicBookingFacts, day: string, durationMinutes: number): GridStart[] {
  return memo(gridMemo, owner, `${day}|${durationMinutes}`, () => {
    const grid: GridStart[] = [];
    for (const time of clinicDomain.slotStartsOn(facts, day)) {
      const startsAt = atLocal(day, time);
      try {
        const placement = clinicDomain.placeInSlots(facts, startsAt, durationMinutes);
        grid.push({ time, startsAt, iso: iso(startsAt), slots: placement.slots });
      } catch {
        // runs past the interval's close (a lunch break or closing): the decider would refuse it
      }
    }
    return grid;
  });
}

/**
 * The starts offered on `day` for a booking of `durationMinutes`: the domain's grid, without the
 * starts in the past or inside the minimum notice, with the seats left counted as the decider counts
 * them (capacity − live holds overlapping each occupied slot; full ones included, flagged).
 */
function offersOn(owner: object, facts: clinicDomain.ClinicBookingFacts, holds: readonly scheduleDomain.Hold[], day: string, durationMinutes: number, now: Date): SlotOffer[] {
  const state: scheduleDomain.ScheduleState = { clinicId: null, day, holds: Object.fromEntries(holds.map((h) => [h.holdId, h])), released: {} };
  // clinic.assertEnoughNotice's rule (after now, and at least the notice ahead) as one comparison,
  // rather than an exception for every past slot.
  const earliest = Math.max(now.getTime() + 1, plusMinutes(now, facts.policy.minimumNoticeHours * 60).getTime());
  const out: SlotOffer[] = [];
  for (const g of gridOn(owner, facts, day, durationMinutes)) {
    if (g.startsAt.getTime() < earliest) continue;
    const seatsLeft =
      holds.length === 0
        ? facts.slotCapacity
        : Math.min(...g.slots.map((s) => Math.max(0, facts.slotCapacity - scheduleDomain.heldCount(state, minutesOfDay(s), facts.slotLengthMinutes, now))));
    out.push({ day, time: g.time, startsAt: g.iso, seatsLeft, full: seatsLeft <= 0 });
  }
  return out;
}

export interface DayAvailability {
  day: string;
  /** Within the horizon and not before today. */
  bookable: boolean;
  /** Has opening hours and is not closed. */
  open: boolean;
  /** A holiday or one-off closure: why (no slots that day), else null. */
  closedReason: string | null;
  slots: SlotOffer[];
}

/** A clinic day's slots for one of its treatments; null when the clinic or treatment does not exist. */
export async function dayAvailability(clinicId: string, treatmentId: string, day: string, now: Date = new Date()): Promise<DayAvailability | null> {
  const clinic = await getClinicWithTreatments(clinicId);
  const treatment = clinic?.treatments.find((t) => t.id === treatmentId);
  if (!clinic || !treatment) return null;
  return availabilityFor(clinic, bookingDurationOf(treatment), day, now);
}

export async function availabilityFor(clinic: CatalogueClinic, durationMinutes: number, day: string, now: Date): Promise<DayAvailability> {
  const today = clinicDay(now);
  const known = bookableDays(clinic, now).find((d) => d.day === day);
  const closedReason = clinic.closedDays[day] ?? null;
  const open = known ? known.open : closedReason === null && clinicDomain.intervalsOn(clinic.openingHours, day).length > 0;
  // A closed day offers nothing (checked before the grid, whose memo is keyed by the schedule's rows, not the closures).
  if (!known || closedReason !== null) return { day, bookable: !!known, open, closedReason, slots: [] };
  const rows = await scheduleRows(clinic.id, today);
  return { day, bookable: true, open, closedReason, slots: offersOn(rows.facts ?? clinic, bookingFacts(clinic, rows), rows.holdsByDay.get(day) ?? [], day, durationMinutes, now) };
}

/**
 * The earliest start, within the horizon, with a seat for the clinic's shortest booking (what a
 * catalogue card shows); null when nothing is free or the clinic lists no treatment.
 */
export async function nextFreeSlot(clinic: CatalogueClinic, now: Date = new Date()): Promise<SlotOffer | null> {
  if (clinic.treatments.length === 0) return null;
  const duration = Math.min(...clinic.treatments.map(bookingDurationOf));
  const rows = await scheduleRows(clinic.id, clinicDay(now));
  const facts = bookingFacts(clinic, rows);
  for (const { day, open } of bookableDays(clinic, now)) {
    if (!open) continue;
    const slot = offersOn(rows.facts ?? clinic, facts, rows.holdsByDay.get(day) ?? [], day, duration, now).find((s) => !s.full);
    if (slot) return slot;
  }
  return null;
}
