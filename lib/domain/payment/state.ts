import type { PaymentEvent, PaymentPurpose } from './events';

export type PaymentStatus = 'requested' | 'authorized' | 'captured' | 'partially-refunded' | 'refunded' | 'failed';

export interface ActivePayment {
  readonly status: PaymentStatus;
  readonly paymentId: string;
  readonly clinicId: string;
  readonly patientId: string;
  readonly purpose: PaymentPurpose;
  readonly reservationId: string | null;
  readonly visitId: string | null;
  readonly amountKrw: number;
  readonly authorizedKrw: number;
  readonly providerRef: string | null;
  readonly capturedKrw: number;
  readonly refundedKrw: number;
  readonly refundIds: readonly string[];
  /** Attempts (gateway paymentKeys) declined; the payment stayed payable. */
  readonly declinedRefs: readonly string[];
  readonly lastDecline: { readonly providerRef: string; readonly reason: string; readonly providerCode: string | null } | null;
  /** Charges cancelled at the gateway because nothing was owed (PaymentChargeVoided). */
  readonly voidedRefs: readonly string[];
  /** The VAT this payment settles (a deposit: its applied share, once applied). */
  readonly vatKrw: number;
  /** A deposit applied to a visit's bill (DepositApplied), or null. */
  readonly applied: { readonly visitId: string; readonly amountKrw: number; readonly vatKrw: number } | null;
  /** Paid in cash at the desk (PaymentCollectedInCash): refunds are handed back in cash, not through the gateway. */
  readonly cash: boolean;
}

export type PaymentState = { readonly status: 'none' } | ActivePayment;

export const initialPaymentState = (): PaymentState => ({ status: 'none' });

export function evolvePayment(state: PaymentState, event: PaymentEvent): PaymentState {
  if (event.type === 'PaymentRequested') {
    const d = event.data;
    return {
      status: 'requested',
      paymentId: d.paymentId,
      clinicId: d.clinicId,
      patientId: d.patientId,
      purpose: d.purpose,
      reservationId: d.reservationId ?? null,
      visitId: d.visitId ?? null,
      amountKrw: d.amountKrw,
      authorizedKrw: 0,
      providerRef: null,
      capturedKrw: 0,
      refundedKrw: 0,
      refundIds: [],
      declinedRefs: [],
      lastDecline: null,
      voidedRefs: [],
      vatKrw: d.vatKrw,
      applied: null,
      cash: false,
    };
  }
  if (state.status === 'none') return state;
  const s = state as ActivePayment;
  switch (event.type) {
    case 'PaymentAuthorized':
      return { ...s, status: 'authorized', authorizedKrw: event.data.amountKrw, providerRef: event.data.providerRef };
    case 'PaymentCaptured':
      return { ...s, status: 'captured', capturedKrw: s.capturedKrw + event.data.amountKrw };
    case 'PaymentRefunded':
      return {
        ...s,
        status: event.data.full ? 'refunded' : 'partially-refunded',
        refundedKrw: event.data.refundedKrw,
        refundIds: [...s.refundIds, event.data.refundId],
      };
    case 'PaymentFailed':
      return { ...s, status: 'failed' };
    case 'PaymentAttemptDeclined': {
      const d = event.data;
      return { ...s, declinedRefs: [...s.declinedRefs, d.providerRef], lastDecline: { providerRef: d.providerRef, reason: d.reason, providerCode: d.providerCode ?? null } };
    }
    case 'PaymentChargeVoided':
      return { ...s, voidedRefs: [...s.voidedRefs, event.data.providerRef] };
    case 'PaymentCollectedInCash':
      return { ...s, status: 'captured', authorizedKrw: event.data.amountKrw, capturedKrw: s.capturedKrw + event.data.amountKrw, cash: true };
    case 'DepositApplied': {
      const { visitId, amountKrw, vatKrw } = event.data;
      return { ...s, vatKrw, applied: { visitId, amountKrw, vatKrw } };
    }
  }
}

/** What can still be refunded. */
export const refundable = (p: ActivePayment): number => p.capturedKrw - p.refundedKrw;

/** A deposit's money neither refunded nor applied to a bill (what a deposit refund or an application may take). */
export const unapplied = (p: ActivePayment): number => Math.max(0, refundable(p) - (p.applied?.amountKrw ?? 0));
