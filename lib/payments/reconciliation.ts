/**
 * The reconciliation's worklist (pm_pending_payments): deposits, and bills with a card attempt at the
 * desk, whose outcome is not recorded yet; when to ask the gateway next, what it said last, and the ones parked for a person ("stuck": the
 * timer stopped asking, the admin payments page shows them). Plain SQL on our own tables; the
 * decisions are in lib/commands/payment.ts (`reconcilePendingPayments`).
 */
import type postgres from 'postgres';
import type { Payment as GatewayPayment } from './gateway';

/** When the reconciliation first asks the gateway about a payment put on its list (default for deposits and desk card bills). */
export const PAYMENT_CHECK_DELAY_MS = 120_000;

/** What the gateway said about a payment's order at the last check (kept for the admin page). */
export interface GatewayView {
  paymentKey: string;
  status: string;
  totalAmount: number;
  balanceAmount: number;
  approvedAt: string | null;
  failure: { code: string; message: string } | null;
}

export interface PendingPayment {
  paymentId: string;
  orderId: string;
  requestedAt: Date;
  nextCheckAt: Date;
  checks: number;
  lastCheckedAt: Date | null;
  gateway: GatewayView | null;
  lastError: string | null;
  stuckAt: Date | null;
}

interface Row {
  payment_id: string;
  order_id: string;
  requested_at: Date | string;
  next_check_at: Date | string;
  checks: number;
  last_checked_at: Date | string | null;
  gateway: GatewayView | null;
  last_error: string | null;
  stuck_at: Date | string | null;
}

// postgres.js returns timestamptz as text on a client drizzle wraps (see sandbox.ts): accept either.
const toDate = (v: Date | string): Date => (v instanceof Date ? v : new Date(v));
const toDateOrNull = (v: Date | string | null): Date | null => (v === null ? null : toDate(v));

function fromRow(r: Row): PendingPayment {
  return {
    paymentId: r.payment_id,
    orderId: r.order_id,
    requestedAt: toDate(r.requested_at),
    nextCheckAt: toDate(r.next_check_at),
    checks: r.checks,
    lastCheckedAt: toDateOrNull(r.last_checked_at),
    gateway: r.gateway,
    lastError: r.last_error,
    stuckAt: toDateOrNull(r.stuck_at),
  };
}

export function gatewayView(gw: GatewayPayment): GatewayView {
  return {
    paymentKey: gw.paymentKey,
    status: gw.status,
    totalAmount: gw.totalAmount,
    balanceAmount: gw.balanceAmount,
    approvedAt: gw.approvedAt ? gw.approvedAt.toISOString() : null,
    failure: gw.failure,
  };
}

/** Rows due for a check (never the stuck ones), oldest due first; `all`: every row, due or not (a person asked to check now). */
export async function duePendingPayments(sql: postgres.Sql, now: Date, limit = 100, all = false): Promise<PendingPayment[]> {
  const rows = await sql<Row[]>`
    select * from pm_pending_payments
    where stuck_at is null and (${all} or next_check_at <= ${now.toISOString()}::timestamptz)
    order by next_check_at limit ${limit}`;
  return rows.map(fromRow);
}

export async function pendingPayment(sql: postgres.Sql, paymentId: string): Promise<PendingPayment | null> {
  const [row] = await sql<Row[]>`select * from pm_pending_payments where payment_id = ${paymentId}`;
  return row ? fromRow(row) : null;
}

/** The parked rows, for the admin payments page. */
export async function stuckPayments(sql: postgres.Sql, limit = 200): Promise<PendingPayment[]> {
  const rows = await sql<Row[]>`select * from pm_pending_payments where stuck_at is not null order by stuck_at desc limit ${limit}`;
  return rows.map(fromRow);
}

/** How many are waiting for a check (not stuck). */
export async function pendingCount(sql: postgres.Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from pm_pending_payments where stuck_at is null`;
  return row?.n ?? 0;
}

/** A check that did not settle the payment: count it, remember what was seen, and either schedule the next one or park the row. */
export async function recordCheck(
  sql: postgres.Sql,
  paymentId: string,
  check: { now: Date; gateway: GatewayView | null; error: string | null; nextCheckAt: Date | null },
): Promise<void> {
  const { now, gateway, error, nextCheckAt } = check;
  await sql`
    update pm_pending_payments set
      checks = checks + 1,
      last_checked_at = ${now.toISOString()}::timestamptz,
      gateway = coalesce(${gateway === null ? null : JSON.stringify(gateway)}::jsonb, gateway),
      last_error = ${error},
      next_check_at = coalesce(${nextCheckAt ? nextCheckAt.toISOString() : null}::timestamptz, next_check_at),
      stuck_at = case when ${nextCheckAt === null} then ${now.toISOString()}::timestamptz else null end
    where payment_id = ${paymentId}`;
}

/** Back on the timer's list (a person asked for a retry that did not settle it yet). */
export async function unpark(sql: postgres.Sql, paymentId: string, nextCheckAt: Date): Promise<void> {
  await sql`update pm_pending_payments set stuck_at = null, checks = 0, next_check_at = ${nextCheckAt.toISOString()}::timestamptz where payment_id = ${paymentId}`;
}

/** Settled (captured, failed, resolved): nothing left to ask the gateway. */
export async function dropPending(sql: postgres.Sql, paymentId: string): Promise<void> {
  await sql`delete from pm_pending_payments where payment_id = ${paymentId}`;
}

/** Adds a payment (PaymentRequested) or, with `recheckAt`, schedules one last check of a closed one (a charge may still land on it). */
export async function trackPayment(sql: postgres.Sql, row: { paymentId: string; orderId: string; requestedAt: Date; nextCheckAt: Date }, recheck = false): Promise<void> {
  if (recheck) {
    await sql`
      insert into pm_pending_payments (payment_id, order_id, requested_at, next_check_at)
      values (${row.paymentId}, ${row.orderId}, ${row.requestedAt.toISOString()}::timestamptz, ${row.nextCheckAt.toISOString()}::timestamptz)
      on conflict (payment_id) do update set next_check_at = excluded.next_check_at, stuck_at = null`;
    return;
  }
  await sql`
    insert into pm_pending_payments (payment_id, order_id, requested_at, next_check_at)
    values (${row.paymentId}, ${row.orderId}, ${row.requestedAt.toISOString()}::timestamptz, ${row.nextCheckAt.toISOString()}::timestamptz)
    on conflict (payment_id) do nothing`;
}
