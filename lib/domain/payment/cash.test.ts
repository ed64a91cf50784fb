/** A bill paid in cash at the desk (issue 9, payments), given/when/then. */
import { describe, expect, it } from 'vitest';
import { InvalidTransitionError } from '../shared/errors';
import { spec } from '../shared/testing';
import { AmountMismatchError, CashNotAllowedError, paymentDecider, paymentEvent as ev, RefundExceedsCapturedError, type PaymentCommand } from './index';

const { given } = spec(paymentDecider);
const ctx = { now: new Date('2025-03-03T03:00:00Z') };

const bill = ev('PaymentRequested', { paymentId: 'bill1', clinicId: 'c1', patientId: 'p1', purpose: 'bill', visitId: 'v1', amountKrw: 79_000, vatKrw: 7_182 });
const deposit = ev('PaymentRequested', { paymentId: 'dep1', clinicId: 'c1', patientId: 'p1', purpose: 'deposit', reservationId: 'r1', amountKrw: 50_000, vatKrw: 0 });
const cash: PaymentCommand = { type: 'CollectCash', amountKrw: 79_000, staffId: 's1' };
const collected = ev('PaymentCollectedInCash', { paymentId: 'bill1', amountKrw: 79_000, staffId: 's1' });

describe('cash at the desk', () => {
  it('given an open bill, when the desk collects it in cash, then it is paid in cash by that staff member', () => {
    given([bill]).when(cash, ctx).then([collected]);
    given([bill]).when(cash, ctx).thenState((s) => {
      expect(s.status).toBe('captured');
      expect(s.status !== 'none' && [s.capturedKrw, s.cash]).toEqual([79_000, true]);
    });
  });

  it('given a bill paid in cash, when the same cash is recorded again, then nothing more (a retried form)', () => {
    given([bill, collected]).when(cash, ctx).then([]);
  });

  it('only the whole bill, only an open bill, only a bill', () => {
    given([bill]).when({ ...cash, amountKrw: 50_000 }, ctx).thenThrows(AmountMismatchError, { code: 'payment.amount_mismatch' });
    const card = [bill, ev('PaymentAuthorized', { paymentId: 'bill1', provider: 'sandbox', providerRef: 'pk-1', amountKrw: 79_000 }), ev('PaymentCaptured', { paymentId: 'bill1', amountKrw: 79_000 })];
    given(card).when(cash, ctx).thenThrows(InvalidTransitionError, { code: 'payment.invalid_transition' });
    given([bill, ev('PaymentFailed', { paymentId: 'bill1', stage: 'authorization', reason: 'closed' })]).when(cash, ctx).thenThrows(InvalidTransitionError);
    given([deposit]).when({ ...cash, amountKrw: 50_000 }, ctx).thenThrows(CashNotAllowedError, { code: 'payment.cash_not_allowed' });
  });

  it('given a bill paid in cash, a refund is up to what was collected', () => {
    const refund: PaymentCommand = { type: 'RefundPayment', refundId: 'rf1', amountKrw: 29_000, reason: 'treatment shortened' };
    given([bill, collected]).when(refund, ctx).then([ev('PaymentRefunded', { paymentId: 'bill1', refundId: 'rf1', amountKrw: 29_000, reason: 'treatment shortened', refundedKrw: 29_000, full: false })]);
    given([bill, collected]).when({ ...refund, amountKrw: 79_001 }, ctx).thenThrows(RefundExceedsCapturedError, { details: { refundableKrw: 79_000 } });
  });
});

describe('refunds never above what can be refunded', () => {
  const dep = [
    deposit,
    ev('PaymentAuthorized', { paymentId: 'dep1', provider: 'sandbox', providerRef: 'pk-1', amountKrw: 50_000 }),
    ev('PaymentCaptured', { paymentId: 'dep1', amountKrw: 50_000 }),
  ];
  const applied = ev('DepositApplied', { paymentId: 'dep1', visitId: 'v1', amountKrw: 30_000, vatKrw: 2_727 });
  it('given a deposit of which 30 000 paid the bill, when 20 001 is refunded, then it is refused (20 000 can be)', () => {
    given([...dep, applied])
      .when({ type: 'RefundPayment', refundId: 'rf1', amountKrw: 20_001, reason: 'desk' }, ctx)
      .thenThrows(RefundExceedsCapturedError, { code: 'payment.refund_exceeds_captured', details: { refundableKrw: 20_000, appliedKrw: 30_000 } });
    given([...dep, applied])
      .when({ type: 'RefundPayment', refundId: 'rf1', amountKrw: 20_000, reason: 'desk' }, ctx)
      .then([ev('PaymentRefunded', { paymentId: 'dep1', refundId: 'rf1', amountKrw: 20_000, reason: 'desk', refundedKrw: 20_000, full: false })]);
  });
});
