import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import type postgres from 'postgres';
import {
  AlreadyProcessed,
  AmountMismatch,
  CancelInput,
  ConfirmInput,
  CreateOrderInput,
  GatewayTimeout,
  IdempotencyKeyReused,
  InvalidCard,
  InvalidPaymentRequest,
  NotCancelable,
  OrderConflict,
  OrderNotFound,
  PaymentDeclined,
  PaymentNotFound,
  RefundExceedsBalance,
  parseInput,
  type CancelResult,
  type Cancellation,
  type Order,
  type Payment,
  type PaymentGateway,
  type PaymentStatus,
} from './gateway';
import { z } from 'zod';
import { safeBegin } from '../db/connection-loss';

/**
 * Sandbox payment gateway: a PG in test mode, with its state (orders, payments, cancellations) in
 * PostgreSQL (payment_sandbox_* tables), so it survives restarts and the web server and the worker
 * share it. What happens at confirmation depends on the test card used at authorization:
 *
 * | card number           | at confirm                                                                  |
 * | --------------------- | --------------------------------------------------------------------------- |
 * | 4242 4242 4242 4242   | approved                                                                     |
 * | 4000 0000 0000 0002   | declined: insufficient funds (`PaymentDeclined`, code REJECT_CARD_PAYMENT)   |
 * | 4000 0000 0000 9995   | times out (`GatewayTimeout` after `timeoutMs`) — but was APPROVED behind it  |
 * | 4000 0000 0000 9987   | times out (`GatewayTimeout` after `timeoutMs`) — and was DECLINED behind it  |
 *
 * Any other number is refused at authorization (`InvalidCard`): the sandbox never takes a real card.
 * After a timeout, `getPayment` (or confirming again, which is idempotent) reveals the real outcome.
 *
 * Its transactions run through `safeBegin` (lib/db/connection-loss.ts), like the worker's: a cut
 * connection fails the call (retry it: every call is idempotent) instead of crashing the process.
 */

export type SandboxScenario = 'approve' | 'decline' | 'timeout-approve' | 'timeout-decline';

export const SANDBOX_TEST_CARDS: Readonly<Record<string, { scenario: SandboxScenario; description: string }>> = {
  '4242424242424242': { scenario: 'approve', description: 'approves' },
  '4000000000000002': { scenario: 'decline', description: 'declines: insufficient funds' },
  '4000000000009995': { scenario: 'timeout-approve', description: 'times out at confirm; approved behind the timeout' },
  '4000000000009987': { scenario: 'timeout-decline', description: 'times out at confirm; declined behind the timeout' },
};

const DECLINE = { code: 'REJECT_CARD_PAYMENT', message: 'Declined by the card issuer: insufficient funds (잔액 부족).' };

export const AuthorizeInput = z.object({
  orderId: z.string().min(1).max(64),
  amount: z.number().int().positive(),
  /** Spaces and dashes allowed. */
  cardNumber: z.string().min(1).max(40),
});
export type AuthorizeInput = z.infer<typeof AuthorizeInput>;

export interface Authorization {
  readonly paymentKey: string;
  readonly orderId: string;
  readonly amount: number;
}

export interface SandboxGateway extends PaymentGateway {
  /**
   * The client's checkout step (stands in for the PG's hosted payment window): the customer pays
   * with a test card and the client gets back what a PG's success redirect carries — paymentKey,
   * orderId and amount — to hand to the server, which must then `confirm`. Nothing is charged yet.
   * Throws `OrderNotFound`, `AmountMismatch`, `AlreadyProcessed` (order already paid), `InvalidCard`.
   */
  authorize(input: AuthorizeInput): Promise<Authorization>;
}

export interface SandboxGatewayOptions {
  /** How long a timing-out test card keeps `confirm` waiting before `GatewayTimeout` (default 5 s). */
  timeoutMs?: number;
}

interface PaymentRow {
  payment_key: string;
  order_id: string;
  order_name: string;
  status: PaymentStatus;
  total_amount: number;
  balance_amount: number;
  card_number: string;
  scenario: SandboxScenario;
  failure_code: string | null;
  failure_message: string | null;
  requested_at: Date | string;
  approved_at: Date | string | null;
}

interface CancelRow {
  transaction_key: string;
  payment_key: string;
  idempotency_key: string;
  cancel_amount: number;
  cancel_reason: string;
  refundable_amount: number;
  canceled_at: Date | string;
}

const CHARGED: readonly PaymentStatus[] = ['DONE', 'PARTIAL_CANCELED', 'CANCELED'];
const REFUNDABLE: readonly PaymentStatus[] = ['DONE', 'PARTIAL_CANCELED'];

const newKey = (prefix: string) => `${prefix}_${randomBytes(18).toString('base64url')}`;
const mask = (digits: string) => `${digits.slice(0, 6)}${'*'.repeat(digits.length - 10)}${digits.slice(-4)}`;
/**
 * Timestamps arrive as Date or as text: drizzle-orm makes postgres.js return timestamptz unparsed on a
 * client it wraps (lib/db/client.ts shares one client between both), so accept either.
 */
const toDate = (value: Date | string): Date => (value instanceof Date ? value : new Date(value));
const toDateOrNull = (value: Date | string | null): Date | null => (value === null ? null : toDate(value));

function isUniqueViolation(error: unknown, constraint: string): boolean {
  const e = error as { code?: string; constraint_name?: string };
  return e?.code === '23505' && e.constraint_name === constraint;
}

function toCancellation(row: CancelRow): Cancellation {
  return {
    transactionKey: row.transaction_key,
    idempotencyKey: row.idempotency_key,
    cancelAmount: row.cancel_amount,
    cancelReason: row.cancel_reason,
    refundableAmount: row.refundable_amount,
    canceledAt: toDate(row.canceled_at),
  };
}

export function createSandboxGateway(sql: postgres.Sql, options: SandboxGatewayOptions = {}): SandboxGateway {
  const timeoutMs = options.timeoutMs ?? 5_000;

  async function loadPayment(db: postgres.Sql | postgres.TransactionSql, paymentKey: string): Promise<Payment | null> {
    const [row] = await db<PaymentRow[]>`
      select p.*, o.order_name
      from payment_sandbox_payments p join payment_sandbox_orders o using (order_id)
      where p.payment_key = ${paymentKey}`;
    if (!row) return null;
    const cancels = await db<CancelRow[]>`
      select * from payment_sandbox_cancels where payment_key = ${paymentKey} order by canceled_at, transaction_key`;
    return {
      paymentKey: row.payment_key,
      orderId: row.order_id,
      orderName: row.order_name,
      status: row.status,
      method: 'CARD',
      cardNumber: row.card_number,
      totalAmount: row.total_amount,
      balanceAmount: row.balance_amount,
      requestedAt: toDate(row.requested_at),
      approvedAt: toDateOrNull(row.approved_at),
      failure: row.failure_code ? { code: row.failure_code, message: row.failure_message ?? row.failure_code } : null,
      cancels: cancels.map(toCancellation),
    };
  }

  async function getPayment(paymentKey: string): Promise<Payment> {
    const payment = await loadPayment(sql, paymentKey);
    if (!payment) throw new PaymentNotFound(paymentKey);
    return payment;
  }

  return {
    async createOrder(input) {
      const { orderId, orderName, amount } = parseInput(CreateOrderInput, input);
      await sql`
        insert into payment_sandbox_orders (order_id, order_name, amount)
        values (${orderId}, ${orderName}, ${amount})
        on conflict (order_id) do nothing`;
      const [row] = await sql<{ order_id: string; order_name: string; amount: number; created_at: Date | string }[]>`
        select * from payment_sandbox_orders where order_id = ${orderId}`;
      if (!row) throw new OrderNotFound(orderId);
      if (row.amount !== amount || row.order_name !== orderName) throw new OrderConflict(orderId);
      const order: Order = { orderId: row.order_id, orderName: row.order_name, amount: row.amount, createdAt: toDate(row.created_at) };
      return order;
    },

    async authorize(input) {
      const { orderId, amount, cardNumber } = parseInput(AuthorizeInput, input);
      const digits = cardNumber.replace(/[\s-]/g, '');
      const card = SANDBOX_TEST_CARDS[digits];
      if (!card) {
        throw new InvalidCard(`${mask(digits.padEnd(10, '0'))} is not a sandbox test card (see docs/payments.md).`);
      }
      const paymentKey = newKey('tsbx');
      await safeBegin(sql, async (tx) => {
        const [order] = await tx<{ amount: number }[]>`
          select amount from payment_sandbox_orders where order_id = ${orderId}`;
        if (!order) throw new OrderNotFound(orderId);
        if (order.amount !== amount) throw new AmountMismatch(orderId, order.amount, amount);
        const [paid] = await tx`
          select 1 from payment_sandbox_payments
          where order_id = ${orderId} and status in ${tx(CHARGED)}`;
        if (paid) throw new AlreadyProcessed(`Order ${orderId} has already been paid.`);
        await tx`
          insert into payment_sandbox_payments
            (payment_key, order_id, status, total_amount, balance_amount, card_number, scenario)
          values (${paymentKey}, ${orderId}, 'IN_PROGRESS', ${amount}, 0, ${mask(digits)}, ${card.scenario})`;
      });
      return { paymentKey, orderId, amount };
    },

    async confirm(input) {
      const { paymentKey, orderId, amount } = parseInput(ConfirmInput, input);
      type Outcome = { charged: boolean; failure?: { code: string; message: string }; timesOut: boolean };
      const outcome = await safeBegin(sql, async (tx): Promise<Outcome> => {
        const [payment] = await tx<PaymentRow[]>`
          select * from payment_sandbox_payments where payment_key = ${paymentKey} for update`;
        if (!payment) throw new PaymentNotFound(paymentKey);
        if (payment.order_id !== orderId) {
          throw new InvalidPaymentRequest(`Payment ${paymentKey} does not belong to order ${orderId}.`);
        }
        // Serialises confirmations of one order (a customer may have opened the checkout twice).
        const [order] = await tx<{ amount: number }[]>`
          select amount from payment_sandbox_orders where order_id = ${orderId} for no key update`;
        if (!order) throw new OrderNotFound(orderId);
        // Anti-tampering: the amount the server confirms must be the order's (and what was authorized).
        if (amount !== order.amount || amount !== payment.total_amount) throw new AmountMismatch(orderId, order.amount, amount);

        // Already decided: answer the same again (idempotent), without a second timeout.
        if (CHARGED.includes(payment.status)) return { charged: true, timesOut: false };
        if (payment.status === 'ABORTED') {
          return { charged: false, timesOut: false, failure: { code: payment.failure_code ?? DECLINE.code, message: payment.failure_message ?? DECLINE.message } };
        }

        const [otherPaid] = await tx<{ payment_key: string }[]>`
          select payment_key from payment_sandbox_payments
          where order_id = ${orderId} and payment_key <> ${paymentKey} and status in ${tx(CHARGED)}`;
        if (otherPaid) throw new AlreadyProcessed(`Order ${orderId} has already been paid by another payment.`);

        const approves = payment.scenario === 'approve' || payment.scenario === 'timeout-approve';
        const timesOut = payment.scenario === 'timeout-approve' || payment.scenario === 'timeout-decline';
        if (approves) {
          await tx`
            update payment_sandbox_payments
            set status = 'DONE', balance_amount = total_amount, approved_at = now()
            where payment_key = ${paymentKey} and status = 'IN_PROGRESS'`;
          return { charged: true, timesOut };
        }
        await tx`
          update payment_sandbox_payments
          set status = 'ABORTED', failure_code = ${DECLINE.code}, failure_message = ${DECLINE.message}
          where payment_key = ${paymentKey} and status = 'IN_PROGRESS'`;
        return { charged: false, timesOut, failure: DECLINE };
      });

      // The gateway has decided and recorded the outcome; the answer is what gets lost.
      if (outcome.timesOut) {
        await sleep(timeoutMs);
        throw new GatewayTimeout('confirm', paymentKey);
      }
      if (!outcome.charged) {
        throw new PaymentDeclined(paymentKey, outcome.failure?.code ?? DECLINE.code, outcome.failure?.message ?? DECLINE.message);
      }
      return getPayment(paymentKey);
    },

    async cancel(input) {
      const { paymentKey, cancelAmount, cancelReason, idempotencyKey } = parseInput(CancelInput, input);
      const replay = (existing: CancelRow): { transactionKey: string; replayed: boolean } => {
        if (existing.payment_key !== paymentKey || (cancelAmount !== undefined && cancelAmount !== existing.cancel_amount)) {
          throw new IdempotencyKeyReused(idempotencyKey);
        }
        return { transactionKey: existing.transaction_key, replayed: true };
      };

      let result: { transactionKey: string; replayed: boolean };
      try {
        result = await safeBegin(sql, async (tx) => {
          // The payment's row lock serialises its cancellations: balance checks see every earlier one.
          const [payment] = await tx<PaymentRow[]>`
            select * from payment_sandbox_payments where payment_key = ${paymentKey} for update`;
          if (!payment) throw new PaymentNotFound(paymentKey);

          const [existing] = await tx<CancelRow[]>`
            select * from payment_sandbox_cancels where idempotency_key = ${idempotencyKey}`;
          if (existing) return replay(existing);

          if (!REFUNDABLE.includes(payment.status)) throw new NotCancelable(paymentKey, payment.status);
          const amount = cancelAmount ?? payment.balance_amount;
          if (amount > payment.balance_amount) throw new RefundExceedsBalance(paymentKey, amount, payment.balance_amount);

          // Guarded as well, so the balance can never go below zero whatever the isolation.
          const [updated] = await tx<{ balance_amount: number }[]>`
            update payment_sandbox_payments
            set balance_amount = balance_amount - ${amount},
                status = case when balance_amount - ${amount} = 0 then 'CANCELED' else 'PARTIAL_CANCELED' end
            where payment_key = ${paymentKey} and balance_amount >= ${amount} and status in ${tx(REFUNDABLE)}
            returning balance_amount`;
          if (!updated) throw new RefundExceedsBalance(paymentKey, amount, payment.balance_amount);

          const transactionKey = newKey('txn');
          await tx`
            insert into payment_sandbox_cancels
              (transaction_key, payment_key, idempotency_key, cancel_amount, cancel_reason, refundable_amount, canceled_at)
            values (${transactionKey}, ${paymentKey}, ${idempotencyKey}, ${amount}, ${cancelReason}, ${updated.balance_amount}, clock_timestamp())`;
          return { transactionKey, replayed: false };
        });
      } catch (error) {
        // The same key used at the same moment on another payment: that one won.
        if (!isUniqueViolation(error, 'payment_sandbox_cancels_idempotency_idx')) throw error;
        const [existing] = await sql<CancelRow[]>`
          select * from payment_sandbox_cancels where idempotency_key = ${idempotencyKey}`;
        if (!existing) throw error;
        result = replay(existing);
      }

      const payment = await getPayment(paymentKey);
      const cancel = payment.cancels.find((c) => c.transactionKey === result.transactionKey);
      if (!cancel) throw new Error(`cancellation ${result.transactionKey} of ${paymentKey} not found after commit`);
      const answer: CancelResult = { payment, cancel, replayed: result.replayed };
      return answer;
    },

    getPayment,

    async getPaymentByOrderId(orderId) {
      const [row] = await sql<{ payment_key: string }[]>`
        select payment_key from payment_sandbox_payments
        where order_id = ${orderId}
        order by (status in ('DONE', 'PARTIAL_CANCELED', 'CANCELED')) desc, requested_at desc, payment_key
        limit 1`;
      return row ? loadPayment(sql, row.payment_key) : null;
    },
  };
}
