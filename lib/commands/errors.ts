import { DomainError, type ErrorDetails } from '../domain';

/**
 * The stream kept moving under the command (WrongExpectedVersion on every attempt). Not a business
 * refusal: the caller may retry later. Domain refusals are DomainError subclasses and pass through
 * the handlers untouched.
 */
export class ConcurrencyConflict extends Error {
  readonly code = 'command.concurrency_conflict';
  constructor(
    readonly streamId: string,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(`${streamId} changed concurrently on each of ${attempts} attempts; try again`, options);
    this.name = 'ConcurrencyConflict';
  }
}

/** An event still carries personal data in plaintext: the append path refuses it (lib/privacy encrypts first). */
export class PlaintextPersonalDataError extends Error {
  readonly code = 'command.plaintext_personal_data';
  constructor(
    readonly streamId: string,
    readonly eventType: string,
  ) {
    super(`${eventType} on ${streamId} carries personal data in plaintext; it must be encrypted before append`);
    this.name = 'PlaintextPersonalDataError';
  }
}

/** The command does not match its schema (a bug of the caller or a tampered form). */
export class InvalidCommandError extends DomainError {
  constructor(details: ErrorDetails) {
    super('command.invalid', 'the command is not valid', details);
  }
}

/** The same command id was already used for a different command on this stream. */
export class CommandIdReusedError extends DomainError {
  constructor(details: ErrorDetails) {
    super('command.id_reused', 'this command id was already used for another command', details);
  }
}

/** The slot hold of a booking was released (expired) before the booking was recorded: book again. */
export class HoldExpiredError extends DomainError {
  constructor(details: ErrorDetails) {
    super('booking.hold_expired', 'the time held for this booking has expired; please book again', details);
  }
}

/** A payment gateway call failed or did not answer; the payment stays as it was and can be retried. */
export class PaymentGatewayError extends DomainError {
  constructor(code: string, message: string, details: ErrorDetails) {
    super(code, message, details);
  }
}

/**
 * The acting user may not touch this entity (another patient's reservation, another clinic's visit,
 * an auditor writing). Not a DomainError: the server action answers 403, never a form message.
 */
export class ForbiddenError extends Error {
  readonly code = 'command.forbidden';
  constructor(
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = 'ForbiddenError';
  }
}
