import { DomainError, type ErrorDetails } from '../shared/errors';

/** No slot over capacity: the hold would put a slot above the clinic's slot capacity. */
export class SlotOverCapacityError extends DomainError {
  constructor(details: ErrorDetails) {
    super('schedule.slot_over_capacity', 'this time is fully booked', details);
  }
}

/** The hold's start is not on this stream's clinic day (or clinic). */
export class WrongScheduleError extends DomainError {
  constructor(details: ErrorDetails) {
    super('schedule.wrong_stream', 'the hold does not belong to this clinic day', details);
  }
}
