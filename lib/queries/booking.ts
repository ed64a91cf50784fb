/**
 * The booking flow's reads: the clinic's bookable treatments (with the kinds each allows), the days
 * a patient may pick (within the clinic's booking horizon) and the slots of a day with the seats
 * left for the treatment's duration. For signed-in patients only (the page sends others to sign in
 * and back to the same slot).
 */
import { and, eq, lte } from 'drizzle-orm';
import { requireUser } from '../auth/guard';
import type { SessionUser } from '../auth/roles';
import { db } from '../db/client';
import { atLocal, clinic as clinicDomain, clinicDay, iso, plusMinutes, type reservation } from '../domain';
import { rmScheduleHolds, rmScheduleSlots } from '../projections/schema';
import { getClinicWithTreatments } from './catalogue';

export type BookingKind = reservation.ReservationKind;
const ALL_KINDS: readonly BookingKind[] = ['consult-first', 'pay-and-book'];
/** Until a clinic sets its own (clinic setting `bookingHorizonDays`). */
export const DEFAULT_BOOKING_HORIZON_DAYS = 90;

/** The booking page's URL for a (partial) choice; the sign-in return goes here too. */
export function bookingUrl(choice: { clinicId: string; treatmentId?: string; day?: string; startsAt?: string; kind?: string }): string {
  const q = new URLSearchParams();
  if (choice.treatmentId) q.set('treatment', choice.treatmentId);
  if (choice.day && !choice.startsAt) q.set('day', choice.day);
  if (choice.startsAt) q.set('startsAt', choice.startsAt);
  if (choice.kind) q.set('kind', choice.kind);
  const query = q.toString();
  return `/clinics/${encodeURIComponent(choice.clinicId)}/book${query ? `?${query}` : ''}`;
}

type CatalogueClinic = NonNullable<Awaited<ReturnType<typeof getClinicWithTreatments>>>;
type CatalogueTreatment = CatalogueClinic['treatments'][number];

export interface BookableTreatment {
  id: string;
  nameKo: string;
  nameEn: string;
  category: string;
  priceKrw: number;
  depositKrw: number;
  durationMinutes: number;
  bookingMode: 'instant' | 'clinic-confirm';
  /** The booking kinds the treatment allows, in display order. */
  kinds: BookingKind[];
  /** Minutes a "consult first" booking takes, when the treatment says (else its own duration). */
  consultMinutes: number | null;
}

/**
 * The kinds a treatment allows. Treatments declare them (issue 8); a read model without the column
 * yet allows both, as the domain did before.
 */
function kindsOf(t: CatalogueTreatment): BookingKind[] {
  const declared = (t as { bookingKinds?: unknown; allowedKinds?: unknown }).bookingKinds ?? (t as { allowedKinds?: unknown }).allowedKinds;
  if (Array.isArray(declared)) return ALL_KINDS.filter((k) => declared.includes(k));
  return [...ALL_KINDS];
}

function toBookable(t: CatalogueTreatment): BookableTreatment {
  const consult = (t as { consultDurationMinutes?: unknown; consultMinutes?: unknown }).consultDurationMinutes ?? (t as { consultMinutes?: unknown }).consultMinutes;
  return {
    id: t.id,
    nameKo: t.nameKo,
    nameEn: t.nameEn,
    category: t.category,
    priceKrw: t.priceKrw,
    depositKrw: t.depositKrw,
    durationMinutes: t.durationMinutes,
    bookingMode: t.bookingMode,
    kinds: kindsOf(t),
    consultMinutes: typeof consult === 'number' ? consult : null,
  };
}

export interface BookingClinic {
  id: string;
  nameKo: string;
  nameEn: string;
  address: string;
  slotMinutes: number;
  slotCapacity: number;
  openingHours: clinicDomain.OpeningHours;
  policy: clinicDomain.CancellationPolicy | null;
  horizonDays: number;
  treatments: BookableTreatment[];
}

export interface DaySlot {
  /** Local HH:mm in Seoul. */
  time: string;
  /** ISO instant of the start. */
  startsAt: string;
  /** Seats left for the whole treatment (the fewest over the slots it occupies). */
  free: number;
  full: boolean;
}

/** The signed-in patient, or a redirect to sign in that comes back to `returnTo`. */
export function requireBookingPatient(returnTo: string): Promise<SessionUser> {
  return requireUser({ roles: ['patient'], callbackUrl: returnTo });
}

/** The clinic as the booking flow needs it; null when there is no such clinic. */
export async function bookingClinic(clinicId: string): Promise<BookingClinic | null> {
  const c = await getClinicWithTreatments(clinicId);
  if (!c) return null;
  const horizon = (c as { bookingHorizonDays?: unknown }).bookingHorizonDays;
  return {
    id: c.id,
    nameKo: c.nameKo,
    nameEn: c.nameEn,
    address: c.address,
    slotMinutes: c.slotMinutes,
    slotCapacity: c.slotCapacity,
    openingHours: c.openingHours,
    policy: c.policy,
    horizonDays: typeof horizon === 'number' ? horizon : DEFAULT_BOOKING_HORIZON_DAYS,
    treatments: c.treatments.map(toBookable),
  };
}

/** The clinic days a patient may pick from today (Seoul) within the horizon, and whether the clinic opens on each. */
export function bookableDays(clinic: BookingClinic, now: Date, count = 14): Array<{ day: string; open: boolean }> {
  const days: Array<{ day: string; open: boolean }> = [];
  const last = clinicDay(plusMinutes(now, clinic.horizonDays * 24 * 60));
  for (let i = 0; days.length < count; i++) {
    const day = clinicDay(plusMinutes(atLocal(clinicDay(now), '12:00'), i * 24 * 60));
    if (day > last) break;
    days.push({ day, open: clinicDomain.intervalsOn(clinic.openingHours, day).length > 0 });
  }
  return days;
}

export function horizonEnd(clinic: BookingClinic, now: Date): string {
  return clinicDay(plusMinutes(now, clinic.horizonDays * 24 * 60));
}

/**
 * The slots of one clinic day for a treatment of `durationMinutes`, from the schedule read model:
 * seats = capacity − confirmed − pending holds not yet expired, the fewest over the slots the
 * treatment occupies; starts that would end after the opening interval are not offered.
 */
export async function daySlots(clinic: BookingClinic, day: string, durationMinutes: number, now: Date): Promise<DaySlot[]> {
  const facts: clinicDomain.ClinicBookingFacts = {
    openingHours: clinic.openingHours,
    slotLengthMinutes: clinic.slotMinutes,
    slotCapacity: clinic.slotCapacity,
    policy: { minimumNoticeHours: clinic.policy?.minimumNoticeHours ?? 0 },
  };
  const [rows, expired] = await Promise.all([
    db().select().from(rmScheduleSlots).where(and(eq(rmScheduleSlots.clinicId, clinic.id), eq(rmScheduleSlots.day, day))),
    db()
      .select({ slots: rmScheduleHolds.slots })
      .from(rmScheduleHolds)
      .where(and(eq(rmScheduleHolds.clinicId, clinic.id), eq(rmScheduleHolds.day, day), eq(rmScheduleHolds.confirmed, false), lte(rmScheduleHolds.expiresAt, now))),
  ]);
  const held = new Map<string, number>();
  for (const r of rows) held.set(r.slot, r.confirmed + r.pending);
  for (const h of expired) for (const s of h.slots) held.set(s, (held.get(s) ?? 0) - 1);
  const freeAt = (slot: string) => Math.max(0, clinic.slotCapacity - Math.max(0, held.get(slot) ?? 0));

  const earliest = plusMinutes(now, facts.policy.minimumNoticeHours * 60);
  const out: DaySlot[] = [];
  for (const time of clinicDomain.slotStartsOn(facts, day)) {
    const startsAt = atLocal(day, time);
    let placement: clinicDomain.SlotPlacement;
    try {
      placement = clinicDomain.placeInSlots(facts, startsAt, durationMinutes);
    } catch {
      continue; // runs past the interval's close (a lunch break or closing time)
    }
    // In the past or inside the minimum notice: not offered at all (the domain would refuse it).
    if (startsAt.getTime() <= now.getTime() || startsAt.getTime() < earliest.getTime()) continue;
    const free = Math.min(...placement.slots.map(freeAt));
    out.push({ time, startsAt: iso(startsAt), free, full: free <= 0 });
  }
  return out;
}
