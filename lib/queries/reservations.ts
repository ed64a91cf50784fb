/**
 * A patient's own reservations: the list (/me), one reservation with its payments and receipts, and
 * what a cancellation or a reschedule would cost before the patient confirms it.
 *
 * Every exported page function authorises on the server (requireUser: patients only) and reads with
 * the session's patient id; a reservation of another patient reads as absent (the page answers 404),
 * never as data. The `…Of` functions take the patient id explicitly for the tests.
 *
 * The list is three indexed reads whatever the number of reservations (reservations and payments by
 * patient, clinic names by id): no query per reservation.
 */
import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import { requireUser } from '../auth/guard';
import { loadClinic, loadStream, type CommandDeps } from '../commands';
import { db as appDb, type Db } from '../db/client';
import { clinics, treatments } from '../db/schema';
import { DomainError, reservation, streams } from '../domain';
import { Id } from '../domain/clinic';
import type { ActiveReservation, ReservationState } from '../domain/reservation';
import { rmPayments, rmReservations, type ReservationTimelineEntry } from '../projections/schema';
import { appCommandDeps } from '../runtime/command-deps';
import { availabilityFor, bookableDays, type DayAvailability } from './availability';
import { getClinicWithTreatments } from './catalogue';

/** Why a patient cancels: a choice, never free text (free text can hold health details, and events are immutable). */
export const cancelReasons = ['schedule', 'unwell', 'other-clinic', 'other'] as const;

export type ReservationStatus = (typeof rmReservations.$inferSelect)['status'];
type ReservationRow = typeof rmReservations.$inferSelect;
type PaymentRow = typeof rmPayments.$inferSelect;

/** A step of the timeline: the reservation's own steps and the refunds of its payments, in time order. */
export type TimelineStep = ReservationTimelineEntry | { type: 'refunded'; at: string; amountKrw: number };

export interface ReservationSummary {
  id: string;
  clinicId: string;
  clinicNameKo: string;
  clinicNameEn: string;
  /** As booked (the Korean name frozen in the reservation). */
  treatmentName: string;
  /** The catalogue's English name, when the treatment is still listed. */
  treatmentNameEn: string | null;
  kind: string;
  bookingMode: string;
  status: ReservationStatus;
  startsAt: Date;
  endsAt: Date;
  depositDueKrw: number;
  depositPaidKrw: number;
  depositStatus: string;
  timeline: TimelineStep[];
}

/** A charge and what was given back of it, with the VAT contained in each (prices are VAT-inclusive). */
export interface Receipt {
  paymentId: string;
  purpose: string;
  status: string;
  amountKrw: number;
  capturedKrw: number;
  capturedVatKrw: number;
  capturedAt: Date | null;
  provider: string | null;
  providerRef: string | null;
  refunds: Array<{ refundId: string; amountKrw: number; vatKrw: number; at: string }>;
  refundedKrw: number;
  refundedVatKrw: number;
}

export interface ReservationDetail extends ReservationSummary {
  clinicAddress: string;
  clinicPhone: string;
  priceKrw: number;
  policy: { freeCancellationHours: number; lateCancellationFeeKrw: number; noShowForfeitsDeposit: boolean; minimumNoticeHours: number };
  feesKrw: number;
  refundDueKrw: number;
  closedReason: string | null;
  receipts: Receipt[];
  /** Totals over the receipts. */
  paidKrw: number;
  paidVatKrw: number;
  refundedKrw: number;
  refundedVatKrw: number;
  /** Refund due under the policy that has not reached the card yet (the refund is on its way). */
  refundPendingKrw: number;
  /** Whether the patient may still cancel or reschedule (open and not yet started). */
  changeable: boolean;
}

const OPEN: readonly ReservationStatus[] = ['requested', 'confirmed'];

function isUpcoming(r: Pick<ReservationRow, 'status' | 'endsAt'>, now: Date): boolean {
  return (OPEN.includes(r.status) || r.status === 'checked-in') && r.endsAt.getTime() > now.getTime();
}

function timelineOf(row: ReservationRow, payments: readonly PaymentRow[]): TimelineStep[] {
  const refunds: TimelineStep[] = payments
    .filter((p) => p.reservationId === row.id)
    .flatMap((p) => p.refunds.map((r) => ({ type: 'refunded' as const, at: r.at, amountKrw: r.amountKrw })));
  // Stable: the reservation's steps are in stream order; refunds slot in by time.
  return [...row.timeline, ...refunds]
    .map((step, i) => ({ step, i, t: Date.parse(step.at) }))
    .sort((a, b) => a.t - b.t || a.i - b.i)
    .map(({ step }) => step);
}

function summaryOf(
  row: ReservationRow,
  clinic: { nameKo: string; nameEn: string } | undefined,
  payments: readonly PaymentRow[],
  treatmentNameEn: string | null,
): ReservationSummary {
  return {
    id: row.id,
    clinicId: row.clinicId,
    clinicNameKo: clinic?.nameKo ?? row.clinicId,
    clinicNameEn: clinic?.nameEn ?? row.clinicId,
    treatmentName: row.treatmentName,
    treatmentNameEn,
    kind: row.kind,
    bookingMode: row.bookingMode,
    status: row.status,
    startsAt: row.startsAt,
    endsAt: row.endsAt,
    depositDueKrw: row.depositDueKrw,
    depositPaidKrw: row.depositPaidKrw,
    depositStatus: row.depositStatus,
    timeline: timelineOf(row, payments),
  };
}

/** The patient's reservations: upcoming (soonest first) and past (latest first). */
export async function reservationsOf(db: Db, patientId: string, now = new Date()): Promise<{ upcoming: ReservationSummary[]; past: ReservationSummary[] }> {
  const [found, payments] = await Promise.all([
    db
      .select({ r: rmReservations, treatmentNameEn: treatments.nameEn })
      .from(rmReservations)
      .leftJoin(treatments, eq(treatments.id, rmReservations.treatmentId))
      .where(eq(rmReservations.patientId, patientId))
      .orderBy(asc(rmReservations.startsAt))
      .limit(500),
    db.select().from(rmPayments).where(eq(rmPayments.patientId, patientId)),
  ]);
  const rows = found.map((f) => f.r);
  const nameEn = new Map(found.map((f) => [f.r.id, f.treatmentNameEn]));
  const clinicIds = [...new Set(rows.map((r) => r.clinicId))];
  const clinicRows = clinicIds.length
    ? await db.select({ id: clinics.id, nameKo: clinics.nameKo, nameEn: clinics.nameEn }).from(clinics).where(inArray(clinics.id, clinicIds))
    : [];
  const byId = new Map(clinicRows.map((c) => [c.id, c]));
  const upcoming: ReservationSummary[] = [];
  const past: ReservationSummary[] = [];
  for (const row of rows) (isUpcoming(row, now) ? upcoming : past).push(summaryOf(row, byId.get(row.clinicId), payments, nameEn.get(row.id) ?? null));
  past.reverse();
  return { upcoming, past };
}

/** One reservation of this patient with its receipts; null when it does not exist or is someone else's. */
export async function reservationOf(db: Db, patientId: string, reservationId: string, now = new Date()): Promise<ReservationDetail | null> {
  const [[row], payments] = await Promise.all([
    db
      .select({ r: rmReservations, clinic: { nameKo: clinics.nameKo, nameEn: clinics.nameEn, address: clinics.address, phone: clinics.phone }, treatmentNameEn: treatments.nameEn })
      .from(rmReservations)
      .leftJoin(clinics, eq(clinics.id, rmReservations.clinicId))
      .leftJoin(treatments, eq(treatments.id, rmReservations.treatmentId))
      .where(and(eq(rmReservations.id, reservationId), eq(rmReservations.patientId, patientId)))
      .limit(1),
    db
      .select()
      .from(rmPayments)
      .where(and(eq(rmPayments.patientId, patientId), eq(rmPayments.reservationId, reservationId)))
      .orderBy(desc(rmPayments.requestedAt)),
  ]);
  if (!row) return null;
  const r = row.r;
  const receipts: Receipt[] = payments
    .filter((p) => p.capturedKrw > 0)
    .map((p) => {
      // The VAT recorded with the payment, shared pro rata: a deposit is an advance with no VAT until it
      // is applied to the bill, a bill carries its lines' VAT (docs/payments.md, "The bill and VAT").
      const vatOf = (amountKrw: number) => (p.amountKrw > 0 ? Math.round((p.vatKrw * amountKrw) / p.amountKrw) : 0);
      const refunds = p.refunds.map((x) => ({ refundId: x.refundId, amountKrw: x.amountKrw, vatKrw: vatOf(x.amountKrw), at: x.at }));
      return {
        paymentId: p.id,
        purpose: p.purpose,
        status: p.status,
        amountKrw: p.amountKrw,
        capturedKrw: p.capturedKrw,
        capturedVatKrw: vatOf(p.capturedKrw),
        capturedAt: p.capturedAt,
        provider: p.provider,
        providerRef: p.providerRef,
        refunds,
        refundedKrw: p.refundedKrw,
        refundedVatKrw: refunds.reduce((s, x) => s + x.vatKrw, 0),
      };
    });
  const sum = (f: (x: Receipt) => number) => receipts.reduce((s, x) => s + f(x), 0);
  const refundedKrw = sum((x) => x.refundedKrw);
  const closed = !OPEN.includes(r.status);
  return {
    ...summaryOf(r, row.clinic ?? undefined, payments, row.treatmentNameEn ?? null),
    clinicAddress: row.clinic?.address ?? '',
    clinicPhone: row.clinic?.phone ?? '',
    priceKrw: r.priceKrw,
    policy: r.policy as ReservationDetail['policy'],
    feesKrw: r.feesKrw,
    refundDueKrw: r.refundDueKrw,
    closedReason: r.closedReason,
    receipts,
    paidKrw: sum((x) => x.capturedKrw),
    paidVatKrw: sum((x) => x.capturedVatKrw),
    refundedKrw,
    refundedVatKrw: sum((x) => x.refundedVatKrw),
    refundPendingKrw: closed ? Math.max(0, r.refundDueKrw - refundedKrw) : 0,
    changeable: !closed && r.startsAt.getTime() > now.getTime(),
  };
}

// ── What a change would cost (decided by the domain itself, nothing appended) ─────────────────

export type ChangePreview =
  | {
      kind: 'ok';
      clinicId: string;
      /** The fee under the frozen policy (0 when free). */
      feeKrw: number;
      /** Cancel: what goes back to the card. Reschedule: 0 now (the fee is kept from the deposit). */
      refundKrw: number;
      depositPaidKrw: number;
      late: boolean;
      /** Reschedule only: the new slot, and whether the clinic must confirm it again. */
      startsAt?: string;
      endsAt?: string;
      needsClinicConfirmation?: boolean;
    }
  /** The domain refuses it (e.g. the start has passed, inside the minimum notice): its error code. */
  | { kind: 'refused'; code: string }
  /** Already done (cancelled before, or the same slot). */
  | { kind: 'nothing-to-do' };

/**
 * Loads the reservation from the event store (its exact state, not the read model) and lets the
 * reservation's own decider decide the change without appending: the fee and refund shown are the
 * ones the command will record, by the same rule. Null when it is not this patient's reservation.
 */
async function decideDry(
  deps: CommandDeps,
  patientId: string,
  reservationId: string,
  command: reservation.ReservationCommand,
  now: Date,
): Promise<{ state: ActiveReservation; events: reservation.ReservationEvent[] } | { refused: string } | null> {
  if (!Id.safeParse(reservationId).success) return null;
  const loaded = await loadStream(deps.store, reservation.reservationDecider, streams.reservation(reservationId));
  const state = loaded.state as ReservationState;
  if (state.status === 'none' || (state as ActiveReservation).patientId !== patientId) return null;
  const active = state as ActiveReservation;
  try {
    const clinic = command.type === 'RescheduleReservation' ? await loadClinic(deps, active.clinicId) : undefined;
    const events = reservation.reservationDecider.decide(command, state, { now, ...(clinic ? { clinic } : {}) });
    return { state: active, events };
  } catch (error) {
    if (error instanceof DomainError) return { refused: error.code };
    throw error;
  }
}

export async function cancellationPreviewOf(deps: CommandDeps, patientId: string, reservationId: string, now = new Date()): Promise<ChangePreview | null> {
  const decided = await decideDry(deps, patientId, reservationId, { type: 'CancelReservation', by: 'patient', reason: 'preview' }, now);
  if (!decided) return null;
  if ('refused' in decided) return { kind: 'refused', code: decided.refused };
  const cancelled = decided.events.find((e) => e.type === 'ReservationCancelled');
  if (!cancelled) return { kind: 'nothing-to-do' };
  return { kind: 'ok', clinicId: decided.state.clinicId, feeKrw: cancelled.data.feeKrw, refundKrw: cancelled.data.refundDueKrw, depositPaidKrw: decided.state.depositPaidKrw, late: cancelled.data.late };
}

export async function reschedulePreviewOf(
  deps: CommandDeps,
  patientId: string,
  reservationId: string,
  startsAt: string,
  now = new Date(),
): Promise<ChangePreview | null> {
  const decided = await decideDry(deps, patientId, reservationId, { type: 'RescheduleReservation', startsAt, holdId: 'preview', by: 'patient' }, now);
  if (!decided) return null;
  if ('refused' in decided) return { kind: 'refused', code: decided.refused };
  const moved = decided.events.find((e) => e.type === 'ReservationRescheduled');
  if (!moved) return { kind: 'nothing-to-do' };
  // Whatever the domain does to the status with the move (a clinic-confirmed booking goes back to the clinic).
  const after = decided.events.reduce<ReservationState>((s, e) => reservation.reservationDecider.evolve(s, e), decided.state);
  return {
    kind: 'ok',
    clinicId: decided.state.clinicId,
    feeKrw: moved.data.lateFeeKrw,
    refundKrw: 0,
    depositPaidKrw: decided.state.depositPaidKrw,
    late: moved.data.lateFeeKrw > 0,
    startsAt: moved.data.startsAt,
    endsAt: moved.data.endsAt,
    needsClinicConfirmation: decided.state.status === 'confirmed' && after.status === 'requested',
  };
}

// ── For pages: the signed-in patient's own ─────────────────────────────────────────────────────

export async function myReservations() {
  const user = await requireUser({ roles: ['patient'], callbackUrl: '/me' });
  return reservationsOf(appDb(), user.id);
}

export async function myReservation(reservationId: string) {
  const user = await requireUser({ roles: ['patient'], callbackUrl: `/me/reservations/${encodeURIComponent(reservationId)}` });
  return reservationOf(appDb(), user.id, reservationId);
}

export async function myCancellationPreview(reservationId: string) {
  const user = await requireUser({ roles: ['patient'], callbackUrl: `/me/reservations/${encodeURIComponent(reservationId)}/cancel` });
  return cancellationPreviewOf(await appCommandDeps(), user.id, reservationId);
}

export async function myReschedulePreview(reservationId: string, startsAt: string) {
  const user = await requireUser({ roles: ['patient'], callbackUrl: `/me/reservations/${encodeURIComponent(reservationId)}/reschedule` });
  return reschedulePreviewOf(await appCommandDeps(), user.id, reservationId, startsAt);
}

/**
 * Where this patient's reservation could move: the clinic's bookable days and the free slots of
 * `day` (default: the first open day) for the reservation's own duration, from H6's availability
 * (the schedule read model counted by the domain). Null when it is not this patient's reservation.
 */
export async function myRescheduleOptions(
  reservationId: string,
  day: string | undefined,
  now = new Date(),
): Promise<{ reservation: ReservationDetail; days: Array<{ day: string; open: boolean }>; selected: DayAvailability | null } | null> {
  const user = await requireUser({ roles: ['patient'], callbackUrl: `/me/reservations/${encodeURIComponent(reservationId)}/reschedule` });
  const r = await reservationOf(appDb(), user.id, reservationId, now);
  if (!r) return null;
  const clinic = await getClinicWithTreatments(r.clinicId);
  if (!clinic) return { reservation: r, days: [], selected: null };
  const days = bookableDays(clinic, now);
  const chosen = day && days.some((d) => d.day === day) ? day : days.find((d) => d.open)?.day;
  const durationMinutes = Math.round((r.endsAt.getTime() - r.startsAt.getTime()) / 60_000);
  const selected = chosen ? await availabilityFor(clinic, durationMinutes, chosen, now) : null;
  return { reservation: r, days, selected };
}
