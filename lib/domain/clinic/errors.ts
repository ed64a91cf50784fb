import { DomainError, type ErrorDetails } from '../shared/errors';

export class TreatmentNotFoundError extends DomainError {
  constructor(details: ErrorDetails) {
    super('treatment.not_found', 'the clinic does not list this treatment', details);
  }
}

export class TreatmentUnlistedError extends DomainError {
  constructor(details: ErrorDetails) {
    super('treatment.unlisted', 'the treatment is no longer offered', details);
  }
}

export class DepositExceedsPriceError extends DomainError {
  constructor(details: ErrorDetails) {
    super('treatment.deposit_exceeds_price', 'the deposit cannot exceed the price', details);
  }
}

/** A treatment allowing consult first must say how long the consultation is. */
export class ConsultDurationMissingError extends DomainError {
  constructor(details: ErrorDetails) {
    super('treatment.consult_duration_missing', 'a treatment that allows consult first needs a consultation length', details);
  }
}

/** The treatment does not take this kind of booking (e.g. consult first on a pay-and-book only treatment). */
export class BookingKindNotAllowedError extends DomainError {
  constructor(details: ErrorDetails & { kind: string; allowed: readonly string[] }) {
    super('booking.kind_not_allowed', `this treatment cannot be booked as ${details.kind}`, details);
  }
}

export class InvalidOpeningHoursError extends DomainError {
  constructor(details: ErrorDetails) {
    super('clinic.invalid_opening_hours', 'opening intervals must open before they close and not overlap', details);
  }
}

/** The requested start is not in the future. */
export class BookingInPastError extends DomainError {
  constructor(details: ErrorDetails) {
    super('booking.in_past', 'cannot book a time that has passed', details);
  }
}

/** The requested start is closer than the clinic's minimum notice. */
export class BookingInsideMinimumNoticeError extends DomainError {
  constructor(details: ErrorDetails) {
    super('booking.inside_minimum_notice', 'the clinic needs more notice for this booking', details);
  }
}

/** The treatment would start or run outside the clinic's opening hours. */
export class BookingOutsideOpeningHoursError extends DomainError {
  constructor(details: ErrorDetails) {
    super('booking.outside_opening_hours', 'the clinic is not open for the whole treatment', details);
  }
}

/** The requested start is further ahead than the clinic's booking horizon. */
export class BookingBeyondHorizonError extends DomainError {
  constructor(details: ErrorDetails & { bookingHorizonDays: number; lastBookableDay: string }) {
    super('booking.beyond_horizon', `the clinic takes bookings up to ${details.bookingHorizonDays} days ahead`, details);
  }
}

/** The requested start is not the start of a slot. */
export class SlotNotAlignedError extends DomainError {
  constructor(details: ErrorDetails) {
    super('booking.slot_not_aligned', 'bookings start at the start of a slot', details);
  }
}

/** A no-show is recorded only once the clinic's grace period after the start is over (the patient may just be late). */
export class NoShowBeforeGraceError extends DomainError {
  constructor(details: ErrorDetails & { noShowGraceMinutes: number; allowedFrom: string }) {
    super('reservation.no_show_within_grace', 'the grace period after the start is not over yet', details);
  }
}

/** The clinic is closed that day (a holiday or one-off closure): no bookings, whatever the opening hours say. */
export class BookingOnClosedDayError extends DomainError {
  constructor(details: ErrorDetails & { day: string; reason: string }) {
    super('booking.clinic_closed', `the clinic is closed on ${details.day}`, details);
  }
}

/** A day before today (Seoul) cannot be closed or reopened: what happened on it is history. */
export class ClosureInPastError extends DomainError {
  constructor(details: ErrorDetails & { day: string; today: string }) {
    super('clinic.closure_in_past', 'a day that has passed cannot be closed or reopened', details);
  }
}
