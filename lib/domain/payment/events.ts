import { z } from 'zod';
import { Id } from '../clinic/values';
import { eventFactory, eventSchema, makeUpcaster, type Upcasters } from '../shared/events';
import { Krw } from '../shared/money';

/** deposit: taken to book (pay and book); bill: the visit's bill at discharge. */
export const PaymentPurpose = z.enum(['deposit', 'bill']);
export type PaymentPurpose = z.infer<typeof PaymentPurpose>;

const PositiveKrw = Krw.min(1);

/**
 * v2: `vatKrw` is the VAT of the sale this payment settles (docs/payments.md, "VAT"): a deposit is an
 * advance, not a sale, so it asks with 0 (its share of the sale's VAT is recorded when it is applied
 * to the bill: DepositApplied); a bill carries the VAT of the discharge's lines, computed per line,
 * minus the share the deposit applied carries.
 */
export const PaymentRequested = eventSchema(
  'PaymentRequested',
  2,
  z.object({
    paymentId: Id,
    clinicId: Id,
    patientId: Id,
    purpose: PaymentPurpose,
    reservationId: Id.optional(),
    visitId: Id.optional(),
    /** VAT-inclusive amount asked for. */
    amountKrw: PositiveKrw,
    /** The VAT this payment settles: 0 for a deposit; a bill's share of its sale's VAT. */
    vatKrw: Krw,
  }),
);

/**
 * At discharge, part of a captured deposit pays the visit's sale (the rest is refunded, or withheld
 * for fees due). `vatKrw` is the share of the sale's VAT this part carries; once per visit.
 */
export const DepositApplied = eventSchema(
  'DepositApplied',
  1,
  z.object({ paymentId: Id, visitId: Id, amountKrw: PositiveKrw, vatKrw: Krw }),
);

export const PaymentAuthorized = eventSchema(
  'PaymentAuthorized',
  1,
  z.object({ paymentId: Id, provider: z.string().min(1).max(50), providerRef: z.string().min(1).max(200), amountKrw: PositiveKrw }),
);

export const PaymentCaptured = eventSchema(
  'PaymentCaptured',
  1,
  z.object({ paymentId: Id, amountKrw: PositiveKrw }),
);

export const PaymentRefunded = eventSchema(
  'PaymentRefunded',
  1,
  z.object({
    paymentId: Id,
    refundId: Id,
    amountKrw: PositiveKrw,
    reason: z.string().min(1).max(1000),
    /** Total refunded after this refund. */
    refundedKrw: Krw,
    /** True once everything captured has been refunded. */
    full: z.boolean(),
  }),
);

export const PaymentFailed = eventSchema(
  'PaymentFailed',
  1,
  z.object({
    paymentId: Id,
    stage: z.enum(['authorization', 'capture']),
    reason: z.string().min(1).max(1000),
    providerCode: z.string().max(100).optional(),
  }),
);

/**
 * One checkout attempt (the gateway's paymentKey) was declined. The payment stays payable: the same
 * payment and gateway order are paid again (the gateway charges an order at most once), so a second
 * checkout tab can never make a second charge for the same deposit.
 */
export const PaymentAttemptDeclined = eventSchema(
  'PaymentAttemptDeclined',
  1,
  z.object({
    paymentId: Id,
    providerRef: z.string().min(1).max(200),
    reason: z.string().min(1).max(1000),
    providerCode: z.string().max(100).optional(),
  }),
);

/**
 * A charge landed where no money was owed (on a payment already failed, or settled by another
 * charge) and was cancelled in full at the gateway (idempotency key `voidId`): tracked, never kept.
 */
export const PaymentChargeVoided = eventSchema(
  'PaymentChargeVoided',
  1,
  z.object({
    paymentId: Id,
    providerRef: z.string().min(1).max(200),
    amountKrw: PositiveKrw,
    voidId: Id,
    reason: z.string().min(1).max(1000),
  }),
);

/** A bill paid in cash at the desk, in full; `staffId` took the money (the event's actor too). */
export const PaymentCollectedInCash = eventSchema(
  'PaymentCollectedInCash',
  1,
  z.object({ paymentId: Id, amountKrw: PositiveKrw, staffId: Id }),
);

export const PaymentEvent = z.discriminatedUnion('type', [
  PaymentRequested,
  PaymentAuthorized,
  PaymentCaptured,
  PaymentRefunded,
  PaymentFailed,
  PaymentAttemptDeclined,
  PaymentChargeVoided,
  DepositApplied,
  PaymentCollectedInCash,
]);
export type PaymentEvent = z.infer<typeof PaymentEvent>;

export const PAYMENT_EVENT_VERSIONS = {
  PaymentRequested: 2,
  PaymentAuthorized: 1,
  PaymentCaptured: 1,
  PaymentRefunded: 1,
  PaymentFailed: 1,
  PaymentAttemptDeclined: 1,
  PaymentChargeVoided: 1,
  DepositApplied: 1,
  PaymentCollectedInCash: 1,
} as const satisfies Record<PaymentEvent['type'], number>;

export const paymentEvent = eventFactory<PaymentEvent>(PAYMENT_EVENT_VERSIONS);

export const paymentUpcasters: Upcasters = {
  // v1 → v2: v1 put round(amount × 10 / 110) on every payment, so a deposit and its bill rounded
  // separately and a withheld cancellation fee counted as a taxable sale. A deposit reads 0 now (its
  // share is recorded when it is applied to a bill); a v1 bill keeps the VAT it recorded.
  PaymentRequested: { 1: (data) => (data.purpose === 'deposit' ? { ...data, vatKrw: 0 } : data) },
};

export const upcastPaymentEvent = makeUpcaster<PaymentEvent>(PaymentEvent, PAYMENT_EVENT_VERSIONS, paymentUpcasters);
