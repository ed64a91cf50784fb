/**
 * Read-side tables (DESIGN §4, docs/read-side.md).
 *
 * - projection_registry: one row per projection: the version its live tables were built with, its
 *   checkpoint, lag and rebuild progress. Written by the worker and by rebuilds, read by the admin page
 *   and by waitForProjections.
 * - rmrev_<projection>: the last applied revision of every stream a projection follows. Kept per
 *   projection (not per worker) so each projection is idempotent on its own and can be rebuilt
 *   alone: it is one of the projection's tables, rebuilt and swapped with them.
 * - rm_*: the read models. Each belongs to exactly one projection, which is the only writer and the
 *   only reader of it inside the worker (a projection never reads another projection's tables, so
 *   a rebuild is deterministic). The catalogue projection also writes the foundation tables
 *   clinics/treatments (lib/db/schema.ts) in "merge" mode.
 *
 * No read-model table has a sequence or a foreign key: a rebuild copies each table's shape into a
 * shadow schema (CREATE TABLE … LIKE … INCLUDING ALL) and swaps it in by moving schemas.
 */
import { sql } from 'drizzle-orm';
import { bigint, boolean, doublePrecision, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { revisionTable } from './revision-table';

const tz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const projectionRegistry = pgTable('projection_registry', {
  name: text('name').primaryKey(),
  /** Version of the code the live tables were built with; null until the first build completes. */
  version: integer('version'),
  /** 'live' (the worker applies events), 'building' (never built: the first build is running or due). */
  status: text('status').$type<'live' | 'building'>().notNull().default('building'),
  /** Every event up to here is applied (or skipped as a duplicate) in the live tables. */
  checkpointCommit: bigint('checkpoint_commit', { mode: 'bigint' }).notNull().default(sql`0`),
  checkpointPrepare: bigint('checkpoint_prepare', { mode: 'bigint' }).notNull().default(sql`0`),
  checkpointAt: tz('checkpoint_at'),
  eventsApplied: bigint('events_applied', { mode: 'number' }).notNull().default(0),
  /** Filled by the live worker about once a second. */
  lagEvents: integer('lag_events'),
  lagMs: integer('lag_ms'),
  eventsPerSecond: doublePrecision('events_per_second'),
  parkedCount: integer('parked_count'),
  workerId: text('worker_id'),
  statusAt: tz('status_at'),
  /** Rebuild: requested from the admin page (the worker runs it), progress, outcome. */
  rebuildRequestedAt: tz('rebuild_requested_at'),
  rebuildStartedAt: tz('rebuild_started_at'),
  rebuildFinishedAt: tz('rebuild_finished_at'),
  rebuildEvents: bigint('rebuild_events', { mode: 'number' }),
  rebuildTotal: bigint('rebuild_total', { mode: 'number' }),
  rebuildEventsPerSecond: doublePrecision('rebuild_events_per_second'),
  rebuildError: text('rebuild_error'),
  updatedAt: tz('updated_at').notNull().defaultNow(),
});

export { revisionTable };

/** Events the admin chose to skip: when the parked event is replayed the worker acks it without applying it. */
export const projectionSkips = pgTable('projection_skips', {
  eventId: text('event_id').primaryKey(),
  streamId: text('stream_id').notNull(),
  revision: bigint('revision', { mode: 'number' }).notNull(),
  requestedBy: text('requested_by').notNull(),
  requestedAt: tz('requested_at').notNull().defaultNow(),
  appliedAt: tz('applied_at'),
});

// ---------------------------------------------------------------------------------------------
// reservations

export const rmrevReservations = revisionTable('rmrev_reservations');

/** One step of a reservation's timeline (reservations projection v2). */
export interface ReservationTimelineEntry {
  type: 'requested' | 'confirmed' | 'deposit-paid' | 'rescheduled' | 'cancelled' | 'rejected' | 'no-show' | 'checked-in' | 'completed';
  /** When it happened (the event's occurredAt, ISO). */
  at: string;
  /** Who: patient, staff or system. */
  by?: string;
  startsAt?: string;
  previousStartsAt?: string;
  amountKrw?: number;
  feeKrw?: number;
  refundDueKrw?: number;
}

export const rmReservations = pgTable(
  'rm_reservations',
  {
    id: text('id').primaryKey(),
    clinicId: text('clinic_id').notNull(),
    patientId: text('patient_id').notNull(),
    treatmentId: text('treatment_id').notNull(),
    treatmentName: text('treatment_name').notNull(),
    kind: text('kind').notNull(),
    bookingMode: text('booking_mode').notNull(),
    startsAt: tz('starts_at').notNull(),
    endsAt: tz('ends_at').notNull(),
    day: text('day').notNull(),
    holdId: text('hold_id').notNull(),
    status: text('status').$type<'requested' | 'confirmed' | 'checked-in' | 'completed' | 'cancelled' | 'rejected' | 'no-show'>().notNull(),
    priceKrw: integer('price_krw').notNull(),
    depositDueKrw: integer('deposit_due_krw').notNull(),
    depositPaidKrw: integer('deposit_paid_krw').notNull(),
    /** none | due | partially-paid | paid | refund-due | refunded-in-full | forfeited */
    depositStatus: text('deposit_status').notNull(),
    /** The cancellation policy frozen when the reservation was requested. */
    policy: jsonb('policy').notNull(),
    feesKrw: integer('fees_krw').notNull(),
    refundDueKrw: integer('refund_due_krw').notNull(),
    closedReason: text('closed_reason'),
    visitId: text('visit_id'),
    /** The patient's note, decrypted (it is their personal data); null when none or erased. */
    note: text('note'),
    /** The patient was erased: their note (if any) reads as erased. */
    noteErased: boolean('note_erased').notNull().default(false),
    requestedAt: tz('requested_at').notNull(),
    updatedAt: tz('updated_at').notNull(),
    /** What happened to the reservation, in stream order (the patient's timeline; no personal data). */
    timeline: jsonb('timeline').$type<ReservationTimelineEntry[]>().notNull().default(sql`'[]'::jsonb`),
    /** Revision of reservation-<id> this row reflects. */
    version: integer('version').notNull(),
  },
  (t) => [
    index('rm_reservations_clinic_day_idx').on(t.clinicId, t.day, t.startsAt),
    index('rm_reservations_patient_idx').on(t.patientId, t.startsAt),
    // Today's requests waiting for the clinic (every future day): only those, not the whole horizon's bookings.
    index('rm_reservations_requested_idx').on(t.clinicId, t.startsAt).where(sql`status = 'requested'`),
  ],
);

// ---------------------------------------------------------------------------------------------
// clinic-day schedule

export const rmrevSchedule = revisionTable('rmrev_schedule');

/** The schedule projection's own copy of each clinic's slot facts (from clinic events). */
export const rmScheduleClinics = pgTable('rm_schedule_clinics', {
  clinicId: text('clinic_id').primaryKey(),
  slotMinutes: integer('slot_minutes').notNull(),
  slotCapacity: integer('slot_capacity').notNull(),
  /** The domain's opening intervals: [{ weekday 0–6, opens, closes }]. */
  openingHours: jsonb('opening_hours').$type<Array<{ weekday: number; opens: string; closes: string }>>().notNull(),
});

/** Live holds (released holds are deleted). Unconfirmed holds stop counting at expires_at. */
export const rmScheduleHolds = pgTable(
  'rm_schedule_holds',
  {
    holdId: text('hold_id').primaryKey(),
    clinicId: text('clinic_id').notNull(),
    day: text('day').notNull(),
    reservationId: text('reservation_id').notNull(),
    slots: jsonb('slots').$type<string[]>().notNull(),
    startsAt: tz('starts_at').notNull(),
    endsAt: tz('ends_at').notNull(),
    expiresAt: tz('expires_at').notNull(),
    confirmed: boolean('confirmed').notNull(),
  },
  (t) => [index('rm_schedule_holds_day_idx').on(t.clinicId, t.day)],
);

/** One row per clinic, day and slot that has (or had) a hold: capacity and holds counted. */
export const rmScheduleSlots = pgTable(
  'rm_schedule_slots',
  {
    id: text('id').primaryKey(),
    clinicId: text('clinic_id').notNull(),
    day: text('day').notNull(),
    slot: text('slot').notNull(),
    capacity: integer('capacity').notNull(),
    confirmed: integer('confirmed').notNull(),
    /** Unconfirmed holds, counted until released; the query discounts the expired ones. */
    pending: integer('pending').notNull(),
  },
  (t) => [index('rm_schedule_slots_day_idx').on(t.clinicId, t.day, t.slot)],
);

// ---------------------------------------------------------------------------------------------
// visit board

export const rmrevVisits = revisionTable('rmrev_visits');

export interface StageEntry {
  stage: string;
  at: string;
  by: string | null;
  /** Set when staff moved the visit back. */
  revertedFrom?: string;
  reason?: string;
}

export const rmVisits = pgTable(
  'rm_visits',
  {
    id: text('id').primaryKey(),
    clinicId: text('clinic_id').notNull(),
    patientId: text('patient_id').notNull(),
    reservationId: text('reservation_id'),
    day: text('day').notNull(),
    stage: text('stage').notNull(),
    stageEnteredAt: tz('stage_entered_at').notNull(),
    /** Who moved it into the current stage (staff id or actor id). */
    movedBy: text('moved_by'),
    /** When each stage was (last) entered and by whom. */
    stageTimes: jsonb('stage_times').$type<Record<string, { at: string; by: string | null }>>().notNull(),
    /** Every move in order, reverts included. */
    history: jsonb('history').$type<StageEntry[]>().notNull(),
    treatments: jsonb('treatments')
      .$type<Array<{ lineId: string; treatmentId: string; name: string; quantity: number; priceKrw: number; at: string; by: string | null }>>()
      .notNull(),
    totalKrw: integer('total_krw').notNull(),
    arrivedAt: tz('arrived_at').notNull(),
    dischargedAt: tz('discharged_at'),
    version: integer('version').notNull(),
  },
  (t) => [
    index('rm_visits_clinic_day_idx').on(t.clinicId, t.day, t.stage),
    // Today's board also shows visits still open from earlier days: only those, however long the clinic's history.
    index('rm_visits_open_idx').on(t.clinicId, t.day).where(sql`stage <> 'discharged'`),
  ],
);

// ---------------------------------------------------------------------------------------------
// payment ledger

export const rmrevPayments = revisionTable('rmrev_payments');

export const rmPayments = pgTable(
  'rm_payments',
  {
    id: text('id').primaryKey(),
    clinicId: text('clinic_id').notNull(),
    patientId: text('patient_id').notNull(),
    purpose: text('purpose').notNull(),
    reservationId: text('reservation_id'),
    visitId: text('visit_id'),
    status: text('status').notNull(),
    amountKrw: integer('amount_krw').notNull(),
    vatKrw: integer('vat_krw').notNull(),
    capturedKrw: integer('captured_krw').notNull(),
    refundedKrw: integer('refunded_krw').notNull(),
    /** A deposit: the part applied to a visit's bill at discharge (DepositApplied), and that visit. */
    appliedKrw: integer('applied_krw').notNull().default(0),
    appliedVisitId: text('applied_visit_id'),
    provider: text('provider'),
    providerRef: text('provider_ref'),
    /** The staff member (actor) who took the payment (captured it). */
    capturedBy: text('captured_by'),
    capturedAt: tz('captured_at'),
    failureReason: text('failure_reason'),
    refunds: jsonb('refunds').$type<Array<{ refundId: string; amountKrw: number; reason: string; at: string; by: string }>>().notNull(),
    requestedAt: tz('requested_at').notNull(),
    day: text('day').notNull(),
    updatedAt: tz('updated_at').notNull(),
    version: integer('version').notNull(),
  },
  (t) => [
    index('rm_payments_clinic_day_idx').on(t.clinicId, t.day),
    index('rm_payments_patient_idx').on(t.patientId),
    // The visit board's discharged cards: a visit's bills and the deposits credited to it.
    index('rm_payments_visit_idx').on(t.visitId),
    index('rm_payments_applied_visit_idx').on(t.appliedVisitId),
  ],
);

/** Per clinic and day (Asia/Seoul, of the capture or refund): money in and out, and who took it. */
export const rmPaymentDays = pgTable(
  'rm_payment_days',
  {
    id: text('id').primaryKey(),
    clinicId: text('clinic_id').notNull(),
    day: text('day').notNull(),
    capturedKrw: integer('captured_krw').notNull(),
    refundedKrw: integer('refunded_krw').notNull(),
    captures: integer('captures').notNull(),
    refunds: integer('refunds').notNull(),
    /** Captured KRW per staff member (actor id) who took the payment. */
    capturedByStaff: jsonb('captured_by_staff').$type<Record<string, number>>().notNull(),
  },
  (t) => [index('rm_payment_days_clinic_idx').on(t.clinicId, t.day)],
);

// ---------------------------------------------------------------------------------------------
// patients and their history

export const rmrevPatients = revisionTable('rmrev_patients');

/** The only read model holding personal data (decrypted); cleared when the patient's data is erased. */
export const rmPatients = pgTable('rm_patients', {
  id: text('id').primaryKey(),
  name: text('name'),
  phone: text('phone'),
  email: text('email'),
  birthDate: text('birth_date'),
  locale: text('locale').notNull(),
  consents: jsonb('consents').$type<Record<string, { version: string; at: string } | null>>().notNull(),
  erased: boolean('erased').notNull(),
  erasedAt: tz('erased_at'),
  registeredAt: tz('registered_at').notNull(),
  version: integer('version').notNull(),
});

/** Which patient (and clinic) a reservation, visit or payment stream concerns. */
export const rmPatientSubjects = pgTable('rm_patient_subjects', {
  streamId: text('stream_id').primaryKey(),
  patientId: text('patient_id').notNull(),
  clinicId: text('clinic_id'),
});

/** One row per event concerning a patient (no personal data). */
export const rmPatientHistory = pgTable(
  'rm_patient_history',
  {
    eventId: text('event_id').primaryKey(),
    patientId: text('patient_id').notNull(),
    clinicId: text('clinic_id'),
    occurredAt: tz('occurred_at').notNull(),
    streamId: text('stream_id').notNull(),
    eventType: text('event_type').notNull(),
    summary: text('summary').notNull(),
    amountKrw: integer('amount_krw'),
    position: bigint('position', { mode: 'bigint' }).notNull(),
  },
  (t) => [index('rm_patient_history_patient_idx').on(t.patientId, t.occurredAt)],
);

// ---------------------------------------------------------------------------------------------
// daily clinic statistics

export const rmrevDailyStats = revisionTable('rmrev_daily_stats');

export const rmStatsSubjects = pgTable('rm_stats_subjects', {
  streamId: text('stream_id').primaryKey(),
  clinicId: text('clinic_id').notNull(),
});

/** Per clinic and day (Asia/Seoul day the event happened). Revenue = captured − refunded. */
export const rmClinicDailyStats = pgTable(
  'rm_clinic_daily_stats',
  {
    id: text('id').primaryKey(),
    clinicId: text('clinic_id').notNull(),
    day: text('day').notNull(),
    bookings: integer('bookings').notNull(),
    cancellations: integer('cancellations').notNull(),
    noShows: integer('no_shows').notNull(),
    capturedKrw: integer('captured_krw').notNull(),
    refundedKrw: integer('refunded_krw').notNull(),
    revenueKrw: integer('revenue_krw').notNull(),
  },
  (t) => [index('rm_clinic_daily_stats_idx').on(t.clinicId, t.day)],
);

// ---------------------------------------------------------------------------------------------
// audit log (colocated with its projection and queries: read-models/audit-log/)

export * from './read-models/audit-log/table';

// ---------------------------------------------------------------------------------------------
// clinic catalogue (writes the foundation tables clinics/treatments; keeps the policy here)

export const rmrevCatalogue = revisionTable('rmrev_catalogue');

export const rmClinicPolicies = pgTable('rm_clinic_policies', {
  clinicId: text('clinic_id').primaryKey(),
  policy: jsonb('policy').notNull(),
  updatedAt: tz('updated_at').notNull(),
});

/** Holidays and one-off closures (DayClosed, removed by DayReopened): no slots are offered on them. */
export const rmClinicClosures = pgTable(
  'rm_clinic_closures',
  {
    /** `<clinicId>|<day>` (one key column for the projection's row cache). */
    id: text('id').primaryKey(),
    clinicId: text('clinic_id').notNull(),
    /** The clinic day, yyyy-mm-dd (Asia/Seoul). */
    day: text('day').notNull(),
    reason: text('reason').notNull(),
    closedAt: tz('closed_at').notNull(),
  },
  (t) => [index('rm_clinic_closures_clinic_day_idx').on(t.clinicId, t.day)],
);
