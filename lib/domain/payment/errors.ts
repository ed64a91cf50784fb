import { DomainError, type ErrorDetails } from '../shared/errors';

/** Refunds never exceed what was captured. */
export class RefundExceedsCapturedError extends DomainError {
  constructor(details: ErrorDetails) {
    super('payment.refund_exceeds_captured', 'refunds cannot exceed the amount captured', details);
  }
}

export class CaptureExceedsAuthorizationError extends DomainError {
  constructor(details: ErrorDetails) {
    super('payment.capture_exceeds_authorization', 'cannot capture more than was authorized', details);
  }
}

export class AmountMismatchError extends DomainError {
  constructor(details: ErrorDetails) {
    super('payment.amount_mismatch', 'the authorized amount differs from the amount requested', details);
  }
}

/** A deposit needs its reservation, a bill its visit. */
export class PaymentSubjectMissingError extends DomainError {
  constructor(details: ErrorDetails) {
    super('payment.subject_missing', 'a deposit needs a reservation and a bill needs a visit', details);
  }
}

/** Only a deposit's captured money, not already refunded or applied, pays a bill; once, for one visit. */
export class DepositNotApplicableError extends DomainError {
  constructor(details: ErrorDetails) {
    super('payment.deposit_not_applicable', 'this deposit cannot pay that amount of the bill', details);
  }
}

/** A payment's VAT is part of its amount. */
export class VatExceedsAmountError extends DomainError {
  constructor(details: ErrorDetails) {
    super('payment.vat_exceeds_amount', 'the VAT cannot exceed the amount', details);
  }
}

/** Cash is taken at the desk for a visit's bill only (a deposit is paid online when booking). */
export class CashNotAllowedError extends DomainError {
  constructor(details: ErrorDetails) {
    super('payment.cash_not_allowed', 'only a bill can be paid in cash at the desk', details);
  }
}
