import type { Decider } from '../shared/decider';
import { PatientCommand } from './commands';
import { decidePatient, type PatientContext } from './decide';
import { PatientEvent, upcastPatientEvent } from './events';
import { evolvePatient, initialPatientState, type PatientState } from './state';

export * from './commands';
export * from './decide';
export * from './errors';
export * from './events';
export * from './personal';
export * from './state';

export const patientDecider: Decider<PatientCommand, PatientEvent, PatientState, PatientContext> = {
  name: 'patient',
  decide: decidePatient,
  evolve: evolvePatient,
  initialState: initialPatientState,
  commandSchema: PatientCommand,
  eventSchema: PatientEvent,
  upcast: upcastPatientEvent,
};
