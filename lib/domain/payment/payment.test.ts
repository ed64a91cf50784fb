import { describe, it } from 'vitest';
import { AlreadyExistsError, InvalidTransitionError, NotFoundError } from '../shared/errors';
import { spec } from '../shared/testing';
import {
  AmountMismatchError,
  CaptureExceedsAuthorizationError,
  paymentDecider,
  paymentEvent as ev,
  PaymentSubjectMissingError,
  RefundExceedsCapturedError,
  type PaymentCommand,
} from './index';

const { given } = spec(paymentDecider);
const ctx = { now: new Date('2025-03-01T00:00:00Z') };

const request: PaymentCommand = {
  type: 'RequestPayment',
  paymentId: 'pay1',
  clinicId: 'c1',
  patientId: 'p1',
  purpose: 'deposit',
  reservationId: 'r1',
  amountKrw: 55_000,
};
const requested = ev('PaymentRequested', {
  paymentId: 'pay1', clinicId: 'c1', patientId: 'p1', purpose: 'deposit', reservationId: 'r1', amountKrw: 55_000, vatKrw: 0,
});
const authorized = ev('PaymentAuthorized', { paymentId: 'pay1', provider: 'toss', providerRef: 'tx-1', amountKrw: 55_000 });
const captured = ev('PaymentCaptured', { paymentId: 'pay1', amountKrw: 55_000 });
const refund = (refundId: string, amountKrw: number): PaymentCommand => ({ type: 'RefundPayment', refundId, amountKrw, reason: 'cancelled' });

describe('payment', () => {
  it('requests a deposit, an advance with no VAT of its own (its share comes when applied to a bill)', () => {
    given([]).when(request, ctx).then([requested]);
  });

  it('a deposit needs a reservation, a bill a visit; ids are not reused', () => {
    given([]).when({ ...request, reservationId: undefined } as PaymentCommand, ctx).thenThrows(PaymentSubjectMissingError);
    given([]).when({ ...request, purpose: 'bill' } as PaymentCommand, ctx).thenThrows(PaymentSubjectMissingError, { code: 'payment.subject_missing' });
    given([requested]).when(request, ctx).then([]);
    given([requested]).when({ ...request, amountKrw: 1 } as PaymentCommand, ctx).thenThrows(AlreadyExistsError);
  });

  it('authorizes the requested amount only', () => {
    given([requested]).when({ type: 'AuthorizePayment', provider: 'toss', providerRef: 'tx-1', amountKrw: 55_000 }, ctx).then([authorized]);
    given([requested])
      .when({ type: 'AuthorizePayment', provider: 'toss', providerRef: 'tx-1', amountKrw: 50_000 }, ctx)
      .thenThrows(AmountMismatchError, { code: 'payment.amount_mismatch' });
    given([requested, authorized]).when({ type: 'AuthorizePayment', provider: 'toss', providerRef: 'tx-1', amountKrw: 55_000 }, ctx).then([]);
  });

  it('captures up to the authorized amount, only after authorization', () => {
    given([requested, authorized]).when({ type: 'CapturePayment' }, ctx).then([captured]);
    given([requested, authorized]).when({ type: 'CapturePayment', amountKrw: 60_000 }, ctx).thenThrows(CaptureExceedsAuthorizationError);
    given([requested]).when({ type: 'CapturePayment' }, ctx).thenThrows(InvalidTransitionError, { code: 'payment.invalid_transition' });
  });

  it('refunds partially, then fully', () => {
    const partial = ev('PaymentRefunded', { paymentId: 'pay1', refundId: 'rf1', amountKrw: 25_000, reason: 'cancelled', refundedKrw: 25_000, full: false });
    given([requested, authorized, captured]).when(refund('rf1', 25_000), ctx).then([partial]);
    given([requested, authorized, captured, partial])
      .when(refund('rf2', 30_000), ctx)
      .then([ev('PaymentRefunded', { paymentId: 'pay1', refundId: 'rf2', amountKrw: 30_000, reason: 'cancelled', refundedKrw: 55_000, full: true })]);
  });

  it('refunds never exceed what was captured', () => {
    given([requested, authorized, captured])
      .when(refund('rf1', 55_001), ctx)
      .thenThrows(RefundExceedsCapturedError, { code: 'payment.refund_exceeds_captured', details: { refundableKrw: 55_000 } });
    const partial = ev('PaymentRefunded', { paymentId: 'pay1', refundId: 'rf1', amountKrw: 50_000, reason: 'x', refundedKrw: 50_000, full: false });
    given([requested, authorized, captured, partial]).when(refund('rf2', 5_001), ctx).thenThrows(RefundExceedsCapturedError);
    given([requested, authorized]).when(refund('rf1', 1), ctx).thenThrows(InvalidTransitionError);
  });

  it('a refund retried with the same refund id is a no-op', () => {
    const partial = ev('PaymentRefunded', { paymentId: 'pay1', refundId: 'rf1', amountKrw: 50_000, reason: 'x', refundedKrw: 50_000, full: false });
    given([requested, authorized, captured, partial]).when(refund('rf1', 50_000), ctx).then([]);
  });

  it('fails before capture, never after', () => {
    given([requested])
      .when({ type: 'FailPayment', reason: 'card declined', providerCode: 'REJECT_CARD' }, ctx)
      .then([ev('PaymentFailed', { paymentId: 'pay1', stage: 'authorization', reason: 'card declined', providerCode: 'REJECT_CARD' })]);
    given([requested, authorized])
      .when({ type: 'FailPayment', reason: 'timeout' }, ctx)
      .then([ev('PaymentFailed', { paymentId: 'pay1', stage: 'capture', reason: 'timeout' })]);
    given([requested, authorized, captured]).when({ type: 'FailPayment', reason: 'x' }, ctx).thenThrows(InvalidTransitionError);
    given([]).when({ type: 'FailPayment', reason: 'x' }, ctx).thenThrows(NotFoundError);
  });

  it('a declined attempt leaves the payment payable; the same attempt declined again is a no-op', () => {
    const declined = ev('PaymentAttemptDeclined', { paymentId: 'pay1', providerRef: 'tx-0', reason: 'insufficient funds', providerCode: 'REJECT_CARD_PAYMENT' });
    given([requested])
      .when({ type: 'DeclineAttempt', providerRef: 'tx-0', reason: 'insufficient funds', providerCode: 'REJECT_CARD_PAYMENT' }, ctx)
      .then([declined]);
    given([requested, declined]).when({ type: 'DeclineAttempt', providerRef: 'tx-0', reason: 'again' }, ctx).then([]);
    given([requested, declined]).when({ type: 'AuthorizePayment', provider: 'toss', providerRef: 'tx-1', amountKrw: 55_000 }, ctx).then([authorized]);
    given([requested, authorized, captured]).when({ type: 'DeclineAttempt', providerRef: 'tx-1', reason: 'x' }, ctx).thenThrows(InvalidTransitionError);
  });

  it('a stray charge is voided once, on a failed or settled payment, never the charge the payment keeps', () => {
    const failed = ev('PaymentFailed', { paymentId: 'pay1', stage: 'authorization', reason: 'deadline' });
    const voidCmd = (providerRef: string): PaymentCommand => ({ type: 'VoidCharge', providerRef, amountKrw: 55_000, voidId: 'void-1', reason: 'closed' });
    const voided = ev('PaymentChargeVoided', { paymentId: 'pay1', providerRef: 'tx-9', amountKrw: 55_000, voidId: 'void-1', reason: 'closed' });
    given([requested, failed]).when(voidCmd('tx-9'), ctx).then([voided]);
    given([requested, failed, voided]).when(voidCmd('tx-9'), ctx).then([]);
    given([requested, authorized, captured]).when(voidCmd('tx-9'), ctx).then([voided]);
    given([requested, authorized, captured]).when(voidCmd('tx-1'), ctx).thenThrows(InvalidTransitionError);
  });
});
