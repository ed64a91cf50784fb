/**
 * The desk's ledger of one clinic day (issue 9, payments), from the payments read model (rm_payments,
 * rm_payment_days) and the reservations it concerns. Which payments a day shows: those with money
 * moving that day (a capture, a refund, by the Asia/Seoul day), bills asked that day (discharges),
 * and deposits whose reservation closed that day (a fee or a forfeit withheld then).
 *
 * Totals (docs/payments.md, "The desk's ledger"): deposits and bills = captured that day; refunds =
 * refunded that day; withheld = of the deposits whose reservation closed that day, captured − refunded
 * − applied to a bill (fees and forfeits: no sale, no VAT); VAT = the VAT of the payments captured that
 * day (a bill's share, a deposit's applied share); net = captured − refunded that day (rm_payment_days).
 */
import { and, eq, gte, inArray, or } from 'drizzle-orm';
import { requireUser } from '../auth/guard';
import { db as appDb, type Db } from '../db/client';
import { users } from '../db/schema';
import { atLocal, clinicDay, plusMinutes } from '../domain';
import { clinicSettingsOf, noShowAllowedFrom, type SettingsAsStored } from '../domain/clinic';
import { recordPersonalDataAccess } from '../privacy/access-log';
import { rmPatients, rmPaymentDays, rmPayments, rmReservations, rmVisits } from '../projections/schema';
import { getClinicWithTreatments } from './catalogue';
import { staffDay } from './staff';

export interface LedgerRefund {
  readonly amountKrw: number;
  readonly reason: string;
  readonly at: string;
  /** On this ledger's day. */
  readonly today: boolean;
}

export interface LedgerRow {
  readonly paymentId: string;
  readonly purpose: 'deposit' | 'bill';
  readonly status: string;
  /** 'cash' for a bill taken in cash at the desk; the gateway's name for a card; null while unpaid. */
  readonly method: 'cash' | 'card' | null;
  readonly patientName: string | null;
  /** A bill: what its visit sold (its lines); a deposit: the booked treatment. */
  readonly treatmentName: string | null;
  readonly reservationId: string | null;
  readonly visitId: string | null;
  readonly amountKrw: number;
  readonly capturedKrw: number;
  readonly refundedKrw: number;
  /** A deposit: the part applied to the visit's bill. */
  readonly appliedKrw: number;
  /** A deposit whose reservation is closed: what the clinic kept (fees, a forfeit). */
  readonly withheldKrw: number;
  readonly vatKrw: number;
  /** What can still be refunded (captured − refunded − applied for a deposit still open, else captured − refunded). */
  readonly refundableKrw: number;
  readonly requestedAt: string;
  readonly capturedAt: string | null;
  readonly capturedByName: string | null;
  readonly refunds: readonly LedgerRefund[];
  /** Open (asked, not paid): the desk can collect it. */
  readonly collectable: boolean;
}

export interface NoShowCandidate {
  readonly reservationId: string;
  readonly patientName: string | null;
  readonly treatmentName: string;
  readonly startsAt: string;
  readonly status: 'confirmed' | 'no-show';
  readonly depositPaidKrw: number;
  /** What the frozen policy forfeits on a no-show (the whole deposit, or nothing). */
  readonly forfeitKrw: number;
  /** When the desk may record it: the start plus the clinic's no-show grace (the catalogue's copy of its settings). */
  readonly allowedFrom: string;
  readonly depositStatus: string;
}

export interface LedgerTotals {
  readonly depositsKrw: number;
  readonly billsKrw: number;
  readonly refundsKrw: number;
  readonly withheldKrw: number;
  readonly vatKrw: number;
  readonly netKrw: number;
  /** Bills asked and not paid yet (shown, not in the totals). */
  readonly openBillsKrw: number;
}

export interface Ledger {
  readonly clinicId: string;
  readonly day: string;
  readonly totals: LedgerTotals;
  readonly rows: readonly LedgerRow[];
  readonly noShows: readonly NoShowCandidate[];
  /** The patients whose names the ledger shows (for the access log; erased ones have none). */
  readonly namedPatientIds: readonly string[];
}

const CLOSED = ['cancelled', 'rejected', 'no-show', 'completed'] as const;
const CLOSING_ENTRY = new Set(['cancelled', 'rejected', 'no-show', 'completed']);

/** The ledger of a clinic day (data only: callers authorise; see `deskLedger`). */
export async function ledgerOf(db: Db, clinicId: string, day: string, clinicSettings: SettingsAsStored | null = null): Promise<Ledger> {
  const dayStart = atLocal(day, '00:00');
  const dayEnd = plusMinutes(dayStart, 24 * 60);
  const onDay = (at: string | Date | null | undefined) => !!at && clinicDay(at) === day;

  const [touched, closedReservations, dayRow, bookings] = await Promise.all([
    // Anything asked that day, or changed since its start (a capture or a refund that day changed the row).
    db
      .select()
      .from(rmPayments)
      .where(and(eq(rmPayments.clinicId, clinicId), or(eq(rmPayments.day, day), gte(rmPayments.updatedAt, dayStart)))),
    db
      .select({ id: rmReservations.id, status: rmReservations.status, timeline: rmReservations.timeline })
      .from(rmReservations)
      .where(and(eq(rmReservations.clinicId, clinicId), inArray(rmReservations.status, [...CLOSED]), gte(rmReservations.updatedAt, dayStart))),
    db.select().from(rmPaymentDays).where(eq(rmPaymentDays.id, `${clinicId}|${day}`)),
    db.select().from(rmReservations).where(and(eq(rmReservations.clinicId, clinicId), eq(rmReservations.day, day), inArray(rmReservations.status, ['confirmed', 'no-show']))),
  ]);
  const closedToday = new Set(
    closedReservations.filter((r) => r.timeline.some((entry) => CLOSING_ENTRY.has(entry.type) && onDay(entry.at))).map((r) => r.id),
  );
  const missingDeposits = closedToday.size
    ? await db
        .select()
        .from(rmPayments)
        .where(and(eq(rmPayments.clinicId, clinicId), eq(rmPayments.purpose, 'deposit'), inArray(rmPayments.reservationId, [...closedToday])))
    : [];
  const byId = new Map([...touched, ...missingDeposits].map((p) => [p.id, p]));
  const payments = [...byId.values()].filter(
    (p) =>
      p.day === day ||
      onDay(p.capturedAt) ||
      p.refunds.some((r) => onDay(r.at)) ||
      (p.purpose === 'deposit' && p.reservationId !== null && closedToday.has(p.reservationId)),
  );

  const reservationIds = [...new Set(payments.map((p) => p.reservationId).filter((id): id is string => !!id))];
  const reservations = reservationIds.length
    ? await db
        .select({ id: rmReservations.id, status: rmReservations.status, treatmentName: rmReservations.treatmentName, visitId: rmReservations.visitId })
        .from(rmReservations)
        .where(inArray(rmReservations.id, reservationIds))
    : [];
  const reservationById = new Map(reservations.map((r) => [r.id, r]));
  const reservationOfVisit = new Map(reservations.filter((r) => r.visitId).map((r) => [r.visitId!, r]));
  const patientIds = [...new Set([...payments.map((p) => p.patientId), ...bookings.map((b) => b.patientId)])];
  const takers = [...new Set(payments.map((p) => p.capturedBy).filter((id): id is string => !!id && /^[0-9a-f-]{36}$/i.test(id)))];
  const billVisits = [...new Set(payments.filter((p) => p.purpose === 'bill' && p.visitId).map((p) => p.visitId!))];
  const [patients, staff, visits] = await Promise.all([
    patientIds.length ? db.select({ id: rmPatients.id, name: rmPatients.name, erased: rmPatients.erased }).from(rmPatients).where(inArray(rmPatients.id, patientIds)) : [],
    // Only this clinic's staff are named.
    takers.length ? db.select({ id: users.id, name: users.name }).from(users).where(and(inArray(users.id, takers), eq(users.clinicId, clinicId))) : [],
    // A bill names what its visit sold (treatments added mid-visit included), not only what was booked.
    billVisits.length ? db.select({ id: rmVisits.id, treatments: rmVisits.treatments }).from(rmVisits).where(inArray(rmVisits.id, billVisits)) : [],
  ]);
  const visitLines = new Map(visits.map((v) => [v.id, v.treatments.map((x) => (x.quantity > 1 ? `${x.name} × ${x.quantity}` : x.name)).join(', ')]));
  const patientName = new Map(patients.map((p) => [p.id, p.erased ? null : p.name]));
  const staffName = new Map(staff.map((s) => [s.id, s.name]));

  const rows = payments
    .map((p): LedgerRow => {
      const r = p.reservationId ? reservationById.get(p.reservationId) : p.visitId ? reservationOfVisit.get(p.visitId) : undefined;
      const closed = !!r && (CLOSED as readonly string[]).includes(r.status);
      const kept = p.capturedKrw - p.refundedKrw - p.appliedKrw;
      const withheldKrw = p.purpose === 'deposit' && closed ? Math.max(0, kept) : 0;
      return {
        paymentId: p.id,
        purpose: p.purpose as LedgerRow['purpose'],
        status: p.status,
        method: p.capturedKrw > 0 ? (p.provider === 'cash' ? 'cash' : 'card') : null,
        patientName: patientName.get(p.patientId) ?? null,
        treatmentName: (p.purpose === 'bill' && p.visitId ? visitLines.get(p.visitId) : undefined) || (r?.treatmentName ?? null),
        reservationId: p.reservationId,
        visitId: p.visitId,
        amountKrw: p.amountKrw,
        capturedKrw: p.capturedKrw,
        refundedKrw: p.refundedKrw,
        appliedKrw: p.appliedKrw,
        withheldKrw,
        vatKrw: p.vatKrw,
        // A deposit's applied part paid a sale: a refund of it is the bill's matter, not the deposit's.
        refundableKrw: Math.max(0, p.capturedKrw - p.refundedKrw - (p.purpose === 'deposit' ? p.appliedKrw : 0)),
        requestedAt: p.requestedAt.toISOString(),
        capturedAt: p.capturedAt?.toISOString() ?? null,
        capturedByName: p.capturedBy ? (staffName.get(p.capturedBy) ?? null) : null,
        refunds: p.refunds.map((x) => ({ amountKrw: x.amountKrw, reason: x.reason, at: x.at, today: onDay(x.at) })),
        collectable: p.purpose === 'bill' && (p.status === 'requested' || p.status === 'authorized'),
      };
    })
    .sort((a, b) => (a.capturedAt ?? a.requestedAt).localeCompare(b.capturedAt ?? b.requestedAt) || a.paymentId.localeCompare(b.paymentId));

  const capturedToday = rows.filter((r) => onDay(r.capturedAt));
  const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
  const refundsKrw = sum(rows.flatMap((r) => r.refunds.filter((x) => x.today).map((x) => x.amountKrw)));
  const depositsKrw = sum(capturedToday.filter((r) => r.purpose === 'deposit').map((r) => r.capturedKrw));
  const billsKrw = sum(capturedToday.filter((r) => r.purpose === 'bill').map((r) => r.capturedKrw));
  const totals: LedgerTotals = {
    depositsKrw,
    billsKrw,
    refundsKrw,
    withheldKrw: sum(rows.filter((r) => r.reservationId && closedToday.has(r.reservationId)).map((r) => r.withheldKrw)),
    vatKrw: sum(capturedToday.map((r) => r.vatKrw)),
    // The day's own row when the projection has one (the same sums, kept per day by the projection).
    netKrw: dayRow[0] ? dayRow[0].capturedKrw - dayRow[0].refundedKrw : depositsKrw + billsKrw - refundsKrw,
    openBillsKrw: sum(rows.filter((r) => r.collectable).map((r) => r.amountKrw)),
  };

  // The catalogue's copy of the clinic's grace (the command checks the aggregate's own); the default without one.
  const settings = clinicSettingsOf({ settings: clinicSettings });
  const noShows = bookings
    .filter((b) => b.startsAt < dayEnd)
    .sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime())
    .map(
      (b): NoShowCandidate => ({
        reservationId: b.id,
        patientName: patientName.get(b.patientId) ?? null,
        treatmentName: b.treatmentName,
        startsAt: b.startsAt.toISOString(),
        status: b.status as NoShowCandidate['status'],
        depositPaidKrw: b.depositPaidKrw,
        forfeitKrw: (b.policy as { noShowForfeitsDeposit?: boolean }).noShowForfeitsDeposit ? b.depositPaidKrw : 0,
        allowedFrom: noShowAllowedFrom({ settings }, b.startsAt).toISOString(),
        depositStatus: b.depositStatus,
      }),
    );
  const namedPatientIds = patients.filter((p) => !p.erased && p.name !== null).map((p) => p.id);
  return { clinicId, day, totals, rows, noShows, namedPatientIds };
}

/**
 * The payments page's data for the signed-in staff member of this clinic (403 for anyone else):
 * the clinic's names, the day shown (`?day=` or today, Seoul) and its ledger; null for no such clinic.
 */
export async function deskLedger(clinicId: string, dayParam: string | undefined, now = new Date()) {
  const user = await requireUser({ roles: ['staff'], clinicId, callbackUrl: `/staff/${clinicId}/payments` });
  const clinic = await getClinicWithTreatments(clinicId);
  if (!clinic) return null;
  const day = staffDay(dayParam, now);
  const ledger = await ledgerOf(appDb(), clinicId, day, clinic.clinicSettings);
  // Access log: one entry per render naming the patients whose names the ledger shows (like Today and the board).
  if (ledger.namedPatientIds.length) await recordPersonalDataAccess({ user, action: 'view', resource: 'patient-name', patientIds: ledger.namedPatientIds, clinicId, detail: { page: 'payments', day } });
  return { clinic: { nameKo: clinic.nameKo, nameEn: clinic.nameEn }, today: clinicDay(now), ledger };
}
