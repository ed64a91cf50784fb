import type { CurrentRevision, ExpectedRevision } from './types';

/** Base class of every error the event store throws on purpose. Test with instanceof. */
export class EventStoreError extends Error {
  readonly code: string = 'EVENT_STORE_ERROR';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The stream is not at the expected revision (optimistic concurrency conflict). */
export class WrongExpectedVersion extends EventStoreError {
  override readonly code = 'WRONG_EXPECTED_VERSION';
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    readonly actual: CurrentRevision,
    options?: { cause?: unknown },
  ) {
    super(`Append to ${streamId} expected revision ${String(expected)} but the stream is at ${String(actual)}`, options);
  }
}

export class StreamNotFound extends EventStoreError {
  override readonly code = 'STREAM_NOT_FOUND';
  constructor(readonly streamId: string) {
    super(`Stream ${streamId} not found`);
  }
}

/** An event id already stored somewhere that does not make this append an idempotent repeat. */
export class DuplicateEventId extends EventStoreError {
  override readonly code = 'DUPLICATE_EVENT_ID';
  constructor(
    readonly streamId: string,
    readonly eventId: string,
  ) {
    super(`Event ${eventId} appended to ${streamId} already exists and this append is not a repeat of the original`);
  }
}

/** The events or options given to the store are not valid (before anything is written). */
export class InvalidEvent extends EventStoreError {
  override readonly code = 'INVALID_EVENT';
}

export class GroupNotFound extends EventStoreError {
  override readonly code = 'GROUP_NOT_FOUND';
  constructor(readonly group: string) {
    super(`Persistent subscription group ${group} not found`);
  }
}

export class GroupAlreadyExists extends EventStoreError {
  override readonly code = 'GROUP_ALREADY_EXISTS';
  constructor(readonly group: string) {
    super(`Persistent subscription group ${group} already exists`);
  }
}

/** The backend refused or failed in a way not covered above (connection, permissions...). */
export class EventStoreUnavailable extends EventStoreError {
  override readonly code = 'EVENT_STORE_UNAVAILABLE';
}

/** The store was closed. */
export class EventStoreClosed extends EventStoreError {
  override readonly code = 'EVENT_STORE_CLOSED';
  constructor() {
    super('The event store is closed');
  }
}
