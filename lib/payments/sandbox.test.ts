import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../testing/db';
import {
  AlreadyProcessed,
  AmountMismatch,
  GatewayTimeout,
  IdempotencyKeyReused,
  InvalidCard,
  InvalidPaymentRequest,
  NotCancelable,
  OrderConflict,
  OrderNotFound,
  PaymentDeclined,
  PaymentGatewayError,
  PaymentNotFound,
  RefundExceedsBalance,
} from './gateway';
import { createSandboxGateway } from './sandbox';

const t = await createTestDatabase({ max: 12 });
const gateway = createSandboxGateway(t.sql, { timeoutMs: 20 });

const APPROVE = '4242 4242 4242 4242';
const DECLINE = '4000-0000-0000-0002';
const TIMEOUT_APPROVED = '4000000000009995';
const TIMEOUT_DECLINED = '4000000000009987';

const newOrderId = () => `ord_${randomBytes(8).toString('hex')}`;

async function paid(amount: number, card = APPROVE) {
  const orderId = newOrderId();
  await gateway.createOrder({ orderId, orderName: '보톡스 예약금', amount });
  const auth = await gateway.authorize({ orderId, amount, cardNumber: card });
  return auth;
}

async function captured(amount: number) {
  const auth = await paid(amount);
  return gateway.confirm(auth);
}

async function rejection(promise: Promise<unknown>): Promise<PaymentGatewayError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(PaymentGatewayError);
    return error as PaymentGatewayError;
  }
  throw new Error('expected a rejection');
}

describe('sandbox payment gateway', () => {
  it('approve → confirm → partial refund → full refund', async () => {
    const auth = await paid(50_000);
    expect(auth.paymentKey).toMatch(/^tsbx_/);
    const before = await gateway.getPayment(auth.paymentKey);
    expect(before).toMatchObject({ status: 'IN_PROGRESS', totalAmount: 50_000, balanceAmount: 0, approvedAt: null });
    expect(before.cardNumber).toBe('424242******4242');

    const confirmed = await gateway.confirm({ paymentKey: auth.paymentKey, orderId: auth.orderId, amount: 50_000 });
    expect(confirmed).toMatchObject({ status: 'DONE', totalAmount: 50_000, balanceAmount: 50_000, orderName: '보톡스 예약금', failure: null });
    expect(confirmed.approvedAt).toBeInstanceOf(Date);
    expect(confirmed.approvedAt!.getTime()).toBeGreaterThanOrEqual(before.requestedAt.getTime()); // a real, parsed time

    const partial = await gateway.cancel({ paymentKey: auth.paymentKey, cancelAmount: 20_000, cancelReason: 'late cancellation fee kept', idempotencyKey: 'refund-1' });
    expect(partial.replayed).toBe(false);
    expect(partial.cancel).toMatchObject({ cancelAmount: 20_000, refundableAmount: 30_000, idempotencyKey: 'refund-1' });
    expect(partial.payment).toMatchObject({ status: 'PARTIAL_CANCELED', balanceAmount: 30_000 });

    const rest = await gateway.cancel({ paymentKey: auth.paymentKey, cancelReason: 'visit cancelled', idempotencyKey: 'refund-2' });
    expect(rest.cancel).toMatchObject({ cancelAmount: 30_000, refundableAmount: 0 });
    expect(rest.payment).toMatchObject({ status: 'CANCELED', balanceAmount: 0 });
    expect(rest.payment.cancels.map((c) => c.cancelAmount)).toEqual([20_000, 30_000]);

    const e = await rejection(gateway.cancel({ paymentKey: auth.paymentKey, cancelAmount: 1, cancelReason: 'more', idempotencyKey: 'refund-3' }));
    expect(e).toBeInstanceOf(NotCancelable);
  });

  it('survives a restart: another gateway instance (another process) sees the same state', async () => {
    const payment = await captured(10_000);
    const other = createSandboxGateway(t.sql);
    expect(await other.getPayment(payment.paymentKey)).toEqual(payment);
    expect(await other.getPaymentByOrderId(payment.orderId)).toEqual(payment);
    expect(await other.getPaymentByOrderId('ord_nothing_here')).toBeNull();
  });

  it('declines the insufficient-funds card at confirm, and says so again when asked again', async () => {
    const auth = await paid(30_000, DECLINE);
    const e = await rejection(gateway.confirm(auth));
    expect(e).toBeInstanceOf(PaymentDeclined);
    expect(e.code).toBe('REJECT_CARD_PAYMENT');
    expect(e.message).toMatch(/insufficient funds/);
    const payment = await gateway.getPayment(auth.paymentKey);
    expect(payment).toMatchObject({ status: 'ABORTED', balanceAmount: 0, failure: { code: 'REJECT_CARD_PAYMENT' } });
    expect(await rejection(gateway.confirm(auth))).toBeInstanceOf(PaymentDeclined);
    expect(await rejection(gateway.cancel({ paymentKey: auth.paymentKey, cancelReason: 'x', idempotencyKey: `k-${auth.paymentKey}` }))).toBeInstanceOf(NotCancelable);

    // The customer retries with another card on the same order: that one goes through.
    const retry = await gateway.authorize({ orderId: auth.orderId, amount: 30_000, cardNumber: APPROVE });
    expect((await gateway.confirm(retry)).status).toBe('DONE');
    expect((await gateway.getPaymentByOrderId(auth.orderId))?.paymentKey).toBe(retry.paymentKey);
  });

  it('times out with an unknown outcome; querying reveals it was approved', async () => {
    const auth = await paid(70_000, TIMEOUT_APPROVED);
    const e = await rejection(gateway.confirm(auth));
    expect(e).toBeInstanceOf(GatewayTimeout);
    expect(e.retryable).toBe(true);
    expect(await gateway.getPayment(auth.paymentKey)).toMatchObject({ status: 'DONE', balanceAmount: 70_000 });
    // Confirming again is idempotent: the same (approved) answer, no second charge, no second timeout.
    const again = await gateway.confirm(auth);
    expect(again).toMatchObject({ status: 'DONE', balanceAmount: 70_000 });
  });

  it('times out with an unknown outcome; querying reveals it was declined', async () => {
    const auth = await paid(70_000, TIMEOUT_DECLINED);
    expect(await rejection(gateway.confirm(auth))).toBeInstanceOf(GatewayTimeout);
    expect(await gateway.getPayment(auth.paymentKey)).toMatchObject({ status: 'ABORTED', failure: { code: 'REJECT_CARD_PAYMENT' } });
    expect(await rejection(gateway.confirm(auth))).toBeInstanceOf(PaymentDeclined);
  });

  it('refuses a tampered amount at authorization and at confirmation, charging nothing', async () => {
    const orderId = newOrderId();
    await gateway.createOrder({ orderId, orderName: '필러', amount: 100_000 });
    const atAuthorize = await rejection(gateway.authorize({ orderId, amount: 100, cardNumber: APPROVE }));
    expect(atAuthorize).toBeInstanceOf(AmountMismatch);

    const auth = await gateway.authorize({ orderId, amount: 100_000, cardNumber: APPROVE });
    const atConfirm = await rejection(gateway.confirm({ ...auth, amount: 1_000 }));
    expect(atConfirm).toBeInstanceOf(AmountMismatch);
    expect(atConfirm).toMatchObject({ expected: 100_000, actual: 1_000 });
    expect(await gateway.getPayment(auth.paymentKey)).toMatchObject({ status: 'IN_PROGRESS', balanceAmount: 0 });

    // A paymentKey presented with another order is refused too.
    const other = newOrderId();
    await gateway.createOrder({ orderId: other, orderName: '필러', amount: 1_000 });
    expect(await rejection(gateway.confirm({ paymentKey: auth.paymentKey, orderId: other, amount: 1_000 }))).toBeInstanceOf(InvalidPaymentRequest);

    // The honest confirmation still works.
    expect((await gateway.confirm(auth)).status).toBe('DONE');
  });

  it('confirm is idempotent and an order is paid at most once', async () => {
    const auth = await paid(40_000);
    const [a, b] = await Promise.all([gateway.confirm(auth), gateway.confirm(auth)]);
    expect(a).toEqual(b);
    expect(await gateway.confirm(auth)).toEqual(a);
    expect(a.balanceAmount).toBe(40_000);

    // The checkout opened twice: two authorizations for one order, only one can be charged.
    const orderId = newOrderId();
    await gateway.createOrder({ orderId, orderName: '리프팅', amount: 90_000 });
    const first = await gateway.authorize({ orderId, amount: 90_000, cardNumber: APPROVE });
    const second = await gateway.authorize({ orderId, amount: 90_000, cardNumber: APPROVE });
    const results = await Promise.allSettled([gateway.confirm(first), gateway.confirm(second)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const failed = results.find((r) => r.status === 'rejected');
    expect(failed?.status === 'rejected' && failed.reason).toBeInstanceOf(AlreadyProcessed);
    expect(await rejection(gateway.authorize({ orderId, amount: 90_000, cardNumber: APPROVE }))).toBeInstanceOf(AlreadyProcessed);
  });

  it('cancel is idempotent by key: the same key twice refunds once', async () => {
    const payment = await captured(60_000);
    const request = { paymentKey: payment.paymentKey, cancelAmount: 10_000, cancelReason: 'changed mind', idempotencyKey: `refund-${payment.paymentKey}` };
    const first = await gateway.cancel(request);
    const second = await gateway.cancel(request);
    expect(first.replayed).toBe(false);
    expect(second.replayed).toBe(true);
    expect(second.cancel).toEqual(first.cancel);
    expect(second.payment.balanceAmount).toBe(50_000);
    expect(second.payment.cancels).toHaveLength(1);

    // Concurrent retries with one key: still one refund.
    const key = `refund2-${payment.paymentKey}`;
    const results = await Promise.all(Array.from({ length: 5 }, () => gateway.cancel({ ...request, idempotencyKey: key })));
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect((await gateway.getPayment(payment.paymentKey)).balanceAmount).toBe(40_000);

    // The key names one request: reusing it for another amount or another payment is refused.
    expect(await rejection(gateway.cancel({ ...request, cancelAmount: 5_000 }))).toBeInstanceOf(IdempotencyKeyReused);
    const other = await captured(5_000);
    expect(await rejection(gateway.cancel({ ...request, paymentKey: other.paymentKey, cancelAmount: 5_000 }))).toBeInstanceOf(IdempotencyKeyReused);
    expect((await gateway.getPayment(other.paymentKey)).balanceAmount).toBe(5_000);
  });

  it('refuses a refund beyond the refundable balance', async () => {
    const payment = await captured(30_000);
    const tooMuch = await rejection(gateway.cancel({ paymentKey: payment.paymentKey, cancelAmount: 30_001, cancelReason: 'x', idempotencyKey: `a-${payment.paymentKey}` }));
    expect(tooMuch).toBeInstanceOf(RefundExceedsBalance);
    expect(tooMuch).toMatchObject({ requested: 30_001, balance: 30_000, code: 'NOT_CANCELABLE_AMOUNT' });
    await gateway.cancel({ paymentKey: payment.paymentKey, cancelAmount: 25_000, cancelReason: 'x', idempotencyKey: `b-${payment.paymentKey}` });
    expect(await rejection(gateway.cancel({ paymentKey: payment.paymentKey, cancelAmount: 5_001, cancelReason: 'x', idempotencyKey: `c-${payment.paymentKey}` }))).toBeInstanceOf(RefundExceedsBalance);
    // The refused key was not consumed: it can be used for a valid request.
    const ok = await gateway.cancel({ paymentKey: payment.paymentKey, cancelAmount: 5_000, cancelReason: 'x', idempotencyKey: `c-${payment.paymentKey}` });
    expect(ok.payment).toMatchObject({ status: 'CANCELED', balanceAmount: 0 });
  });

  it('refuses to refund a payment that was never confirmed', async () => {
    const auth = await paid(10_000);
    expect(await rejection(gateway.cancel({ paymentKey: auth.paymentKey, cancelReason: 'x', idempotencyKey: `n-${auth.paymentKey}` }))).toBeInstanceOf(NotCancelable);
  });

  it('concurrent cancels with different keys never exceed the captured amount', async () => {
    // Independent connections, like several workers refunding at once.
    const gateways = Array.from({ length: 4 }, () => createSandboxGateway(t.sql));
    const payment = await captured(100_000);
    const attempts = Array.from({ length: 12 }, (_, i) =>
      gateways[i % gateways.length]!.cancel({ paymentKey: payment.paymentKey, cancelAmount: 30_000, cancelReason: 'race', idempotencyKey: `race-${i}-${payment.paymentKey}` }),
    );
    const results = await Promise.allSettled(attempts);
    const succeeded = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(succeeded).toHaveLength(3); // 3 × 30 000 ≤ 100 000 < 4 × 30 000
    for (const r of refused) expect(r.reason).toBeInstanceOf(RefundExceedsBalance);
    const after = await gateway.getPayment(payment.paymentKey);
    expect(after.balanceAmount).toBe(10_000);
    expect(after.cancels.reduce((sum, c) => sum + c.cancelAmount, 0)).toBe(90_000);

    // Full-balance cancels racing: exactly one takes the rest.
    const full = await Promise.allSettled(
      gateways.map((g, i) => g.cancel({ paymentKey: payment.paymentKey, cancelReason: 'rest', idempotencyKey: `rest-${i}-${payment.paymentKey}` })),
    );
    expect(full.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const [row] = await t.sql<{ total: number }[]>`
      select coalesce(sum(cancel_amount), 0)::int as total from payment_sandbox_cancels where payment_key = ${payment.paymentKey}`;
    expect(row?.total).toBe(100_000);
  });

  it('validates orders, cards and inputs', async () => {
    const orderId = newOrderId();
    const order = await gateway.createOrder({ orderId, orderName: '상담', amount: 1_000 });
    expect(order).toMatchObject({ orderId, amount: 1_000 });
    expect(await gateway.createOrder({ orderId, orderName: '상담', amount: 1_000 })).toEqual(order); // repeatable
    expect(await rejection(gateway.createOrder({ orderId, orderName: '상담', amount: 2_000 }))).toBeInstanceOf(OrderConflict);
    expect(await rejection(gateway.createOrder({ orderId: newOrderId(), orderName: '상담', amount: 10.5 }))).toBeInstanceOf(InvalidPaymentRequest);
    expect(await rejection(gateway.createOrder({ orderId: newOrderId(), orderName: '상담', amount: 0 }))).toBeInstanceOf(InvalidPaymentRequest);
    expect(await rejection(gateway.authorize({ orderId, amount: 1_000, cardNumber: '5555 5555 5555 4444' }))).toBeInstanceOf(InvalidCard);
    expect(await rejection(gateway.authorize({ orderId: newOrderId(), amount: 1_000, cardNumber: APPROVE }))).toBeInstanceOf(OrderNotFound);
    expect(await rejection(gateway.getPayment('tsbx_missing'))).toBeInstanceOf(PaymentNotFound);
    expect(await rejection(gateway.confirm({ paymentKey: 'tsbx_missing', orderId, amount: 1_000 }))).toBeInstanceOf(PaymentNotFound);
    expect(await rejection(gateway.cancel({ paymentKey: 'tsbx_missing', cancelReason: 'x', idempotencyKey: 'zz' }))).toBeInstanceOf(PaymentNotFound);
  });

  it('never stores the full card number', async () => {
    await paid(1_000);
    const rows = await t.sql`select card_number from payment_sandbox_payments`;
    for (const r of rows) expect(String(r.card_number)).not.toMatch(/\d{7,}/);
  });
});
