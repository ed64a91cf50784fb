/**
 * Patient commands (stream patient-<patientId>). Personal data leaves the decider as
 * `{ kind: 'plain' }` and is encrypted with the patient's key (deps.privacy) before append; the
 * append path refuses anything still in plaintext (PlaintextPersonalDataError), so these commands
 * need deps.privacy.
 */
import { patient, streams } from '../domain';
import type { PatientCommand } from '../domain/patient';
import { authorize, SYSTEM_ROLE } from './authorize';
import { ForbiddenError } from './errors';
import { run, type CommandDeps } from './deps';
import type { CommandMetadata } from './metadata';

/**
 * A patient's profile, contact, consents and erasure are theirs alone (and the seed's, as system);
 * an erasure may also be carried out by the platform's admin on the patient's request. Who asked
 * (`requestedBy`) must be who acts.
 */
export async function patientCommand(deps: CommandDeps, patientId: string, command: PatientCommand, meta: CommandMetadata) {
  authorize(meta, command.type, { patientId }, command.type === 'ErasePatientData' ? ['patient', 'admin'] : ['patient']);
  if (command.type === 'ErasePatientData' && meta.actor.role !== SYSTEM_ROLE && command.requestedBy !== meta.actor.role) {
    throw new ForbiddenError(`${meta.actor.role} ${meta.actor.id} may not record an erasure requested by ${command.requestedBy}`, { command: command.type, actorId: meta.actor.id });
  }
  return run(deps, patient.patientDecider, streams.patient(patientId), command, meta);
}

type Input<T extends PatientCommand['type']> = { patientId: string } & Omit<Extract<PatientCommand, { type: T }>, 'type'>;

export const registerPatient = (deps: CommandDeps, input: Input<'RegisterPatient'>, meta: CommandMetadata) =>
  patientCommand(deps, input.patientId, { type: 'RegisterPatient', ...input }, meta);
export const changeContact = (deps: CommandDeps, { patientId, ...input }: Input<'ChangeContact'>, meta: CommandMetadata) =>
  patientCommand(deps, patientId, { type: 'ChangeContact', ...input } as PatientCommand, meta);
export const giveConsent = (deps: CommandDeps, { patientId, ...input }: Input<'GiveConsent'>, meta: CommandMetadata) =>
  patientCommand(deps, patientId, { type: 'GiveConsent', ...input }, meta);
export const withdrawConsent = (deps: CommandDeps, { patientId, ...input }: Input<'WithdrawConsent'>, meta: CommandMetadata) =>
  patientCommand(deps, patientId, { type: 'WithdrawConsent', ...input }, meta);

/**
 * Records PatientDataErased, then deletes the patient's key (crypto-shredding) when deps.privacy can.
 * The key deletion is idempotent; if it fails after the event was recorded, repeating the command
 * (same or new command id) deletes it.
 */
export async function erasePatientData(deps: CommandDeps, { patientId, ...input }: Input<'ErasePatientData'>, meta: CommandMetadata) {
  const result = await patientCommand(deps, patientId, { type: 'ErasePatientData', ...input }, meta);
  if (deps.privacy?.erase) await deps.privacy.erase(patientId);
  return result;
}
