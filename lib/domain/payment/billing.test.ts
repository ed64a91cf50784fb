/** VAT on payments and a deposit applied to the bill (issue 9's billing rules), given/when/then. */
import { describe, expect, it } from 'vitest';
import { spec } from '../shared/testing';
import { DepositNotApplicableError, paymentDecider, paymentEvent as ev, upcastPaymentEvent, VatExceedsAmountError, type PaymentCommand } from './index';

const { given } = spec(paymentDecider);
const ctx = { now: new Date('2025-03-03T03:00:00Z') };

const deposit = ev('PaymentRequested', { paymentId: 'dep1', clinicId: 'c1', patientId: 'p1', purpose: 'deposit', reservationId: 'r1', amountKrw: 50_000, vatKrw: 0 });
const authorized = ev('PaymentAuthorized', { paymentId: 'dep1', provider: 'sandbox', providerRef: 'pk-1', amountKrw: 50_000 });
const captured = ev('PaymentCaptured', { paymentId: 'dep1', amountKrw: 50_000 });
const bill: PaymentCommand = { type: 'RequestPayment', paymentId: 'bill1', clinicId: 'c1', patientId: 'p1', purpose: 'bill', visitId: 'v1', amountKrw: 50_000 };

describe('VAT: a deposit is an advance, the sale carries the VAT once', () => {
  it('given nothing, when a deposit is requested, then it records no VAT (4 545 before)', () => {
    given([])
      .when({ type: 'RequestPayment', paymentId: 'dep1', clinicId: 'c1', patientId: 'p1', purpose: 'deposit', reservationId: 'r1', amountKrw: 50_000 }, ctx)
      .then([deposit]);
  });

  it("given a bill with its share of the sale's VAT, then that share is recorded, never more than the amount", () => {
    given([]).when({ ...bill, vatKrw: 4_545 }, ctx).then([ev('PaymentRequested', { paymentId: 'bill1', clinicId: 'c1', patientId: 'p1', purpose: 'bill', visitId: 'v1', amountKrw: 50_000, vatKrw: 4_545 })]);
    given([]).when({ ...bill, vatKrw: 0 }, ctx).thenState((s) => expect(s.status !== 'none' && s.vatKrw).toBe(0)); // an exempt sale
    given([]).when({ ...bill, vatKrw: 50_001 }, ctx).thenThrows(VatExceedsAmountError, { code: 'payment.vat_exceeds_amount' });
  });

  it('given a captured deposit, when 50 000 of it is applied to a visit with 4 546 VAT, then the deposit carries that VAT; again → nothing', () => {
    const applied = ev('DepositApplied', { paymentId: 'dep1', visitId: 'v1', amountKrw: 50_000, vatKrw: 4_546 });
    given([deposit, authorized, captured]).when({ type: 'ApplyDeposit', visitId: 'v1', amountKrw: 50_000, vatKrw: 4_546 }, ctx).then([applied]);
    given([deposit, authorized, captured, applied]).when({ type: 'ApplyDeposit', visitId: 'v1', amountKrw: 50_000, vatKrw: 4_546 }, ctx).then([]);
  });

  it('a deposit applies only captured money not refunded, once, and only a deposit', () => {
    const apply: PaymentCommand = { type: 'ApplyDeposit', visitId: 'v1', amountKrw: 30_000, vatKrw: 2_727 };
    given([deposit]).when(apply, ctx).thenThrows(DepositNotApplicableError, { code: 'payment.deposit_not_applicable' });
    const refunded = ev('PaymentRefunded', { paymentId: 'dep1', refundId: 'rf1', amountKrw: 30_000, reason: 'late fee withheld', refundedKrw: 30_000, full: false });
    given([deposit, authorized, captured, refunded]).when(apply, ctx).thenThrows(DepositNotApplicableError, { details: { availableKrw: 20_000 } });
    const applied = ev('DepositApplied', { paymentId: 'dep1', visitId: 'v1', amountKrw: 10_000, vatKrw: 909 });
    given([deposit, authorized, captured, applied]).when({ ...apply, visitId: 'v2' }, ctx).thenThrows(DepositNotApplicableError);
  });

  it('stored v1: a deposit recorded with VAT reads as 0 (a withheld fee is no sale); a v1 bill keeps its VAT', () => {
    expect(upcastPaymentEvent({ type: 'PaymentRequested', schemaVersion: 1, data: { ...deposit.data, vatKrw: 4_545 } })).toEqual(deposit);
    const v1bill = { paymentId: 'bill1', clinicId: 'c1', patientId: 'p1', purpose: 'bill', visitId: 'v1', amountKrw: 50_000, vatKrw: 4_545 };
    expect(upcastPaymentEvent({ type: 'PaymentRequested', schemaVersion: 1, data: v1bill })).toEqual(ev('PaymentRequested', v1bill as never));
  });
});
