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
 *     { paymentId, reservationId, clinicId, orderId, amountKrw, vatKrw, state, lastDecline, capturedKrw, refundedKrw }
 *     state: 'payable'  — waiting for a card (also after a declined attempt: pay again);
 *            'pending'  — the gateway decided an attempt we have not recorded yet (a confirm that
 *                         timed out): show "checking with the card company"; reconciliation settles it;
 *            'paid'     — captured (refundedKrw > 0 once refunded);
 *            'closed'   — failed: the payment deadline passed (reservation cancelled) or an admin resolved it.
 *     lastDecline: { code, message } of the newest declined attempt (the gateway's code and text), or null.
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
 *     { checked, captured, declined, failed, pending, stuck }; options.sql defaults to the web server's database.
 *     Runs the reconciliation over the payments whose outcome is not recorded and that are due for
 *     a check (what the worker's timer does every 30 s); `{ all: true }` checks every waiting one
 *     now, due or not (the admin's "check now"). The e2e tests trigger it through the admin page's
 *     "check pending payments now" (app/actions/admin-payments.ts `reconcileNowAction`, /admin/payments)
 *     or call it directly with a clock past the first check's delay (2 min after the request).
 *
 * retryStuckPayment / resolveStuckPayment(deps, { paymentId[, note] }, meta)   (admin only)
 *     The payments the reconciliation parked (after 30 checks without an outcome, or a refusal):
 *     retry asks the gateway now; resolve records a charge if the gateway has one, else closes the
 *     payment (PaymentFailed, the admin as actor, the note as reason).
 *
 * PaymentOutcome = { paymentId, outcome: 'captured' | 'declined' | 'pending' | 'payable' | 'failed', position, state }
 * Error codes of this file (ko/en messages in domain-errors.json): PAYMENT_ERROR_CODES below.
 */
import type postgres from 'postgres';
import { InvalidTransitionError, NotFoundError, payment, streams } from '../domain';
import { AmountMismatchError } from '../domain/payment';
import type { ActivePayment, PaymentCommand, PaymentEvent, PaymentState } from '../domain/payment';
import {
  AlreadyProcessed,
  GatewayTimeout,
  InvalidCard,
  PaymentDeclined,
  PaymentNotFound,
  PaymentGatewayError as GatewayError,
  type Payment as GatewayPayment,
  type PaymentGateway,
} from '../payments/gateway';
import type { AuthorizeInput, Authorization } from '../payments/sandbox';
import { dropPending, duePendingPayments, gatewayView, PAYMENT_CHECK_DELAY_MS, pendingPayment, recordCheck, trackPayment, unpark, type GatewayView } from '../payments/reconciliation';
import { appDatabase } from '../db/client';
import type { Position } from '../eventstore';
import { actingStaffId, authorize, authorizeOn, type WriterRole } from './authorize';
import { nowOf, run, type CommandDeps } from './deps';
import { PaymentGatewayError } from './errors';
import { laterPosition, loadStream, type CommandResult } from './handle';
import { derivedId, subCommand, type CommandMetadata } from './metadata';

export type PaymentResult = CommandResult<PaymentEvent, PaymentState>;

/** The refusal codes this file throws (PaymentGatewayError, a DomainError): each has a ko/en message in domain-errors.json. */
export const PAYMENT_ERROR_CODES = [
  'payment.declined',
  'payment.pending',
  'payment.not_payable',
  'payment.already_paid',
  'payment.invalid_card',
  'payment.gateway_refused',
  'payment.not_refundable',
  'payment.refund_refused',
  'payment.not_stuck',
] as const;

/** Desk and back office: the low-level payment commands (the process managers act as the system). */
const BACK_OFFICE: readonly WriterRole[] = ['staff', 'admin'];
/** The checkout: the paying patient (their own payment only), their clinic's staff, an admin. */
const CHECKOUT: readonly WriterRole[] = ['patient', 'staff', 'admin'];
const ADMIN: readonly WriterRole[] = ['admin'];

const subjectOf = (s: PaymentState) => (s.status === 'none' ? null : { clinicId: s.clinicId, patientId: s.patientId });

/** One command on payment-<id>, after the policy step (a new payment: the input's clinic and patient; else the stream's). */
export async function paymentCommand(deps: CommandDeps, paymentId: string, command: PaymentCommand, meta: CommandMetadata, allow: readonly WriterRole[] = BACK_OFFICE): Promise<PaymentResult> {
  if (command.type === 'RequestPayment') authorize(meta, command.type, { clinicId: command.clinicId, patientId: command.patientId }, allow);
  return run(deps, payment.paymentDecider, streams.payment(paymentId), command, meta, undefined, authorizeOn(meta, command.type, allow, subjectOf));
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
/** At discharge, part of a captured deposit pays the visit's bill (process managers only: docs/payments.md, "VAT"). */
export const applyDeposit = (deps: CommandDeps, { paymentId, ...input }: { paymentId: string } & Input<'ApplyDeposit'>, meta: CommandMetadata) =>
  paymentCommand(deps, paymentId, { type: 'ApplyDeposit', ...input }, meta, []);

/** The deposit payment of a reservation; `attempt` only for the extra payments of older flows (a re-request after a failure). */
export const depositPaymentId = (reservationId: string, attempt?: string) =>
  attempt === undefined ? derivedId('deposit', reservationId) : derivedId('deposit', reservationId, attempt);

/** The bill of a visit's discharge: the first discharge's keeps the original id; an amendment (n ≥ 1) has its own. */
export const billPaymentId = (visitId: string, amendment = 0) =>
  amendment === 0 ? derivedId('bill', visitId) : derivedId('bill', visitId, `amendment-${amendment}`);

/** The gateway order of a payment: the payment id itself when the gateway accepts it as an order id. */
export const orderIdOf = (paymentId: string) => (/^[A-Za-z0-9_-]{6,64}$/.test(paymentId) ? paymentId : derivedId('order', paymentId));

/** The idempotency key of the gateway cancel that voids a stray charge: one per charge, whoever sees it first. */
export const voidIdOf = (paymentKey: string) => derivedId('void', paymentKey);

function gatewayOf(deps: CommandDeps): { gateway: PaymentGateway; provider: string } {
  if (!deps.payments) throw new Error('this command needs deps.payments (the payment gateway)');
  return deps.payments;
}

const isCharged = (p: GatewayPayment) => p.status === 'DONE' || p.status === 'PARTIAL_CANCELED' || p.status === 'CANCELED';
const isOpen = (p: ActivePayment) => p.status === 'requested' || p.status === 'authorized';

/** Loads a payment and runs the policy step on it (NotFoundError before anything is shown or charged). */
async function loadPayment(deps: CommandDeps, paymentId: string, meta: CommandMetadata, command: string, allow: readonly WriterRole[]) {
  const loaded = await loadStream(deps.store, payment.paymentDecider, streams.payment(paymentId));
  if (loaded.state.status === 'none') throw new NotFoundError('payment', { paymentId });
  const state = loaded.state as ActivePayment;
  authorize(meta, command, { clinicId: state.clinicId, patientId: state.patientId }, allow);
  return { loaded, state };
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
  /**
   * captured: the payment is paid (this charge, or an earlier one); declined: this attempt was
   * declined and recorded, the payment is still payable; pending: the gateway's outcome is not
   * known or not recorded yet; payable: nothing was charged; failed: the payment is closed.
   */
  readonly outcome: 'captured' | 'declined' | 'pending' | 'payable' | 'failed';
  readonly position: Position | null;
  readonly state: PaymentState;
}

/**
 * Cancels at the gateway, in full, a charge that landed where nothing is owed (the payment failed,
 * or another charge settled it), then records it. The cancel's idempotency key derives from the
 * charge, so a retry, a second tab or the reconciliation seeing the same charge cancel it once.
 */
async function voidCharge(deps: CommandDeps, state: ActivePayment, gw: GatewayPayment, meta: CommandMetadata): Promise<Position | null> {
  const { gateway } = gatewayOf(deps);
  if (state.voidedRefs.includes(gw.paymentKey)) return null;
  const voidId = voidIdOf(gw.paymentKey);
  const reason = state.status === 'failed' ? 'Charged on a payment that was already closed' : 'Charged twice for one payment: the second charge';
  if (gw.balanceAmount > 0) {
    try {
      await gateway.cancel({ paymentKey: gw.paymentKey, cancelReason: reason, idempotencyKey: voidId });
    } catch (error) {
      // Timeout: unknown outcome, retried with the same key. Refused: a person must look (parked by the caller).
      if (error instanceof GatewayError && !(error instanceof GatewayTimeout)) {
        throw new PaymentGatewayError('payment.refund_refused', error.message, { paymentId: state.paymentId, providerCode: error.code });
      }
      throw error;
    }
  }
  const voided = await paymentCommand(
    deps,
    state.paymentId,
    { type: 'VoidCharge', providerRef: gw.paymentKey, amountKrw: gw.totalAmount, voidId, reason },
    subCommand(meta, `void:${gw.paymentKey}`),
    CHECKOUT,
  );
  return voided.position;
}

/**
 * Records what the gateway says about one attempt of a payment (the caller has authorised the
 * actor): charged → AuthorizePayment + CapturePayment, unless the payment already failed or another
 * charge settled it — then the charge is voided (cancelled at the gateway, PaymentChargeVoided);
 * declined → PaymentAttemptDeclined (the payment stays payable); in progress → nothing.
 * Each step is idempotent (`<commandId>/authorize`…, one decline and one void per paymentKey).
 */
export async function recordGatewayOutcome(deps: CommandDeps, paymentId: string, gw: GatewayPayment, meta: CommandMetadata, settleAttempts = 3): Promise<PaymentOutcome> {
  try {
    return await recordGatewayOutcomeOnce(deps, paymentId, gw, meta);
  } catch (error) {
    // Another confirmation of the same payment (a second tab) recorded its outcome between our read
    // and our append: decide again on what is recorded now ("recorded before", or void a second charge).
    if (error instanceof InvalidTransitionError && settleAttempts > 1) return recordGatewayOutcome(deps, paymentId, gw, meta, settleAttempts - 1);
    throw error;
  }
}

async function recordGatewayOutcomeOnce(deps: CommandDeps, paymentId: string, gw: GatewayPayment, meta: CommandMetadata): Promise<PaymentOutcome> {
  const { provider } = gatewayOf(deps);
  const loaded = await loadStream(deps.store, payment.paymentDecider, streams.payment(paymentId));
  if (loaded.state.status === 'none') throw new NotFoundError('payment', { paymentId });
  const state = loaded.state as ActivePayment;
  if (gw.orderId !== orderIdOf(paymentId)) throw new Error(`gateway payment ${gw.paymentKey} belongs to order ${gw.orderId}, not to payment ${paymentId}`);

  if (isCharged(gw)) {
    const keeps = state.status === 'requested' || (state.status === 'authorized' && state.providerRef === gw.paymentKey);
    if (!keeps) {
      if (state.providerRef === gw.paymentKey) return { paymentId, outcome: 'captured', position: null, state }; // recorded before
      // Nothing is owed on this payment any more: the money goes straight back.
      const position = await voidCharge(deps, state, gw, meta);
      const after = (await loadStream(deps.store, payment.paymentDecider, streams.payment(paymentId))).state;
      return { paymentId, outcome: state.status === 'failed' ? 'failed' : 'captured', position, state: after };
    }
    let position: Position | null = null;
    let after: PaymentState = state;
    if (state.status === 'requested') {
      const authorized = await paymentCommand(
        deps,
        paymentId,
        { type: 'AuthorizePayment', provider, providerRef: gw.paymentKey, amountKrw: gw.totalAmount },
        subCommand(meta, `authorize:${gw.paymentKey}`),
        CHECKOUT,
      );
      position = authorized.position;
      after = authorized.state;
    }
    if (after.status === 'authorized') {
      const captured = await paymentCommand(deps, paymentId, { type: 'CapturePayment', amountKrw: gw.totalAmount }, subCommand(meta, `capture:${gw.paymentKey}`), CHECKOUT);
      position = laterPosition(position, captured.position);
      after = captured.state;
    }
    return { paymentId, outcome: 'captured', position, state: after };
  }
  if (gw.status === 'ABORTED') {
    if (state.declinedRefs.includes(gw.paymentKey)) return { paymentId, outcome: isOpen(state) ? 'declined' : settledOutcome(state), position: null, state };
    const declined = await paymentCommand(
      deps,
      paymentId,
      {
        type: 'DeclineAttempt',
        providerRef: gw.paymentKey,
        reason: (gw.failure?.message ?? 'declined by the payment gateway').slice(0, 1000),
        ...(gw.failure ? { providerCode: gw.failure.code } : {}),
      },
      subCommand(meta, `decline:${gw.paymentKey}`),
      CHECKOUT,
    );
    return { paymentId, outcome: isOpen(state) ? 'declined' : settledOutcome(state), position: declined.position, state: declined.state };
  }
  return { paymentId, outcome: isOpen(state) ? 'pending' : settledOutcome(state), position: null, state };
}

const settledOutcome = (p: ActivePayment): PaymentOutcome['outcome'] => (p.status === 'failed' ? 'failed' : isOpen(p) ? 'payable' : 'captured');

export interface DepositCheckout {
  readonly paymentId: string;
  readonly reservationId: string | null;
  readonly clinicId: string;
  readonly orderId: string;
  readonly amountKrw: number;
  readonly vatKrw: number;
  /** payable (also after a declined attempt) · pending (an attempt is being checked) · paid · closed (failed: deadline, admin). */
  readonly state: 'payable' | 'pending' | 'paid' | 'closed';
  readonly lastDecline: { readonly code: string | null; readonly message: string } | null;
  readonly capturedKrw: number;
  readonly refundedKrw: number;
}

/** The gateway decided an attempt of this order that our stream does not show yet (a confirm whose answer was lost). */
function undecidedAttempt(state: ActivePayment, gw: GatewayPayment | null): boolean {
  if (!gw) return false;
  if (isCharged(gw)) return gw.paymentKey !== state.providerRef && !state.voidedRefs.includes(gw.paymentKey);
  return gw.status === 'ABORTED' && !state.declinedRefs.includes(gw.paymentKey);
}

/** What the checkout page shows (see the top of this file). Fresh from the stream, plus the gateway's view of an open payment. */
export async function depositCheckout(deps: CommandDeps, paymentId: string, meta: CommandMetadata): Promise<DepositCheckout> {
  const { state } = await loadPayment(deps, paymentId, meta, 'ViewCheckout', CHECKOUT);
  let view: DepositCheckout['state'];
  if (state.status === 'failed') view = 'closed';
  else if (!isOpen(state)) view = 'paid';
  else if (state.status === 'authorized') view = 'pending';
  else {
    let gw: GatewayPayment | null = null;
    try {
      gw = await gatewayOf(deps).gateway.getPaymentByOrderId(orderIdOf(paymentId));
    } catch {
      gw = null; // cannot ask now: what we recorded is all we know
    }
    view = undecidedAttempt(state, gw) ? 'pending' : 'payable';
  }
  return {
    paymentId,
    reservationId: state.reservationId,
    clinicId: state.clinicId,
    orderId: orderIdOf(paymentId),
    amountKrw: state.amountKrw,
    // What was recorded: a deposit is an advance with no VAT of its own until it is applied to a bill (docs/payments.md).
    vatKrw: state.vatKrw,
    state: view,
    lastDecline: state.lastDecline ? { code: state.lastDecline.providerCode, message: state.lastDecline.reason } : null,
    capturedKrw: state.capturedKrw,
    refundedKrw: state.refundedKrw,
  };
}

export interface StartAttemptInput {
  paymentId: string;
  /** A sandbox test card (docs/payments.md); spaces and dashes allowed. */
  cardNumber: string;
}

/**
 * The sandbox's hosted payment window, server side: authorizes a test card on the payment's order
 * (nothing charged yet) and returns what the PG's success redirect carries. A real PG does this in
 * its own window in the browser; this function exists for the sandbox only.
 */
export async function startDepositAttempt(deps: CommandDeps, input: StartAttemptInput, meta: CommandMetadata): Promise<Authorization> {
  const { gateway } = gatewayOf(deps);
  const sandbox = gateway as PaymentGateway & { authorize?: (i: AuthorizeInput) => Promise<Authorization> };
  if (typeof sandbox.authorize !== 'function') throw new Error('startDepositAttempt needs the sandbox gateway: a real PG authorizes in its own window');
  const { state } = await loadPayment(deps, input.paymentId, meta, 'StartPaymentAttempt', CHECKOUT);
  if (!isOpen(state)) throw new PaymentGatewayError('payment.not_payable', 'this payment can no longer be paid', { paymentId: input.paymentId, status: state.status });
  const orderId = orderIdOf(input.paymentId);
  let latest: GatewayPayment | null = null;
  try {
    latest = await gateway.getPaymentByOrderId(orderId);
  } catch {
    latest = null;
  }
  if (state.status === 'authorized' || undecidedAttempt(state, latest)) {
    throw new PaymentGatewayError('payment.pending', 'the payment provider has not confirmed an earlier attempt yet', { paymentId: input.paymentId });
  }
  try {
    return await sandbox.authorize({ orderId, amount: state.amountKrw, cardNumber: input.cardNumber });
  } catch (error) {
    if (error instanceof InvalidCard) throw new PaymentGatewayError('payment.invalid_card', error.message, { paymentId: input.paymentId });
    if (error instanceof AlreadyProcessed) {
      // Another tab paid the order a moment ago: record it now.
      const paid = await gateway.getPaymentByOrderId(orderId);
      if (paid) await recordGatewayOutcome(deps, input.paymentId, paid, meta);
      throw new PaymentGatewayError('payment.already_paid', 'this payment has been paid', { paymentId: input.paymentId });
    }
    if (error instanceof GatewayError) throw new PaymentGatewayError('payment.gateway_refused', error.message, { paymentId: input.paymentId, providerCode: error.code });
    throw error;
  }
}

export interface ConfirmDepositInput {
  /** What the checkout's success redirect carries. */
  paymentKey: string;
  orderId: string;
  amount: number;
}

/**
 * The server side of the checkout's success URL: confirm the authorized attempt at the gateway and
 * record it. The gateway checks the amount against the order; we check it against the payment first.
 * Declined → PaymentAttemptDeclined recorded, then `payment.declined` (the payment stays payable).
 * Timeout → nothing recorded, `payment.pending`: the reconciliation asks the gateway and records the
 * outcome (the checkout reads 'pending' meanwhile).
 */
export async function confirmDeposit(deps: CommandDeps, input: ConfirmDepositInput, meta: CommandMetadata): Promise<PaymentOutcome> {
  const { gateway } = gatewayOf(deps);
  const paymentId = input.orderId;
  const { state } = await loadPayment(deps, paymentId, meta, 'ConfirmDeposit', CHECKOUT);
  if (state.providerRef === input.paymentKey && !isOpen(state)) return { paymentId, outcome: 'captured', position: null, state }; // confirmed before
  if (state.declinedRefs.includes(input.paymentKey)) {
    throw new PaymentGatewayError('payment.declined', 'the card was declined', { paymentId, providerCode: state.lastDecline?.providerCode ?? null });
  }
  if (state.status === 'failed') throw new PaymentGatewayError('payment.not_payable', 'this payment can no longer be paid', { paymentId, status: state.status });
  // Paid by another attempt (another tab): this attempt is not confirmed, so it is never charged.
  if (!isOpen(state)) return { paymentId, outcome: 'captured', position: null, state };
  if (input.amount !== state.amountKrw) throw new AmountMismatchError({ requestedKrw: state.amountKrw, authorizedKrw: input.amount });

  let gw: GatewayPayment;
  try {
    gw = await gateway.confirm({ paymentKey: input.paymentKey, orderId: orderIdOf(paymentId), amount: input.amount });
  } catch (error) {
    if (error instanceof PaymentDeclined) {
      await paymentCommand(
        deps,
        paymentId,
        { type: 'DeclineAttempt', providerRef: input.paymentKey, reason: error.message.slice(0, 1000), providerCode: error.code },
        subCommand(meta, `decline:${input.paymentKey}`),
        CHECKOUT,
      );
      throw new PaymentGatewayError('payment.declined', 'the card was declined', { paymentId, providerCode: error.code });
    }
    if (error instanceof GatewayTimeout) {
      // Unknown outcome: record nothing; the reconciliation finds out (docs/payments.md, "The unknown outcome").
      throw new PaymentGatewayError('payment.pending', 'the payment provider has not confirmed the payment yet', { paymentId });
    }
    if (error instanceof AlreadyProcessed) {
      // Paid by another attempt of the same order (another tab): record that one.
      let paid: GatewayPayment | null = null;
      try {
        paid = await gateway.getPaymentByOrderId(orderIdOf(paymentId));
      } catch {
        paid = null;
      }
      const outcome = paid ? await recordGatewayOutcome(deps, paymentId, paid, meta) : null;
      if (outcome?.outcome === 'captured') return outcome;
      throw new PaymentGatewayError('payment.pending', 'the payment provider has not confirmed the payment yet', { paymentId });
    }
    if (error instanceof GatewayError) {
      throw new PaymentGatewayError('payment.gateway_refused', error.message, { paymentId, providerCode: error.code });
    }
    throw error;
  }
  const outcome = await recordGatewayOutcome(deps, paymentId, gw, meta);
  if (outcome.outcome === 'failed') {
    // The payment closed while this attempt was at the gateway: its charge was cancelled at once.
    throw new PaymentGatewayError('payment.not_payable', 'this payment can no longer be paid; the charge was cancelled', { paymentId, voided: true });
  }
  return outcome;
}

export interface RecordFailureInput {
  paymentId: string;
  /** From the failure URL when the PG had created an attempt; absent when the window was just closed. */
  paymentKey?: string;
  /** What the failure URL says (shown, never trusted): the gateway is asked. */
  code?: string;
  message?: string;
}

/**
 * The server side of the checkout's failure URL. The URL's parameters are the client's: nothing is
 * recorded from them. With a paymentKey the gateway is asked and its answer recorded (a declined
 * attempt; or a charge, when the redirect lied or raced). The payment stays payable after a decline.
 */
export async function recordDepositFailure(deps: CommandDeps, input: RecordFailureInput, meta: CommandMetadata): Promise<PaymentOutcome> {
  const { gateway } = gatewayOf(deps);
  const { state } = await loadPayment(deps, input.paymentId, meta, 'RecordPaymentFailure', CHECKOUT);
  if (!input.paymentKey) return { paymentId: input.paymentId, outcome: settledOutcome(state), position: null, state };
  let gw: GatewayPayment;
  try {
    gw = await gateway.getPayment(input.paymentKey);
  } catch (error) {
    if (error instanceof PaymentNotFound) return { paymentId: input.paymentId, outcome: settledOutcome(state), position: null, state };
    if (error instanceof GatewayTimeout) return { paymentId: input.paymentId, outcome: isOpen(state) ? 'pending' : settledOutcome(state), position: null, state };
    throw error;
  }
  if (gw.orderId !== orderIdOf(input.paymentId)) {
    throw new PaymentGatewayError('payment.gateway_refused', 'this attempt belongs to another payment', { paymentId: input.paymentId });
  }
  const outcome = await recordGatewayOutcome(deps, input.paymentId, gw, meta);
  // In progress: the window was left before confirming; nothing was charged.
  return outcome.outcome === 'pending' ? { ...outcome, outcome: 'payable' } : outcome;
}

// ── Reconciliation ──────────────────────────────────────────────────────────────────────────────

/**
 * Asks the gateway about one payment and records the outcome (the reconciliation's command).
 * An open payment: what the gateway decided (capture, declined attempt). A closed (failed) one: a
 * charge that still landed on it is voided. 'pending' when the gateway cannot say yet.
 */
export async function reconcilePayment(deps: CommandDeps, paymentId: string, meta: CommandMetadata): Promise<PaymentOutcome & { gateway: GatewayView | null }> {
  const { gateway } = gatewayOf(deps);
  const { state } = await loadPayment(deps, paymentId, meta, 'ReconcilePayment', BACK_OFFICE);
  if (!isOpen(state) && state.status !== 'failed') return { paymentId, outcome: 'captured', position: null, state, gateway: null };
  const gw = await gateway.getPaymentByOrderId(orderIdOf(paymentId));
  if (!gw) return { paymentId, outcome: isOpen(state) ? 'pending' : 'failed', position: null, state, gateway: null };
  return { ...(await recordGatewayOutcome(deps, paymentId, gw, meta)), gateway: gatewayView(gw) };
}

export interface ReconcileResult {
  checked: number;
  captured: number;
  declined: number;
  failed: number;
  pending: number;
  /** Parked for a person (admin payments page) during this run. */
  stuck: number;
}

export interface ReconcileOptions {
  /** The database holding pm_pending_payments (default: the web server's). */
  sql?: postgres.Sql;
  /** After this many checks without an outcome, a payment is parked for a person (default 30). */
  maxChecks?: number;
  /** Each failed check, for logging. */
  onError?: (error: unknown, paymentId: string) => void;
  /** Check every waiting payment now, not only those due (an admin's "check now"). */
  all?: boolean;
}

const nextCheck = (now: Date, checks: number) => new Date(now.getTime() + Math.min(3_600_000, 60_000 * 2 ** checks));

/**
 * Runs the reconciliation over every payment whose outcome is not recorded yet and is due for a
 * check (the process managers' timer calls it every 30 s; an admin can run it now). A payment that
 * stays unknown is asked again with a growing pause; after `maxChecks`, or on a refusal that will not
 * change by asking again, it is parked for a person — never dropped.
 */
export async function reconcilePendingPayments(deps: CommandDeps, meta: CommandMetadata, options: ReconcileOptions = {}): Promise<ReconcileResult> {
  authorize(meta, 'ReconcilePayments', {}, ADMIN);
  const sql = options.sql ?? appDatabase().sql;
  const maxChecks = options.maxChecks ?? 30;
  const result: ReconcileResult = { checked: 0, captured: 0, declined: 0, failed: 0, pending: 0, stuck: 0 };
  if (!deps.payments) return result;
  const now = nowOf(deps);
  for (const row of await duePendingPayments(sql, now, 100, options.all ?? false)) {
    result.checked += 1;
    let outcome: PaymentOutcome['outcome'] = 'pending';
    let seen: GatewayView | null = null;
    let state: PaymentState | null = null;
    let failure: unknown = null;
    try {
      const reconciled = await reconcilePayment(deps, row.paymentId, subCommand(meta, `reconcile:${row.paymentId}:${row.checks}`));
      outcome = reconciled.outcome;
      seen = reconciled.gateway;
      state = reconciled.state;
    } catch (error) {
      failure = error;
      options.onError?.(error, row.paymentId);
    }
    if (outcome === 'captured' || outcome === 'failed') {
      result[outcome] += 1;
      await dropPending(sql, row.paymentId);
      continue;
    }
    if (outcome === 'declined' || outcome === 'payable') result.declined += 1;
    // A bill's desk attempt was declined (or never charged): nothing is in doubt; the desk collects it.
    if ((outcome === 'declined' || outcome === 'payable') && state?.status !== 'none' && state?.purpose === 'bill') {
      await dropPending(sql, row.paymentId);
      continue;
    }
    else result.pending += 1;
    // A refusal by the domain or the gateway will not change by asking again: a person looks at it now.
    const park = isRefusal(failure) || row.checks + 1 >= maxChecks;
    if (park) result.stuck += 1;
    await recordCheck(sql, row.paymentId, {
      now,
      gateway: seen,
      error: failure === null ? null : failure instanceof Error ? failure.message.slice(0, 1000) : String(failure).slice(0, 1000),
      nextCheckAt: park ? null : nextCheck(now, row.checks),
    });
  }
  return result;
}

/** A DomainError (the domain or our gateway mapping refused): asking again gives the same answer. */
function isRefusal(error: unknown): boolean {
  return error instanceof PaymentGatewayError || error instanceof NotFoundError || error instanceof InvalidTransitionError || error instanceof AmountMismatchError;
}

/** Admin: ask the gateway about a parked payment now. Settled → recorded and off the list; still unknown → back on the timer's list. */
export async function retryStuckPayment(deps: CommandDeps, input: { paymentId: string }, meta: CommandMetadata, options: { sql?: postgres.Sql } = {}): Promise<PaymentOutcome> {
  authorize(meta, 'RetryStuckPayment', {}, ADMIN);
  const sql = options.sql ?? appDatabase().sql;
  const row = await pendingPayment(sql, input.paymentId);
  if (!row) throw new PaymentGatewayError('payment.not_stuck', 'this payment is not waiting for reconciliation', { paymentId: input.paymentId });
  const now = nowOf(deps);
  try {
    const reconciled = await reconcilePayment(deps, input.paymentId, meta);
    if (reconciled.outcome === 'captured' || reconciled.outcome === 'failed') {
      await dropPending(sql, input.paymentId);
      return reconciled;
    }
    await recordCheck(sql, input.paymentId, { now, gateway: reconciled.gateway, error: null, nextCheckAt: nextCheck(now, 0) });
    await unpark(sql, input.paymentId, nextCheck(now, 0));
    return reconciled;
  } catch (error) {
    await recordCheck(sql, input.paymentId, { now, gateway: null, error: error instanceof Error ? error.message.slice(0, 1000) : String(error), nextCheckAt: null });
    throw error;
  }
}

/**
 * Admin: a person decides a parked payment. What the gateway knows is recorded first (a charge is
 * never closed away); if it still shows no charge, the payment is closed (PaymentFailed, the admin as
 * actor, their note as the reason) — a charge landing on it later is voided. Off the list either way.
 */
export async function resolveStuckPayment(
  deps: CommandDeps,
  input: { paymentId: string; note: string },
  meta: CommandMetadata,
  options: { sql?: postgres.Sql } = {},
): Promise<PaymentOutcome> {
  authorize(meta, 'ResolveStuckPayment', {}, ADMIN);
  const sql = options.sql ?? appDatabase().sql;
  const row = await pendingPayment(sql, input.paymentId);
  if (!row) throw new PaymentGatewayError('payment.not_stuck', 'this payment is not waiting for reconciliation', { paymentId: input.paymentId });
  const reconciled = await reconcilePayment(deps, input.paymentId, subCommand(meta, 'reconcile'));
  if (reconciled.outcome === 'captured' || reconciled.outcome === 'failed') {
    await dropPending(sql, input.paymentId);
    return reconciled;
  }
  const failed = await paymentCommand(
    deps,
    input.paymentId,
    { type: 'FailPayment', reason: `Resolved by an administrator: ${input.note}`.slice(0, 1000), providerCode: 'RESOLVED_BY_ADMIN' },
    subCommand(meta, 'resolve'),
    ADMIN,
  );
  await dropPending(sql, input.paymentId);
  return { paymentId: input.paymentId, outcome: 'failed', position: failed.position, state: failed.state };
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
 * is the refundId, so a retry after a timeout or a crash never refunds twice. Staff of the clinic,
 * an admin, or the process managers.
 */
export async function refundPayment(deps: CommandDeps, input: RefundInput, meta: CommandMetadata): Promise<PaymentResult> {
  const { gateway } = gatewayOf(deps);
  const { loaded, state } = await loadPayment(deps, input.paymentId, meta, 'RefundPayment', BACK_OFFICE);
  const command: PaymentCommand = { type: 'RefundPayment', refundId: input.refundId, amountKrw: input.amountKrw, reason: input.reason };
  if (state.refundIds.includes(input.refundId)) return paymentCommand(deps, input.paymentId, command, meta); // recorded before: no-op
  // The same decision the stream will make, before any money moves.
  payment.paymentDecider.decide(command, loaded.state, { now: nowOf(deps) });
  // Paid in cash at the desk: the money is handed back there; there is no gateway charge to cancel.
  if (state.cash) return paymentCommand(deps, input.paymentId, command, meta);
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

// ── At the desk (issue 9, payments) ─────────────────────────────────────────────────────────────

/** The front desk only: staff of the payment's clinic (an admin does not stand at a clinic's desk). */
const DESK: readonly WriterRole[] = ['staff'];

/**
 * A bill paid in cash at the desk, in full: PaymentCollectedInCash with the acting staff member as
 * the taker (their own id only). No gateway: a later refund of it is handed back in cash.
 * Refusals: payment.amount_mismatch (not the whole bill), payment.cash_not_allowed (a deposit),
 * payment.invalid_transition (paid, closed, or a card attempt being charged).
 */
export async function collectCash(deps: CommandDeps, input: { paymentId: string; amountKrw: number; staffId: string }, meta: CommandMetadata): Promise<PaymentResult> {
  const staffId = actingStaffId(meta, 'CollectCash', 'staff', input.staffId) ?? input.staffId;
  return paymentCommand(deps, input.paymentId, { type: 'CollectCash', amountKrw: input.amountKrw, staffId }, meta, DESK);
}

/**
 * A bill paid by card at the desk through the gateway (the sandbox's test cards): the bill's gateway
 * order is created (the process managers request a bill without one), the card authorized and the
 * charge confirmed, exactly as the checkout does (confirmDeposit's rules: a decline fails only the
 * attempt, a timeout records nothing). A charge the gateway decided earlier without our record (a
 * desk attempt that timed out) is recorded first, so the desk is never stuck on it.
 *
 * The bill is on the reconciliation's worklist (pm_pending_payments) from before the card is charged
 * until the attempt's outcome is known, so a confirm whose answer is lost (a timeout, a crash) is
 * settled by the worker's timer like a deposit's, even if nobody at the desk tries again.
 */
export async function collectBillByCard(
  deps: CommandDeps,
  input: { paymentId: string; cardNumber: string },
  meta: CommandMetadata,
  options: { sql?: postgres.Sql; checkDelayMs?: number } = {},
): Promise<PaymentOutcome> {
  const { gateway } = gatewayOf(deps);
  const { state } = await loadPayment(deps, input.paymentId, meta, 'CollectBillByCard', DESK);
  if (state.purpose !== 'bill') throw new PaymentGatewayError('payment.not_payable', 'only a bill is paid at the desk', { paymentId: input.paymentId, purpose: state.purpose });
  if (!isOpen(state)) throw new PaymentGatewayError('payment.not_payable', 'this bill is not open', { paymentId: input.paymentId, status: state.status });
  const sql = options.sql ?? appDatabase().sql;
  const orderId = orderIdOf(input.paymentId);
  await gateway.createOrder({ orderId, orderName: 'Visit bill', amount: state.amountKrw });
  const earlier = await reconcilePayment(deps, input.paymentId, subCommand(meta, 'reconcile'));
  if (earlier.outcome === 'captured') {
    await dropPending(sql, input.paymentId);
    return earlier;
  }
  const now = nowOf(deps);
  // Kept if already there (an earlier attempt in doubt keeps its schedule).
  await trackPayment(sql, { paymentId: input.paymentId, orderId, requestedAt: now, nextCheckAt: new Date(now.getTime() + (options.checkDelayMs ?? PAYMENT_CHECK_DELAY_MS)) });
  try {
    const authorization = await startDepositAttempt(deps, { paymentId: input.paymentId, cardNumber: input.cardNumber }, subCommand(meta, 'attempt'));
    const outcome = await confirmDeposit(deps, authorization, subCommand(meta, 'confirm'));
    await dropPending(sql, input.paymentId);
    return outcome;
  } catch (error) {
    // A refusal with a known outcome (declined and recorded, not a test card, paid meanwhile) leaves
    // nothing in doubt; 'pending' and unexpected failures stay for the timer to settle.
    if (error instanceof PaymentGatewayError && error.code !== 'payment.pending') await dropPending(sql, input.paymentId);
    throw error;
  }
}
