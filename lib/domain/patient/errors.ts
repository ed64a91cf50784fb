import { DomainError, type ErrorDetails } from '../shared/errors';

/** The patient's data was erased: nothing about them can change any more. */
export class PatientErasedError extends DomainError {
  constructor(details: ErrorDetails) {
    super('patient.erased', "the patient's data has been erased", details);
  }
}
