/** Clinic catalogue commands (stream clinic-<clinicId>). */
import { clinic, streams } from '../domain';
import type { ClinicCommand } from '../domain/clinic';
import { authorize, type WriterRole } from './authorize';
import { run, type CommandDeps } from './deps';
import type { CommandMetadata } from './metadata';

/**
 * Registering a clinic is the platform's (admin, seed); running it (catalogue, hours, closures,
 * settings) is its managers' (staff with the flag an admin sets), and the admin's.
 */
const CLINIC_WRITERS: readonly WriterRole[] = ['manager', 'admin'];

type Input<T extends ClinicCommand['type']> = Omit<Extract<ClinicCommand, { type: T }>, 'type'>;
type WithClinic<T extends ClinicCommand['type']> = { clinicId: string } & Input<T>;

async function clinicCommand(deps: CommandDeps, clinicId: string, command: ClinicCommand, meta: CommandMetadata) {
  authorize(meta, command.type, { clinicId }, command.type === 'RegisterClinic' ? ['admin'] : CLINIC_WRITERS);
  return run(deps, clinic.clinicDecider, streams.clinic(clinicId), command, meta);
}

export const registerClinic = (deps: CommandDeps, input: Input<'RegisterClinic'>, meta: CommandMetadata) =>
  clinicCommand(deps, input.clinicId, { type: 'RegisterClinic', ...input }, meta);

export const listTreatment = (deps: CommandDeps, { clinicId, ...input }: WithClinic<'ListTreatment'>, meta: CommandMetadata) =>
  clinicCommand(deps, clinicId, { type: 'ListTreatment', ...input }, meta);

export const changeTreatmentPrice = (deps: CommandDeps, { clinicId, ...input }: WithClinic<'ChangeTreatmentPrice'>, meta: CommandMetadata) =>
  clinicCommand(deps, clinicId, { type: 'ChangeTreatmentPrice', ...input }, meta);

/** Duration, booking kinds and mode, tax category, names, category (TreatmentDetailsChanged records the previous values). */
export const changeTreatmentDetails = (deps: CommandDeps, { clinicId, ...input }: WithClinic<'ChangeTreatmentDetails'>, meta: CommandMetadata) =>
  clinicCommand(deps, clinicId, { type: 'ChangeTreatmentDetails', ...input }, meta);

export const unlistTreatment = (deps: CommandDeps, { clinicId, ...input }: WithClinic<'UnlistTreatment'>, meta: CommandMetadata) =>
  clinicCommand(deps, clinicId, { type: 'UnlistTreatment', ...input }, meta);

export const setOpeningHours = (deps: CommandDeps, { clinicId, ...input }: WithClinic<'SetOpeningHours'>, meta: CommandMetadata) =>
  clinicCommand(deps, clinicId, { type: 'SetOpeningHours', ...input }, meta);

export const setSlotConfiguration = (deps: CommandDeps, { clinicId, ...input }: WithClinic<'SetSlotConfiguration'>, meta: CommandMetadata) =>
  clinicCommand(deps, clinicId, { type: 'SetSlotConfiguration', ...input }, meta);

/** Booking horizon, payment deadline, no-show grace, stage thresholds (ClinicSettingsChanged records the previous values). */
export const changeClinicSettings = (deps: CommandDeps, { clinicId, ...input }: WithClinic<'ChangeClinicSettings'>, meta: CommandMetadata) =>
  clinicCommand(deps, clinicId, { type: 'ChangeClinicSettings', ...input }, meta);

export const setCancellationPolicy = (deps: CommandDeps, { clinicId, ...input }: WithClinic<'SetCancellationPolicy'>, meta: CommandMetadata) =>
  clinicCommand(deps, clinicId, { type: 'SetCancellationPolicy', ...input }, meta);

/** A holiday or one-off closure (DayClosed): no slots that day; the bookings already on it stay for staff to move or cancel (lib/queries/closures.ts). */
export const closeDay = (deps: CommandDeps, { clinicId, ...input }: WithClinic<'CloseDay'>, meta: CommandMetadata) =>
  clinicCommand(deps, clinicId, { type: 'CloseDay', ...input }, meta);

export const reopenDay = (deps: CommandDeps, { clinicId, ...input }: WithClinic<'ReopenDay'>, meta: CommandMetadata) =>
  clinicCommand(deps, clinicId, { type: 'ReopenDay', ...input }, meta);
