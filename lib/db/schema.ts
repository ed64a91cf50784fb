import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, check, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

export const roles = ['patient', 'staff', 'auditor', 'admin'] as const;
export type Role = (typeof roles)[number];

/** A clinic's opening intervals in Seoul time, as the domain has them: weekday 0 = Sunday … 6 = Saturday, several per day for a lunch break. */
export type OpeningIntervals = Array<{ weekday: number; opens: string; closes: string }>;

/** lib/domain/clinic's SettingsAsStored, spelled out here (the schema does not import the domain). */
export interface StoredClinicSettings {
  bookingHorizonDays?: number;
  paymentDeadlineMinutes?: number;
  noShowGraceMinutes?: number;
  stageThresholdMinutes?: { arrived?: number; consultation?: number; procedure?: number; recovery?: number };
}

export const clinics = pgTable('clinics', {
  id: text('id').primaryKey(),
  nameKo: text('name_ko').notNull(),
  nameEn: text('name_en').notNull(),
  district: text('district').notNull(),
  address: text('address').notNull(),
  phone: text('phone').notNull(),
  openingHours: jsonb('opening_hours').$type<OpeningIntervals>().notNull(),
  slotMinutes: integer('slot_minutes').notNull(),
  slotCapacity: integer('slot_capacity').notNull(),
  /** The clinic settings it changed (horizon, payment deadline, no-show grace, stage thresholds); null: the defaults (clinicSettingsOf). */
  settings: jsonb('settings').$type<StoredClinicSettings>(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export const treatments = pgTable(
  'treatments',
  {
    id: text('id').primaryKey(),
    clinicId: text('clinic_id')
      .notNull()
      .references(() => clinics.id),
    category: text('category').notNull(),
    nameKo: text('name_ko').notNull(),
    nameEn: text('name_en').notNull(),
    /** Price in KRW, VAT included (Korean consumer prices are quoted VAT-inclusive). */
    priceKrw: integer('price_krw').notNull(),
    depositKrw: integer('deposit_krw').notNull(),
    durationMinutes: integer('duration_minutes').notNull(),
    bookingMode: text('booking_mode').$type<'instant' | 'clinic-confirm'>().notNull(),
    /** The booking kinds the treatment allows (TreatmentListed v3); null only before the catalogue's v3 rebuild. */
    bookingKinds: jsonb('booking_kinds').$type<Array<'consult-first' | 'pay-and-book'>>(),
    /** Length of a consult-first booking (null: the treatment's own duration). */
    consultDurationMinutes: integer('consult_duration_minutes'),
    /** VAT category of its sale (TreatmentListed v4; older treatments read as taxable). */
    taxCategory: text('tax_category').$type<'taxable' | 'exempt'>().notNull().default('taxable'),
  },
  (t) => [index('treatments_clinic_idx').on(t.clinicId)],
);

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey(),
    email: text('email').notNull(),
    name: text('name').notNull(),
    passwordHash: text('password_hash').notNull(),
    role: text('role').$type<Role>().notNull(),
    /**
     * Set for staff only: the one clinic they work for. Not a foreign key: clinics are an
     * event-sourced catalogue whose table is a projection that can be rebuilt.
     */
    clinicId: text('clinic_id'),
    active: boolean('active').notNull().default(true),
    /** Staff only: a clinic manager (set by an admin) also runs the clinic's catalogue, hours, closures and settings. */
    clinicManager: boolean('clinic_manager').notNull().default(false),
    /**
     * Every session carries the version it was issued under; bumping it (sign out everywhere, password
     * or role change, deactivation) ends every session of the account at its next request (lib/auth/guard.ts).
     */
    sessionVersion: integer('session_version').notNull().default(0),
    /** When the owner proved the e-mail address is theirs; null: registered, not yet verified (cannot sign in). Accounts made before verification existed count as verified. */
    emailVerifiedAt: timestamp('email_verified_at', { withTimezone: true }).defaultNow(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('users_email_idx').on(sql`lower(${t.email})`),
    index('users_clinic_idx').on(t.clinicId),
  ],
);

export const securityEventTypes = [
  'sign_in',
  'sign_in_failed',
  'sign_in_throttled',
  'sign_out',
  'registered',
  'role_changed',
  'registration_requested',
  'registration_throttled',
  'email_verified',
  'sessions_revoked',
  'password_changed',
  'account_deactivated',
  /** A page, query, action or command refused the signed-in account (403; lib/auth/refusals.ts). */
  'refused',
  /** An export of the audit trail or the access log, with its reason (app/audit/export/route.ts). */
  'export',
  /** An integrity check of the event log / access log (lib/integrity), with its scope and result. */
  'integrity_check',
  /** A log-wide seal issued (lib/integrity/seal.ts): by the worker's timer or an auditor's request. */
  'log_sealed',
  /** An auditor recorded the monthly review of the access log (lib/commands/access-review.ts; the row is in access_reviews). */
  'access_review',
] as const;
export type SecurityEventType = (typeof securityEventTypes)[number];

/** Sign-ins, failures and sign-outs. Also the source for sign-in rate limiting. */
export const securityEvents = pgTable(
  'security_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
    type: text('type').$type<SecurityEventType>().notNull(),
    userId: uuid('user_id'),
    /** Normalised (lower-case) account e-mail as typed, also for unknown accounts. */
    email: text('email'),
    ip: text('ip').notNull(),
    userAgent: text('user_agent'),
    detail: jsonb('detail').$type<Record<string, unknown>>(),
  },
  (t) => [
    index('security_events_email_idx').on(t.email, t.occurredAt),
    index('security_events_ip_idx').on(t.ip, t.occurredAt),
    // The audit trail's keyset order (occurred_at, id), alone and after its filters.
    index('security_events_time_idx').on(t.occurredAt, t.id),
    index('security_events_user_idx').on(t.userId, t.occurredAt, t.id),
    index('security_events_type_idx').on(t.type, t.occurredAt, t.id),
  ],
);

export const accessLogActions = ['view', 'export', 'print', 'change'] as const;
export type AccessLogAction = (typeof accessLogActions)[number];

/**
 * PIPA 접속기록: every server-side read of patient personal data by staff, auditors or admins
 * (lib/privacy/access-log.ts). Append-only in the database (triggers in migration 0015, like
 * es_events); kept apart from business events. docs/privacy.md, "Access log".
 */
export const accessLog = pgTable(
  'access_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
    accountId: uuid('account_id').notNull(),
    role: text('role').notNull(),
    clinicId: text('clinic_id'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    action: text('action').$type<AccessLogAction>().notNull(),
    /** What was read, a short label: `patient-contact`, `account-list`, `visit-board-names`. */
    resource: text('resource').notNull(),
    /** Whose data: the patients whose personal data was returned (empty for a list of accounts). */
    patientIds: text('patient_ids').array().notNull().default(sql`'{}'::text[]`),
    reason: text('reason'),
    detail: jsonb('detail').$type<Record<string, unknown>>(),
    /**
     * The chain (lib/integrity/access-chain.ts): the previous row's hash and an HMAC over this row and it,
     * computed at insert under the head row's lock. Null only on rows written before the chain existed.
     */
    prevHash: text('prev_hash'),
    hash: text('hash'),
  },
  (t) => [
    index('access_log_time_idx').on(t.occurredAt),
    index('access_log_account_idx').on(t.accountId, t.occurredAt),
    index('access_log_patients_idx').using('gin', t.patientIds),
    check('access_log_action_check', sql`${t.action} in ('view', 'export', 'print', 'change')`),
    check('access_log_export_reason_check', sql`${t.action} <> 'export' or coalesce(length(trim(${t.reason})), 0) > 0`),
  ],
);

/**
 * The monthly reviews of the access log (PIPA Standards Art. 8; lib/commands/access-review.ts): who
 * reviewed which month when, with what notes, what the review's rules found then, and which exports'
 * reasons the reviewer confirmed. Append-only like the log itself (triggers in its migration): a
 * second review of a month is a new row.
 */
export const accessReviews = pgTable(
  'access_reviews',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** yyyy-mm, a Seoul calendar month. */
    month: text('month').notNull(),
    reviewerId: uuid('reviewer_id').notNull(),
    reviewedAt: timestamp('reviewed_at', { withTimezone: true }).notNull().defaultNow(),
    notes: text('notes').notNull(),
    /** How many access-log entries the month held, and how many flags the rules raised, when reviewed. */
    entries: integer('entries').notNull(),
    flags: integer('flags').notNull(),
    /** The month's export entries (access_log ids), and those whose reasons the reviewer confirmed. */
    exportIds: bigint('export_ids', { mode: 'number' }).array().notNull(),
    confirmedExportIds: bigint('confirmed_export_ids', { mode: 'number' }).array().notNull(),
  },
  (t) => [index('access_reviews_month_idx').on(t.month, t.reviewedAt), check('access_reviews_month_check', sql`${t.month} ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'`)],
);

/**
 * The access log's chain head: one row, locked FOR UPDATE by every insert (so rows are chained one at
 * a time, in id order) and holding the last row's id and hash (a removed tail no longer matches it).
 */
export const accessLogHead = pgTable('access_log_head', {
  singleton: boolean('singleton').primaryKey().default(true),
  lastId: bigint('last_id', { mode: 'number' }).notNull(),
  lastHash: text('last_hash'),
});

/**
 * Log-wide seals (lib/integrity/seal.ts): `body` is the signed JSON exactly as signed (Ed25519, key
 * SEAL_SIGNING_KEY, which the database never holds), so a changed row fails its signature.
 */
export const integritySeals = pgTable(
  'integrity_seals',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    issuedAt: timestamp('issued_at', { withTimezone: true }).notNull(),
    eventCount: bigint('event_count', { mode: 'number' }).notNull(),
    accessLogCount: bigint('access_log_count', { mode: 'number' }).notNull(),
    keyId: text('key_id').notNull(),
    body: text('body').notNull(),
    signature: text('signature').notNull(),
    /** 'schedule' (the worker) or the auditor's account id. */
    issuedBy: text('issued_by').notNull(),
  },
  (t) => [index('integrity_seals_time_idx').on(t.issuedAt)],
);

/**
 * E-mail the app would send (lib/auth/outbox.ts). No mail server is wired up: a sender (or a test)
 * reads the unsent rows. Only what the message needs: the address and the link.
 */
export const emailOutbox = pgTable(
  'email_outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    toEmail: text('to_email').notNull(),
    template: text('template').$type<'verify-email' | 'already-registered'>().notNull(),
    /** The template's values (a link); never a password. */
    payload: jsonb('payload').$type<Record<string, string>>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
  },
  (t) => [index('email_outbox_to_idx').on(sql`lower(${t.toEmail})`, t.createdAt)],
);

/** One-time e-mail verification links: only the token's SHA-256 is stored. */
export const emailVerifications = pgTable('email_verifications', {
  tokenHash: text('token_hash').primaryKey(),
  userId: uuid('user_id').notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  usedAt: timestamp('used_at', { withTimezone: true }),
});

/** One row per applied seed, so a second start never seeds again. */
export const seedRuns = pgTable('seed_runs', {
  name: text('name').primaryKey(),
  appliedAt: timestamp('applied_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Personal data keys (lib/privacy/vault.ts): one AES-256 data key per patient, stored wrapped
 * (AES-256-GCM under the master key PERSONAL_DATA_MASTER_KEY, AAD = patient id). Erasing a patient
 * deletes the row (crypto-shredding): the patient's encrypted event fields become unreadable.
 */
export const personalDataKeys = pgTable(
  'personal_data_keys',
  {
    patientId: text('patient_id').primaryKey(),
    /** Named in every envelope the key encrypts (`patient-<id>#<random>`); new after an erasure. */
    keyId: text('key_id').notNull(),
    /** `v1.<master key id>.<iv>.<ciphertext>.<tag>` (base64url parts). */
    wrappedKey: text('wrapped_key').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('personal_data_keys_key_id_idx').on(t.keyId)],
);

/**
 * Payment gateway sandbox (lib/payments/sandbox.ts): the state a PG keeps in test mode, in the
 * database so the web server and the worker see the same orders, payments and refunds.
 * Amounts are integer KRW.
 */
export const paymentSandboxOrders = pgTable(
  'payment_sandbox_orders',
  {
    orderId: text('order_id').primaryKey(),
    orderName: text('order_name').notNull(),
    amount: integer('amount').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('payment_sandbox_orders_amount_check', sql`${t.amount} > 0`)],
);

export const paymentSandboxStatuses = ['IN_PROGRESS', 'DONE', 'PARTIAL_CANCELED', 'CANCELED', 'ABORTED'] as const;

export const paymentSandboxPayments = pgTable(
  'payment_sandbox_payments',
  {
    paymentKey: text('payment_key').primaryKey(),
    orderId: text('order_id')
      .notNull()
      .references(() => paymentSandboxOrders.orderId),
    status: text('status').$type<(typeof paymentSandboxStatuses)[number]>().notNull(),
    totalAmount: integer('total_amount').notNull(),
    /** What can still be refunded: total minus every cancellation. */
    balanceAmount: integer('balance_amount').notNull(),
    /** Masked test card number (the full number is never stored). */
    cardNumber: text('card_number').notNull(),
    /** What the test card does at confirmation: approve, decline, or time out (approve or decline behind it). */
    scenario: text('scenario').notNull(),
    failureCode: text('failure_code'),
    failureMessage: text('failure_message'),
    requestedAt: timestamp('requested_at', { withTimezone: true }).notNull().defaultNow(),
    approvedAt: timestamp('approved_at', { withTimezone: true }),
  },
  (t) => [
    index('payment_sandbox_payments_order_idx').on(t.orderId),
    // One order is paid at most once.
    uniqueIndex('payment_sandbox_payments_paid_order_idx')
      .on(t.orderId)
      .where(sql`${t.status} in ('DONE', 'PARTIAL_CANCELED', 'CANCELED')`),
    check('payment_sandbox_payments_balance_check', sql`${t.balanceAmount} >= 0 and ${t.balanceAmount} <= ${t.totalAmount}`),
  ],
);

export const paymentSandboxCancels = pgTable(
  'payment_sandbox_cancels',
  {
    transactionKey: text('transaction_key').primaryKey(),
    paymentKey: text('payment_key')
      .notNull()
      .references(() => paymentSandboxPayments.paymentKey),
    /** The caller's idempotency key: a repeated cancel with it refunds nothing more. */
    idempotencyKey: text('idempotency_key').notNull(),
    cancelAmount: integer('cancel_amount').notNull(),
    cancelReason: text('cancel_reason').notNull(),
    /** The payment's refundable balance after this cancellation. */
    refundableAmount: integer('refundable_amount').notNull(),
    canceledAt: timestamp('canceled_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('payment_sandbox_cancels_idempotency_idx').on(t.idempotencyKey),
    index('payment_sandbox_cancels_payment_idx').on(t.paymentKey, t.canceledAt),
    check('payment_sandbox_cancels_amount_check', sql`${t.cancelAmount} > 0`),
  ],
);

/**
 * Process managers (lib/process-managers): unconfirmed slot holds and when they expire, kept by the
 * process manager from SlotHeld / HoldConfirmed / SlotReleased, so the hold-expiry timer knows which
 * clinic days to send ExpireHolds to without scanning the log. Derived data: it can be rebuilt from
 * the events (replay the group), and a lost row only delays a release (the next PlaceHold on that
 * day releases expired holds itself).
 */
export const pmPendingHolds = pgTable(
  'pm_pending_holds',
  {
    streamId: text('stream_id').notNull(),
    holdId: text('hold_id').notNull(),
    clinicId: text('clinic_id').notNull(),
    day: text('day').notNull(),
    reservationId: text('reservation_id').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [uniqueIndex('pm_pending_holds_pk').on(t.streamId, t.holdId), index('pm_pending_holds_expires_idx').on(t.expiresAt)],
);

/**
 * Process managers: payments asked for and not yet captured or failed, for the reconciliation timer
 * that asks the gateway about them (a confirm that timed out may have charged the card: the timer
 * finds out with getPaymentByOrderId and records the outcome). Derived from the payment events.
 */
export const pmPendingPayments = pgTable(
  'pm_pending_payments',
  {
    paymentId: text('payment_id').primaryKey(),
    /** The gateway order id (the payment id). */
    orderId: text('order_id').notNull(),
    requestedAt: timestamp('requested_at', { withTimezone: true }).notNull(),
    nextCheckAt: timestamp('next_check_at', { withTimezone: true }).notNull(),
    checks: integer('checks').notNull().default(0),
    /** When the last check ran, and what the gateway said then (shown on the admin payments page). */
    lastCheckedAt: timestamp('last_checked_at', { withTimezone: true }),
    gateway: jsonb('gateway').$type<{ paymentKey: string; status: string; totalAmount: number; balanceAmount: number; approvedAt: string | null; failure: { code: string; message: string } | null } | null>(),
    lastError: text('last_error'),
    /** Parked for a person (admin payments page) after too many checks or a refusal: the timer no longer asks. */
    stuckAt: timestamp('stuck_at', { withTimezone: true }),
  },
  (t) => [index('pm_pending_payments_next_check_idx').on(t.nextCheckAt)],
);

/**
 * Process managers: every deposit payment of a reservation (a reservation may have had several),
 * so what is still due is computed across all of them (a late fee is withheld once). Derived from
 * PaymentRequested.
 */
export const pmDepositPayments = pgTable(
  'pm_deposit_payments',
  {
    paymentId: text('payment_id').primaryKey(),
    reservationId: text('reservation_id').notNull(),
    requestedAt: timestamp('requested_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('pm_deposit_payments_reservation_idx').on(t.reservationId)],
);

/**
 * Process managers: pay-and-book reservations and when their deposit is due (the clinic's
 * paymentDeadlineMinutes after the request); the deadline timer cancels those still unpaid then.
 * Derived from ReservationRequested.
 */
export const pmPaymentDeadlines = pgTable(
  'pm_payment_deadlines',
  {
    reservationId: text('reservation_id').primaryKey(),
    clinicId: text('clinic_id').notNull(),
    deadlineAt: timestamp('deadline_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('pm_payment_deadlines_deadline_idx').on(t.deadlineAt)],
);
