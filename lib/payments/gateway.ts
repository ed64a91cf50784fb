import { z } from 'zod';

/**
 * The payment-gateway port, shaped like Korean PGs (Toss Payments' API is the model):
 *
 *   1. the server creates an order: `createOrder({ orderId, orderName, amount })`;
 *   2. the client authorizes in the PG's checkout (hosted widget) and comes back with
 *      `paymentKey`, `orderId` and `amount` (in the sandbox: `SandboxGateway.authorize`);
 *   3. the server confirms: `confirm({ paymentKey, orderId, amount })` — the gateway checks the
 *      amount against the order (a client can tamper with what it sends back) and only then charges;
 *      confirming again returns the same result (idempotent);
 *   4. refunds: `cancel({ paymentKey, cancelAmount?, cancelReason, idempotencyKey })`, partial or full,
 *      never beyond the refundable balance; the same idempotency key never refunds twice;
 *   5. `getPayment(paymentKey)` / `getPaymentByOrderId(orderId)` tell the real state, e.g. after a
 *      `GatewayTimeout`, when the outcome of a call is unknown.
 *
 * Amounts are integer KRW. Every failure is a `PaymentGatewayError` subclass with a PG-style `code`.
 * See docs/payments.md.
 */

/** Toss Payments' statuses for a card payment (READY/WAITING_FOR_DEPOSIT/EXPIRED do not arise here). */
export type PaymentStatus = 'IN_PROGRESS' | 'DONE' | 'PARTIAL_CANCELED' | 'CANCELED' | 'ABORTED';

export interface Order {
  readonly orderId: string;
  readonly orderName: string;
  readonly amount: number;
  readonly createdAt: Date;
}

export interface Cancellation {
  /** The PG's id for this cancellation transaction. */
  readonly transactionKey: string;
  readonly idempotencyKey: string;
  readonly cancelAmount: number;
  readonly cancelReason: string;
  /** What could still be refunded right after this cancellation. */
  readonly refundableAmount: number;
  readonly canceledAt: Date;
}

export interface Payment {
  readonly paymentKey: string;
  readonly orderId: string;
  readonly orderName: string;
  readonly status: PaymentStatus;
  readonly method: 'CARD';
  /** Masked, e.g. `424242******4242`. */
  readonly cardNumber: string;
  readonly totalAmount: number;
  /** Refundable balance: totalAmount minus all cancellations (0 until confirmed, and when ABORTED). */
  readonly balanceAmount: number;
  readonly requestedAt: Date;
  readonly approvedAt: Date | null;
  /** Why the payment failed (status ABORTED). */
  readonly failure: { readonly code: string; readonly message: string } | null;
  /** Oldest first. */
  readonly cancels: readonly Cancellation[];
}

export interface CancelResult {
  readonly payment: Payment;
  /** The cancellation made for this idempotency key (now or by an earlier call). */
  readonly cancel: Cancellation;
  /** True when this call refunded nothing because the idempotency key had been used already. */
  readonly replayed: boolean;
}

const OrderId = z.string().regex(/^[A-Za-z0-9_-]{6,64}$/, 'orderId: 6–64 of A–Z a–z 0–9 - _');
const Amount = z.number().int('amount: integer KRW').positive('amount: positive').max(2_000_000_000);
const Key = z.string().min(1).max(300);

export const CreateOrderInput = z.object({ orderId: OrderId, orderName: z.string().min(1).max(100), amount: Amount });
export type CreateOrderInput = z.infer<typeof CreateOrderInput>;

export const ConfirmInput = z.object({ paymentKey: Key, orderId: OrderId, amount: Amount });
export type ConfirmInput = z.infer<typeof ConfirmInput>;

export const CancelInput = z.object({
  paymentKey: Key,
  /** Omitted: cancel the whole refundable balance. */
  cancelAmount: Amount.optional(),
  cancelReason: z.string().min(1).max(200),
  /** Makes the cancel safe to retry: the same key never refunds twice (one key, one request). */
  idempotencyKey: Key,
});
export type CancelInput = z.infer<typeof CancelInput>;

export interface PaymentGateway {
  /** Registers the order and its amount. Repeating it with the same values is harmless; other values throw `OrderConflict`. */
  createOrder(input: CreateOrderInput): Promise<Order>;
  /**
   * Charges an authorized payment. Throws `AmountMismatch` (amount ≠ order's), `PaymentDeclined`,
   * `AlreadyProcessed` (the order was paid by another payment), `GatewayTimeout` (outcome unknown:
   * ask `getPayment`, or confirm again — it is idempotent), `PaymentNotFound`, `InvalidPaymentRequest`.
   */
  confirm(input: ConfirmInput): Promise<Payment>;
  /**
   * Refunds part or all of the balance. Throws `RefundExceedsBalance`, `NotCancelable` (not charged,
   * or fully canceled), `IdempotencyKeyReused` (the key was used for a different request), `PaymentNotFound`.
   */
  cancel(input: CancelInput): Promise<CancelResult>;
  /** Throws `PaymentNotFound`. */
  getPayment(paymentKey: string): Promise<Payment>;
  /** The order's charged payment if there is one, else its latest attempt, else null. */
  getPaymentByOrderId(orderId: string): Promise<Payment | null>;
}

// ── Errors ──────────────────────────────────────────────────────────────────────────────────────

export abstract class PaymentGatewayError extends Error {
  /** PG-style error code (Toss Payments' where one fits). */
  abstract readonly code: string;
  /** True if trying the same call again later can succeed (only for an unknown outcome). */
  readonly retryable: boolean = false;
}

export class InvalidPaymentRequest extends PaymentGatewayError {
  override readonly name = 'InvalidPaymentRequest';
  readonly code = 'INVALID_REQUEST';
}

export class OrderNotFound extends PaymentGatewayError {
  override readonly name = 'OrderNotFound';
  readonly code = 'NOT_FOUND_ORDER';
  constructor(readonly orderId: string) {
    super(`No order ${orderId}.`);
  }
}

export class OrderConflict extends PaymentGatewayError {
  override readonly name = 'OrderConflict';
  readonly code = 'DUPLICATED_ORDER_ID';
  constructor(readonly orderId: string) {
    super(`Order ${orderId} already exists with another name or amount.`);
  }
}

export class PaymentNotFound extends PaymentGatewayError {
  override readonly name = 'PaymentNotFound';
  readonly code = 'NOT_FOUND_PAYMENT';
  constructor(readonly paymentKey: string) {
    super(`No payment ${paymentKey}.`);
  }
}

/** The amount sent does not match the order's (tampering, or a stale client). Nothing was charged. */
export class AmountMismatch extends PaymentGatewayError {
  override readonly name = 'AmountMismatch';
  readonly code = 'INVALID_AMOUNT';
  constructor(
    readonly orderId: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`Order ${orderId} is for ${expected} KRW, not ${actual} KRW.`);
  }
}

/** The card test number is not a sandbox test card (the sandbox never takes a real card). */
export class InvalidCard extends PaymentGatewayError {
  override readonly name = 'InvalidCard';
  readonly code = 'INVALID_CARD_NUMBER';
}

export class PaymentDeclined extends PaymentGatewayError {
  override readonly name = 'PaymentDeclined';
  readonly code: string;
  constructor(
    readonly paymentKey: string,
    code: string,
    message: string,
  ) {
    super(message);
    this.code = code;
  }
}

/**
 * The gateway did not answer in time. The outcome is UNKNOWN: the payment may or may not have been
 * charged. Never treat it as a failure: query `getPayment(paymentKey)` (or repeat the idempotent call).
 */
export class GatewayTimeout extends PaymentGatewayError {
  override readonly name = 'GatewayTimeout';
  readonly code = 'GATEWAY_TIMEOUT';
  override readonly retryable = true;
  constructor(
    readonly operation: 'confirm' | 'cancel',
    readonly paymentKey: string,
  ) {
    super(`The payment gateway did not answer ${operation} of ${paymentKey} in time; the outcome is unknown — query the payment.`);
  }
}

/** The order has already been paid (by another payment), or the payment cannot be confirmed any more. */
export class AlreadyProcessed extends PaymentGatewayError {
  override readonly name = 'AlreadyProcessed';
  readonly code = 'ALREADY_PROCESSED_PAYMENT';
}

export class NotCancelable extends PaymentGatewayError {
  override readonly name = 'NotCancelable';
  readonly code = 'NOT_CANCELABLE_PAYMENT';
  constructor(
    readonly paymentKey: string,
    readonly status: PaymentStatus,
  ) {
    super(`Payment ${paymentKey} is ${status}: nothing to refund.`);
  }
}

export class RefundExceedsBalance extends PaymentGatewayError {
  override readonly name = 'RefundExceedsBalance';
  readonly code = 'NOT_CANCELABLE_AMOUNT';
  constructor(
    readonly paymentKey: string,
    readonly requested: number,
    readonly balance: number,
  ) {
    super(`Cannot refund ${requested} KRW of payment ${paymentKey}: only ${balance} KRW is refundable.`);
  }
}

/** The idempotency key was already used for a different request (another payment or amount). */
export class IdempotencyKeyReused extends PaymentGatewayError {
  override readonly name = 'IdempotencyKeyReused';
  readonly code = 'INVALID_IDEMPOTENCY_KEY';
  constructor(readonly idempotencyKey: string) {
    super(`Idempotency key ${idempotencyKey} was used for a different request.`);
  }
}

/** Parses input with a zod schema, throwing `InvalidPaymentRequest` with every issue. */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new InvalidPaymentRequest(result.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; '));
  }
  return result.data;
}
