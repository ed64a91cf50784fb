import { AlreadyExistsError, InvalidTransitionError, NotFoundError } from '../shared/errors';
import { vatPortion } from '../shared/money';
import type { PaymentCommand } from './commands';
import {
  AmountMismatchError,
  CaptureExceedsAuthorizationError,
  CashNotAllowedError,
  DepositNotApplicableError,
  PaymentSubjectMissingError,
  RefundExceedsCapturedError,
  VatExceedsAmountError,
} from './errors';
import { paymentEvent as ev, type PaymentEvent } from './events';
import { refundable, unapplied, type ActivePayment, type PaymentState, type PaymentStatus } from './state';

/** Payments need no outside facts; `now` is kept for symmetry with the other deciders. */
export interface PaymentContext {
  readonly now: Date;
}

function requireStatus(p: ActivePayment, action: string, allowed: readonly PaymentStatus[]): void {
  if (!allowed.includes(p.status)) {
    throw new InvalidTransitionError('payment', action, p.status, { paymentId: p.paymentId });
  }
}

export function decidePayment(command: PaymentCommand, state: PaymentState, _context: PaymentContext): PaymentEvent[] {
  if (command.type === 'RequestPayment') {
    const { type: _t, ...data } = command;
    if (state.status !== 'none') {
      const p = state as ActivePayment;
      if (p.amountKrw === data.amountKrw && p.purpose === data.purpose) return [];
      throw new AlreadyExistsError('payment', { paymentId: data.paymentId });
    }
    if ((data.purpose === 'deposit' && !data.reservationId) || (data.purpose === 'bill' && !data.visitId)) {
      throw new PaymentSubjectMissingError({ purpose: data.purpose });
    }
    // A deposit is an advance, not a sale (its VAT share comes with ApplyDeposit); a bill carries the
    // share of its sale's VAT the discharge computed per line (the old rounding of the amount otherwise).
    const vatKrw = data.purpose === 'deposit' ? 0 : (data.vatKrw ?? vatPortion(data.amountKrw));
    if (vatKrw > data.amountKrw) throw new VatExceedsAmountError({ amountKrw: data.amountKrw, vatKrw });
    return [ev('PaymentRequested', { ...data, vatKrw })];
  }
  if (state.status === 'none') throw new NotFoundError('payment');
  const p = state as ActivePayment;
  const paymentId = p.paymentId;
  switch (command.type) {
    case 'AuthorizePayment': {
      if (p.status === 'authorized' && p.providerRef === command.providerRef) return [];
      requireStatus(p, 'authorize', ['requested']);
      if (command.amountKrw !== p.amountKrw) {
        throw new AmountMismatchError({ requestedKrw: p.amountKrw, authorizedKrw: command.amountKrw });
      }
      return [ev('PaymentAuthorized', { paymentId, provider: command.provider, providerRef: command.providerRef, amountKrw: command.amountKrw })];
    }
    case 'CapturePayment': {
      if (p.status === 'captured' && (command.amountKrw === undefined || command.amountKrw === p.capturedKrw)) return [];
      requireStatus(p, 'capture', ['authorized']);
      const amountKrw = command.amountKrw ?? p.authorizedKrw;
      if (amountKrw > p.authorizedKrw) {
        throw new CaptureExceedsAuthorizationError({ authorizedKrw: p.authorizedKrw, amountKrw });
      }
      return [ev('PaymentCaptured', { paymentId, amountKrw })];
    }
    case 'RefundPayment': {
      if (p.refundIds.includes(command.refundId)) return [];
      requireStatus(p, 'refund', ['captured', 'partially-refunded']);
      // A deposit's part applied to a bill paid a sale: it is no longer the deposit's to give back.
      const refundableKrw = p.purpose === 'deposit' ? unapplied(p) : refundable(p);
      if (command.amountKrw > refundableKrw) {
        throw new RefundExceedsCapturedError({
          capturedKrw: p.capturedKrw,
          refundedKrw: p.refundedKrw,
          refundableKrw,
          amountKrw: command.amountKrw,
          ...(p.applied ? { appliedKrw: p.applied.amountKrw } : {}),
        });
      }
      const refundedKrw = p.refundedKrw + command.amountKrw;
      return [
        ev('PaymentRefunded', {
          paymentId,
          refundId: command.refundId,
          amountKrw: command.amountKrw,
          reason: command.reason,
          refundedKrw,
          full: refundedKrw === p.capturedKrw,
        }),
      ];
    }
    case 'DeclineAttempt': {
      if (p.declinedRefs.includes(command.providerRef)) return [];
      // The attempt the payment was paid with cannot have been declined.
      if (p.providerRef === command.providerRef) throw new InvalidTransitionError('payment', 'decline the attempt that paid', p.status, { paymentId });
      return [
        ev('PaymentAttemptDeclined', {
          paymentId,
          providerRef: command.providerRef,
          reason: command.reason,
          ...(command.providerCode === undefined ? {} : { providerCode: command.providerCode }),
        }),
      ];
    }
    case 'VoidCharge': {
      if (p.voidedRefs.includes(command.providerRef)) return [];
      // The charge this payment keeps is refunded (RefundPayment), never voided.
      if (p.providerRef === command.providerRef && p.status !== 'requested' && p.status !== 'failed') {
        throw new InvalidTransitionError('payment', 'void the charge it keeps', p.status, { paymentId });
      }
      const { type: _t, ...data } = command;
      return [ev('PaymentChargeVoided', { paymentId, ...data })];
    }
    case 'ApplyDeposit': {
      if (p.applied?.visitId === command.visitId && p.applied.amountKrw === command.amountKrw && p.applied.vatKrw === command.vatKrw) return [];
      const applicable = p.purpose === 'deposit' && p.applied === null && (p.status === 'captured' || p.status === 'partially-refunded');
      if (!applicable || command.amountKrw > unapplied(p) || command.vatKrw > command.amountKrw) {
        throw new DepositNotApplicableError({
          paymentId,
          purpose: p.purpose,
          status: p.status,
          availableKrw: unapplied(p),
          amountKrw: command.amountKrw,
          ...(p.applied ? { appliedToVisitId: p.applied.visitId } : {}),
        });
      }
      return [ev('DepositApplied', { paymentId, visitId: command.visitId, amountKrw: command.amountKrw, vatKrw: command.vatKrw })];
    }
    case 'CollectCash': {
      if (p.cash && p.capturedKrw === command.amountKrw) return [];
      if (p.purpose !== 'bill') throw new CashNotAllowedError({ paymentId, purpose: p.purpose });
      // Open only: an authorized card attempt is being charged; a paid or closed bill is not owed.
      requireStatus(p, 'collect cash for', ['requested']);
      // The whole bill: the desk hands no change back through the ledger.
      if (command.amountKrw !== p.amountKrw) throw new AmountMismatchError({ requestedKrw: p.amountKrw, authorizedKrw: command.amountKrw });
      return [ev('PaymentCollectedInCash', { paymentId, amountKrw: command.amountKrw, staffId: command.staffId })];
    }
    case 'FailPayment': {
      if (p.status === 'failed') return [];
      requireStatus(p, 'fail', ['requested', 'authorized']);
      return [
        ev('PaymentFailed', {
          paymentId,
          stage: p.status === 'requested' ? 'authorization' : 'capture',
          reason: command.reason,
          ...(command.providerCode === undefined ? {} : { providerCode: command.providerCode }),
        }),
      ];
    }
  }
}
