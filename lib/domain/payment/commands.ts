import { z } from 'zod';
import { Id } from '../clinic/values';
import { Krw } from '../shared/money';
import { PaymentPurpose } from './events';

export const RequestPayment = z.object({
  type: z.literal('RequestPayment'),
  paymentId: Id,
  clinicId: Id,
  patientId: Id,
  purpose: PaymentPurpose,
  reservationId: Id.optional(),
  visitId: Id.optional(),
  amountKrw: Krw.min(1),
  /** A bill's share of its sale's VAT (computed per line at discharge); default round(amount × 10 / 110). Deposits: always 0. */
  vatKrw: Krw.optional(),
});

/** Part of a captured deposit pays the visit's bill (at discharge), carrying `vatKrw` of the sale's VAT. */
export const ApplyDeposit = z.object({
  type: z.literal('ApplyDeposit'),
  visitId: Id,
  amountKrw: Krw.min(1),
  vatKrw: Krw,
});

export const AuthorizePayment = z.object({
  type: z.literal('AuthorizePayment'),
  provider: z.string().min(1).max(50),
  providerRef: z.string().min(1).max(200),
  amountKrw: Krw.min(1),
});

/** Capture all (amount omitted) or part of the authorized amount. */
export const CapturePayment = z.object({ type: z.literal('CapturePayment'), amountKrw: Krw.min(1).optional() });

export const RefundPayment = z.object({
  type: z.literal('RefundPayment'),
  /** Idempotency key of the refund (e.g. derived from the cancellation event id). */
  refundId: Id,
  amountKrw: Krw.min(1),
  reason: z.string().min(1).max(1000),
});

export const FailPayment = z.object({
  type: z.literal('FailPayment'),
  reason: z.string().min(1).max(1000),
  providerCode: z.string().max(100).optional(),
});

/** One attempt (gateway paymentKey) was declined; the payment stays payable. */
export const DeclineAttempt = z.object({
  type: z.literal('DeclineAttempt'),
  providerRef: z.string().min(1).max(200),
  reason: z.string().min(1).max(1000),
  providerCode: z.string().max(100).optional(),
});

/** Record a charge that was cancelled at the gateway because nothing was owed on this payment. */
export const VoidCharge = z.object({
  type: z.literal('VoidCharge'),
  providerRef: z.string().min(1).max(200),
  amountKrw: Krw.min(1),
  voidId: Id,
  reason: z.string().min(1).max(1000),
});

/**
 * The desk took the payment in cash (a bill, in full): recorded as such, with the staff member who
 * took it; no gateway is involved, so a later refund of it is handed back at the desk too.
 */
export const CollectCash = z.object({
  type: z.literal('CollectCash'),
  amountKrw: Krw.min(1),
  staffId: Id,
});

export const PaymentCommand = z.discriminatedUnion('type', [
  RequestPayment,
  AuthorizePayment,
  CapturePayment,
  RefundPayment,
  FailPayment,
  DeclineAttempt,
  VoidCharge,
  ApplyDeposit,
  CollectCash,
]);
export type PaymentCommand = z.infer<typeof PaymentCommand>;
