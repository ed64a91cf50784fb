/**
 * Domain errors: every rule a decider enforces fails with a subclass of DomainError.
 * `code` is stable (UI messages and tests key on it, never on `message`), `details` is
 * plain JSON-serialisable data about the refusal.
 */
export type ErrorDetails = Readonly<Record<string, unknown>>;

export class DomainError extends Error {
  readonly code: string;
  readonly details: ErrorDetails;

  constructor(code: string, message: string, details: ErrorDetails = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }

  toJSON(): { name: string; code: string; message: string; details: ErrorDetails } {
    return { name: this.name, code: this.code, message: this.message, details: this.details };
  }
}

/** The command needs the stream to exist (e.g. confirming a reservation that was never requested). */
export class NotFoundError extends DomainError {
  constructor(what: string, details: ErrorDetails = {}) {
    super(`${what}.not_found`, `${what} does not exist`, details);
  }
}

/** The command would create something that already exists with different content. */
export class AlreadyExistsError extends DomainError {
  constructor(what: string, details: ErrorDetails = {}) {
    super(`${what}.already_exists`, `${what} already exists`, details);
  }
}

/** The command is not allowed in the aggregate's current status. */
export class InvalidTransitionError extends DomainError {
  constructor(what: string, action: string, status: string, details: ErrorDetails = {}) {
    super(`${what}.invalid_transition`, `cannot ${action} a ${what} that is ${status}`, {
      action,
      status,
      ...details,
    });
  }
}

/** A command field breaks a business rule that its zod schema cannot express. */
export class InvalidInputError extends DomainError {
  constructor(code: string, message: string, details: ErrorDetails = {}) {
    super(code, message, details);
  }
}

/**
 * Not a business refusal: a stored event could not be read (unknown type, a version newer than
 * this code knows, or data that fails its schema after upcasting). Deliberately not a DomainError.
 */
export class EventSchemaError extends Error {
  constructor(
    message: string,
    readonly type: string,
    readonly schemaVersion: unknown,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'EventSchemaError';
  }
}
