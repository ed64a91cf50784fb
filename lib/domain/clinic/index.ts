import type { Decider } from '../shared/decider';
import { ClinicCommand } from './commands';
import { decideClinic, type ClinicContext } from './decide';
import { ClinicEvent, upcastClinicEvent } from './events';
import { evolveClinic, initialClinicState, type ClinicState } from './state';

export * from './commands';
export * from './decide';
export * from './errors';
export * from './events';
export * from './rules';
export * from './state';
export * from './values';

export const clinicDecider: Decider<ClinicCommand, ClinicEvent, ClinicState, ClinicContext> = {
  name: 'clinic',
  decide: decideClinic,
  evolve: evolveClinic,
  initialState: initialClinicState,
  commandSchema: ClinicCommand,
  eventSchema: ClinicEvent,
  upcast: upcastClinicEvent,
};
