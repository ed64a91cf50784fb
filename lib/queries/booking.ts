/**
 * The booking flow's reads: the clinic's bookable treatments (with the kinds each allows), the days
 * a patient may pick (within the clinic's booking horizon) and the slots of a day with the seats
 * left for the treatment's duration. For signed-in patients only (the page sends others to sign in
 * and back to the same slot).
 */
import { eq } from 'drizzle-orm';
import { requireUser } from '../auth/guard';
import type { SessionUser } from '../auth/roles';
import { db } from '../db/client';
import type { clinic as clinicDomain, reservation } from '../domain';
import { rmReservations } from '../projections/schema';
import * as availability from './availability';
import { getClinicWithTreatments, type CatalogueClinic, type CatalogueTreatment } from './catalogue';

export type BookingKind = reservation.ReservationKind;

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

function toBookable(t: CatalogueTreatment): BookableTreatment {
  return {
    id: t.id,
    nameKo: t.nameKo,
    nameEn: t.nameEn,
    category: t.category,
    priceKrw: t.priceKrw,
    depositKrw: t.depositKrw,
    durationMinutes: t.durationMinutes,
    bookingMode: t.bookingMode,
    // The catalogue's declared kinds (in display order); an old row without them gets the domain's upcast.
    kinds: [...t.bookingKinds],
    consultMinutes: t.consultDurationMinutes ?? null,
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
  /** The catalogue's clinic, for the availability queries. */
  catalogue: CatalogueClinic;
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
  return {
    id: c.id,
    nameKo: c.nameKo,
    nameEn: c.nameEn,
    address: c.address,
    slotMinutes: c.slotMinutes,
    slotCapacity: c.slotCapacity,
    openingHours: c.openingHours,
    policy: c.policy,
    horizonDays: c.bookingHorizonDays,
    treatments: c.treatments.map(toBookable),
    catalogue: c,
  };
}

/** The clinic days from today (Seoul) within the horizon (the first `count`), and whether the clinic opens on each. */
export function bookableDays(clinic: BookingClinic, now: Date, count = 14): Array<{ day: string; open: boolean }> {
  return availability.bookableDays(clinic.catalogue, now).slice(0, count);
}

export function horizonEnd(clinic: BookingClinic, now: Date): string {
  return availability.lastBookableDay(clinic.catalogue, now);
}

/**
 * The starts of one clinic day for a treatment of `durationMinutes` (the catalogue's availability:
 * the domain's slot grid and seat count over the schedule read model; past starts and those inside
 * the minimum notice are not offered, full ones are, flagged).
 */
export async function daySlots(clinic: BookingClinic, day: string, durationMinutes: number, now: Date): Promise<DaySlot[]> {
  const offered = await availability.availabilityFor(clinic.catalogue, durationMinutes, day, now);
  return offered.slots.map((s) => ({ time: s.time, startsAt: s.startsAt, free: s.seatsLeft, full: s.full }));
}

/**
 * Whether a reservation id is free for `user` to book under: true when no reservation has it yet or
 * it is the user's own (a resubmit). A form carrying another patient's command id must not reach
 * their streams at all (defence in depth over the command layer's own check).
 */
export async function reservationIdAvailableTo(reservationId: string, user: SessionUser): Promise<boolean> {
  const [row] = await db().select({ patientId: rmReservations.patientId }).from(rmReservations).where(eq(rmReservations.id, reservationId)).limit(1);
  return !row || row.patientId === user.id;
}
