import { AlreadyExistsError, NotFoundError } from '../shared/errors';
import { iso } from '../shared/time';
import type { PatientCommand } from './commands';
import { PatientErasedError } from './errors';
import { patientEvent as ev, type PatientEvent } from './events';
import { plain, type PersonalData } from './personal';
import type { ActivePatient, PatientState } from './state';

export interface PatientContext {
  readonly now: Date;
}

const defined = (d: PersonalData): PersonalData =>
  Object.fromEntries(Object.entries(d).filter(([, v]) => v !== undefined)) as PersonalData;

export function decidePatient(command: PatientCommand, state: PatientState, context: PatientContext): PatientEvent[] {
  const at = iso(context.now);
  if (command.type === 'RegisterPatient') {
    if (state.status !== 'none') throw new AlreadyExistsError('patient', { patientId: command.patientId });
    const { name, phone, birthDate, email } = command;
    return [
      ev('PatientRegistered', {
        patientId: command.patientId,
        locale: command.locale ?? 'ko',
        personal: plain(defined({ name, phone, birthDate, email })),
      }),
    ];
  }
  if (state.status === 'none') throw new NotFoundError('patient');
  const p = state as ActivePatient;
  const patientId = p.patientId;
  if (p.status === 'erased') {
    if (command.type === 'ErasePatientData') return [];
    throw new PatientErasedError({ patientId, action: command.type });
  }
  switch (command.type) {
    case 'ChangeContact':
      return [ev('ContactChanged', { patientId, personal: plain(defined({ phone: command.phone, email: command.email })) })];
    case 'GiveConsent':
      if (p.consents[command.purpose]?.version === command.version) return [];
      return [ev('ConsentGiven', { patientId, purpose: command.purpose, version: command.version, at })];
    case 'WithdrawConsent':
      if (!p.consents[command.purpose]) return [];
      return [ev('ConsentWithdrawn', { patientId, purpose: command.purpose, at })];
    case 'ErasePatientData':
      return [ev('PatientDataErased', { patientId, requestedBy: command.requestedBy, reason: command.reason, at })];
  }
}
