/**
 * Payment commands (stream payment-<id>) and the gateway flows: deposit checkout (create the order,
 * confirm after the client's authorization), refunds (gateway cancel with an idempotency key, then
 * record), and reconciliation after an unknown outcome (gateway timeout).
 *
 * Money rules: nothing is recorded as paid unless the gateway says it is charged; a confirm whose
 * answer was lost leaves the payment `requested` until the reconciliation asks the gateway; a decline
 * fails the ATTEMPT (the gateway's paymentKey), never the payment, so the same payment (the same
 * gateway order, which the gateway charges at most once) can be paid again; a charge that lands on a
 * payment already failed, or settled by another charge, is cancelled at the gateway at once (key
 * `derivedId('void', paymentKey)`) and recorded (PaymentChargeVoided). docs/payments.md has the why.
 *
 * ── The checkout API (app/checkout builds on exactly this) ─────────────────────────────────────
 * Every function takes the acting user's metadata (`ctx.meta()` / `userCommandMetadata`) and checks
 * it: a patient only on their own payment, staff only on their clinic's, admin and the system
 * anywhere; anyone else gets ForbiddenError (403), and nothing is appended or charged.
 *
 * depositPaymentId(reservationId) → string
 *     The reservation's deposit payment. The process manager requests it (PaymentRequested + the
 *     gateway order) right after ReservationRequested; it stays the same payment after declines
 *     (there is no new payment to wait for after a decline any more).
 *
 * depositCheckout(deps, paymentId, meta) → DepositCheckout
 *     Fresh from the payment stream (no read-model lag) plus the gateway's view of the order:
 *     { paymentId, reservationId, orderId, orderName, amountKrw, vatKrw, state, lastDecline, refundedKrw }
 *     state: 'payable'  — waiting for a card (also after a declined attempt: pay again);
 *            'pending'  — the gateway decided an attempt we have not recorded yet (a confirm that
 *                         timed out): show "checking with the card company"; reconciliation settles it;
 *            'paid'     — captured (refundedKrw > 0 once refunded);
 *            'closed'   — failed: the payment deadline passed (reservation cancelled) or an admin resolved it.
 *     lastDecline: { code, message, at } of the newest declined attempt, or null.
 *     NotFoundError('payment') (code not_found) until the process manager has requested it.
 *
 * startDepositAttempt(deps, { paymentId, cardNumber }, meta) → { paymentKey, orderId, amount }
 *     The sandbox's stand-in for the PG's hosted window (a real PG's SDK does this in the browser):
 *     authorizes a test card on the payment's order; nothing is charged yet. Redirect to the success
 *     URL with these three values. Refusals (DomainError codes): payment.not_payable (paid or
 *     closed), payment.pending (an attempt is being checked), payment.invalid_card (not a sandbox
 *     test card), payment.already_paid (another tab paid the order: it is recorded now; go to the
 *     reservation).
 *
 * confirmDeposit(deps, { paymentKey, orderId, amount }, meta) → PaymentOutcome   (success URL)
 *     Confirms at the gateway (this is where the card is charged) and records it. Returns
 *     { outcome: 'captured', position } (the process manager then records the deposit on the
 *     reservation, which confirms an instant booking; wait for `position`). Throws (DomainError):
 *       payment.declined  — this attempt was declined and recorded; the payment stays payable: pay again;
 *       payment.pending   — the gateway did not answer (timeout): nothing recorded, the payment stays
 *                           `requested` and reads 'pending' until the reconciliation settles it;
 *       payment.amount_mismatch, payment.not_payable, payment.gateway_refused.
 *     Idempotent: the same paymentKey again returns the first outcome. Two tabs confirming at once:
 *     the gateway charges the order once; the other gets the same 'captured' (or payment.declined).
 *
 * recordDepositFailure(deps, { paymentId, paymentKey?, code?, message? }, meta) → PaymentOutcome   (failure URL)
 *     Never trusts the URL: asks the gateway about paymentKey and records what it says (declined →
 *     that attempt recorded declined; charged → captured). outcome: 'declined' (pay again),
 *     'captured', 'pending' (being checked), 'payable' (nothing was charged: e.g. the window was closed).
 *
 * reconcilePendingPayments(deps, meta, options?) → ReconcileResult   (admin only, or the system)
 *     Runs the reconciliation now over every payment whose outcome is not recorded (what the
 *     worker's timer does every 30 s): the e2e tests trigger it through the admin page's
 *     "check pending payments now" (app/actions/admin-payments.ts).
 *
 * PaymentOutcome = { paymentId, outcome: 'captured' | 'declined' | 'pending' | 'payable' | 'failed', position, state }
 * Error codes of this file (ko/en messages in domain-errors.json): PAYMENT_ERROR_CODES below.
 */
import { NotFoundError, payment, streams } from '../domain';
import { AmountMismatchError } from '../domain/payment';
import type { ActivePayment, PaymentCommand, PaymentEvent, PaymentState } from '../domain/payment';
import {
  AlreadyProcessed,
  GatewayTimeout,
  PaymentDeclined,
  PaymentGatewayError as GatewayError,
  type Payment as GatewayPayment,
  type PaymentGateway,
} from '../payments/gateway';
import type { Position } from '../eventstore';
import { nowOf, run, type CommandDeps } from './deps';
import { PaymentGatewayError } from './errors';
import { laterPosition, loadStream, type CommandResult } from './handle';
import { derivedId, subCommand, type CommandMetadata } from './metadata';

export type PaymentResult = CommandResult<PaymentEvent, PaymentState>;

export function paymentCommand(deps: CommandDeps, paymentId: string, command: PaymentCommand, meta: CommandMetadata) {
  return run(deps, payment.paymentDecider, streams.payment(paymentId), command, meta);
}

type Input<T extends PaymentCommand['type']> = Omit<Extract<PaymentCommand, { type: T }>, 'type'>;

export const requestPayment = (deps: CommandDeps, input: Input<'RequestPayment'>, meta: CommandMetadata) =>
  paymentCommand(deps, input.paymentId, { type: 'RequestPayment', ...input }, meta);
export const authorizePayment = (deps: CommandDeps, { paymentId, ...input }: { paymentId: string } & Input<'AuthorizePayment'>, meta: CommandMetadata) =>
  paymentCommand(deps, paymentId, { type: 'AuthorizePayment', ...input }, meta);
export const capturePayment = (deps: CommandDeps, { paymentId, ...input }: { paymentId: string } & Input<'CapturePayment'>, meta: CommandMetadata) =>
  paymentCommand(deps, paymentId, { type: 'CapturePayment', ...input }, meta);
export const failPayment = (deps: CommandDeps, { paymentId, ...input }: { paymentId: string } & Input<'FailPayment'>, meta: CommandMetadata) =>
  paymentCommand(deps, paymentId, { type: 'FailPayment', ...input }, meta);

/** The deposit payment of a reservation (first attempt); a retry after a decline derives from the failure. */
export const depositPaymentId = (reservationId: string, attempt?: string) =>
  attempt === undefined ? derivedId('deposit', reservationId) : derivedId('deposit', reservationId, attempt);

/** The gateway order of a payment: the payment id itself when the gateway accepts it as an order id. */
export const orderIdOf = (paymentId: string) => (/^[A-Za-z0-9_-]{6,64}$/.test(paymentId) ? paymentId : derivedId('order', paymentId));

function gatewayOf(deps: CommandDeps): { gateway: PaymentGateway; provider: string } {
  if (!deps.payments) throw new Error('this command needs deps.payments (the payment gateway)');
  return deps.payments;
}

const isCharged = (p: GatewayPayment) => p.status === 'DONE' || p.status === 'PARTIAL_CANCELED' || p.status === 'CANCELED';

async function loadPayment(deps: CommandDeps, paymentId: string) {
  const loaded = await loadStream(deps.store, payment.paymentDecider, streams.payment(paymentId));
  if (loaded.state.status === 'none') throw new NotFoundError('payment', { paymentId });
  return { loaded, state: loaded.state as ActivePayment };
}

// ── Deposit checkout ────────────────────────────────────────────────────────────────────────────

export interface RequestDepositInput {
  paymentId: string;
  reservationId: string;
  clinicId: string;
  patientId: string;
  amountKrw: number;
  /** Shown in the checkout (≤ 100 characters). */
  orderName: string;
}

/** RequestPayment (deposit), then the gateway order the checkout pays (idempotent: same order again is harmless). */
export async function requestDeposit(deps: CommandDeps, input: RequestDepositInput, meta: CommandMetadata): Promise<PaymentResult & { orderId: string }> {
  const { gateway } = gatewayOf(deps);
  const requested = await requestPayment(
    deps,
    { paymentId: input.paymentId, clinicId: input.clinicId, patientId: input.patientId, purpose: 'deposit', reservationId: input.reservationId, amountKrw: input.amountKrw },
    meta,
  );
  const orderId = orderIdOf(input.paymentId);
  await gateway.createOrder({ orderId, orderName: input.orderName.slice(0, 100), amount: input.amountKrw });
  return { ...requested, orderId };
}

export interface PaymentOutcome {
  readonly paymentId: string;
  /** captured: charged and recorded; failed: declined and recorded; pending: outcome unknown, left for reconciliation. */
  readonly outcome: 'captured' | 'failed' | 'pending';
  readonly position: Position | null;
  readonly state: PaymentState;
}

/**
 * Records what the gateway says about a payment: charged → AuthorizePayment + CapturePayment;
 * aborted → FailPayment; in progress → nothing. Each step is idempotent (`<commandId>/authorize`…).
 */
export async function recordGatewayOutcome(deps: CommandDeps, paymentId: string, gw: GatewayPayment, meta: CommandMetadata): Promise<PaymentOutcome> {
  const { provider } = gatewayOf(deps);
  const { state } = await loadPayment(deps, paymentId);
  if (isCharged(gw)) {
    let position: Position | null = null;
    let after: PaymentState = state;
    if (state.status === 'requested') {
      const authorized = await authorizePayment(deps, { paymentId, provider, providerRef: gw.paymentKey, amountKrw: gw.totalAmount }, subCommand(meta, 'authorize'));
      position = authorized.position;
      after = authorized.state;
    }
    if (after.status === 'authorized') {
      const captured = await capturePayment(deps, { paymentId, amountKrw: gw.totalAmount }, subCommand(meta, 'capture'));
      position = laterPosition(position, captured.position);
      after = captured.state;
    }
    if (after.status === 'requested' || after.status === 'authorized' || after.status === 'failed' || (after as ActivePayment).providerRef !== gw.paymentKey) {
      // The gateway charged a payment our stream does not record as this capture: never report
      // success over money we cannot account for (retried, then parked for a human).
      throw new Error(`gateway payment ${gw.paymentKey} of order ${gw.orderId} is charged but payment ${paymentId} is ${after.status} (${(after as ActivePayment).providerRef ?? 'no provider ref'})`);
    }
    return { paymentId, outcome: 'captured', position, state: after };
  }
  if (gw.status === 'ABORTED') {
    if (state.status === 'requested' || state.status === 'authorized') {
      const failed = await failPayment(
        deps,
        { paymentId, reason: gw.failure?.message ?? 'declined by the payment gateway', ...(gw.failure ? { providerCode: gw.failure.code } : {}) },
        subCommand(meta, 'fail'),
      );
      return { paymentId, outcome: 'failed', position: failed.position, state: failed.state };
    }
    return { paymentId, outcome: 'failed', position: null, state };
  }
  return { paymentId, outcome: 'pending', position: null, state };
}

export interface ConfirmDepositInput {
  /** What the checkout's success redirect carries. */
  paymentKey: string;
  orderId: string;
  amount: number;
}

/**
 * The server side of the checkout: confirm the authorized payment at the gateway and record it.
 * The gateway checks the amount against the order; we check it against the payment first.
 * Declined → PaymentFailed recorded, then `payment.declined`. Timeout → the gateway is asked
 * (getPayment); if it still cannot say, nothing is recorded and `payment.pending` is thrown: the
 * payment stays `requested` and the reconciliation timer records the outcome once known.
 */
export async function confirmDeposit(deps: CommandDeps, input: ConfirmDepositInput, meta: CommandMetadata): Promise<PaymentOutcome> {
  const { gateway } = gatewayOf(deps);
  const paymentId = input.orderId;
  const { state } = await loadPayment(deps, paymentId);
  if (state.providerRef === input.paymentKey && state.status !== 'requested' && state.status !== 'authorized') {
    return { paymentId, outcome: state.status === 'failed' ? 'failed' : 'captured', position: null, state }; // confirmed before
  }
  if (state.status !== 'requested' && state.status !== 'authorized') {
    // Failed (declined) or settled with another payment key: this payment takes no more money.
    throw new PaymentGatewayError('payment.not_payable', 'this payment can no longer be paid', { paymentId, status: state.status });
  }
  if (input.amount !== state.amountKrw) throw new AmountMismatchError({ requestedKrw: state.amountKrw, authorizedKrw: input.amount });

  let gw: GatewayPayment;
  try {
    gw = await gateway.confirm({ paymentKey: input.paymentKey, orderId: orderIdOf(paymentId), amount: input.amount });
  } catch (error) {
    if (error instanceof PaymentDeclined) {
      await failPayment(deps, { paymentId, reason: error.message.slice(0, 1000), providerCode: error.code }, subCommand(meta, 'fail'));
      throw new PaymentGatewayError('payment.declined', 'the card was declined', { paymentId, providerCode: error.code });
    }
    if (error instanceof GatewayTimeout || error instanceof AlreadyProcessed) {
      // Unknown outcome (or paid by another attempt): ask the gateway what happened to the order.
      let known: GatewayPayment | null = null;
      try {
        known = error instanceof GatewayTimeout ? await gateway.getPayment(input.paymentKey) : await gateway.getPaymentByOrderId(orderIdOf(paymentId));
      } catch {
        known = null;
      }
      const outcome = known ? await recordGatewayOutcome(deps, paymentId, known, meta) : null;
      if (outcome?.outcome === 'captured') return outcome;
      if (outcome?.outcome === 'failed') throw new PaymentGatewayError('payment.declined', 'the card was declined', { paymentId });
      throw new PaymentGatewayError('payment.pending', 'the payment provider has not confirmed the payment yet', { paymentId });
    }
    if (error instanceof GatewayError) {
      throw new PaymentGatewayError('payment.gateway_refused', error.message, { paymentId, providerCode: error.code });
    }
    throw error;
  }
  return recordGatewayOutcome(deps, paymentId, gw, meta);
}

/**
 * Asks the gateway about a payment still `requested` or `authorized` and records the outcome
 * (the reconciliation timer's command). Returns the outcome, 'pending' when still unknown.
 */
export async function reconcilePayment(deps: CommandDeps, paymentId: string, meta: CommandMetadata): Promise<PaymentOutcome> {
  const { gateway } = gatewayOf(deps);
  const { state } = await loadPayment(deps, paymentId);
  if (state.status !== 'requested' && state.status !== 'authorized') {
    return { paymentId, outcome: state.status === 'failed' ? 'failed' : 'captured', position: null, state };
  }
  const gw = await gateway.getPaymentByOrderId(orderIdOf(paymentId));
  if (!gw) return { paymentId, outcome: 'pending', position: null, state };
  return recordGatewayOutcome(deps, paymentId, gw, meta);
}

// ── Refunds ─────────────────────────────────────────────────────────────────────────────────────

export interface RefundInput {
  paymentId: string;
  /** Idempotency key (e.g. derived from the cancellation event id); the gateway's idempotency key too. */
  refundId: string;
  amountKrw: number;
  reason: string;
}

/**
 * Refund through the gateway, then record PaymentRefunded. The rules (never beyond what was
 * captured) are checked by the decider before the gateway is called; the gateway's idempotency key
 * is the refundId, so a retry after a timeout or a crash never refunds twice.
 */
export async function refundPayment(deps: CommandDeps, input: RefundInput, meta: CommandMetadata): Promise<PaymentResult> {
  const { gateway } = gatewayOf(deps);
  const { loaded, state } = await loadPayment(deps, input.paymentId);
  const command: PaymentCommand = { type: 'RefundPayment', refundId: input.refundId, amountKrw: input.amountKrw, reason: input.reason };
  if (state.refundIds.includes(input.refundId)) return paymentCommand(deps, input.paymentId, command, meta); // recorded before: no-op
  // The same decision the stream will make, before any money moves.
  payment.paymentDecider.decide(command, loaded.state, { now: nowOf(deps) });
  if (!state.providerRef) throw new PaymentGatewayError('payment.not_refundable', 'the payment has no gateway reference', { paymentId: input.paymentId });
  try {
    await gateway.cancel({ paymentKey: state.providerRef, cancelAmount: input.amountKrw, cancelReason: input.reason.slice(0, 200), idempotencyKey: input.refundId });
  } catch (error) {
    if (error instanceof GatewayError && !(error instanceof GatewayTimeout)) {
      throw new PaymentGatewayError('payment.refund_refused', error.message, { paymentId: input.paymentId, providerCode: error.code });
    }
    throw error; // timeout: unknown outcome, retry with the same refundId (idempotent at the gateway)
  }
  return paymentCommand(deps, input.paymentId, command, meta);
}
