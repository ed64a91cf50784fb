import { DomainError, type ErrorDetails } from '../shared/errors';

/** Visit stages move forward in order: arrived → consultation → procedure → recovery → discharged. */
export class VisitStageOutOfOrderError extends DomainError {
  constructor(details: ErrorDetails & { from: string; to: string }) {
    super('visit.stage_out_of_order', `a visit cannot move from ${details.from} to ${details.to}`, details);
  }
}

/** Nothing to revert: the visit is in its first stage. */
export class NothingToRevertError extends DomainError {
  constructor(details: ErrorDetails) {
    super('visit.nothing_to_revert', 'the visit has no earlier stage to go back to', details);
  }
}

/** An arrival linked to a reservation that is not this patient's booking at this clinic, checked in to this visit. */
export class VisitReservationMismatchError extends DomainError {
  constructor(details: ErrorDetails & { mismatch: 'clinic' | 'patient' | 'visit' }) {
    super('visit.reservation_mismatch', `the reservation does not belong to this visit (${details.mismatch} differs)`, details);
  }
}
