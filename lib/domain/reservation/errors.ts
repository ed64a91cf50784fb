import { DomainError, type ErrorDetails } from '../shared/errors';

/** A cancelled, rejected, no-show or completed reservation cannot change any more. */
export class ReservationClosedError extends DomainError {
  constructor(details: ErrorDetails & { status: string; action: string }) {
    super('reservation.closed', `cannot ${details.action} a reservation that is ${details.status}`, details);
  }
}

/** A no-show can only be recorded once the reservation's start time has passed. */
export class NoShowBeforeStartError extends DomainError {
  constructor(details: ErrorDetails) {
    super('reservation.no_show_before_start', 'the reservation has not started yet', details);
  }
}

/** The reservation belongs to another clinic than the one in the context. */
export class ClinicMismatchError extends DomainError {
  constructor(details: ErrorDetails) {
    super('reservation.clinic_mismatch', 'the treatment belongs to another clinic', details);
  }
}

/**
 * The patient tries to cancel or reschedule once the start has passed: that is a no-show (the clinic
 * records it under the frozen policy), not a late cancellation.
 */
export class StartPassedError extends DomainError {
  constructor(details: ErrorDetails & { action: string }) {
    super('reservation.start_passed', `cannot ${details.action} a reservation whose start has passed`, details);
  }
}
