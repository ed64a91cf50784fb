/** Visit commands (stream visit-<visitId>). Check-in with a reservation: `checkInReservation`. */
import { streams, visit } from '../domain';
import type { ActiveVisit, VisitCommand, VisitState } from '../domain/visit';
import { actingStaffId, authorizeOn } from './authorize';
import { loadClinic, run, type CommandDeps } from './deps';
import type { CommandMetadata } from './metadata';

/** A visit is run by the staff of its clinic (the new visit's clinic for an arrival). */
const visitSubject = (state: VisitState, command: VisitCommand) =>
  state.status !== 'none'
    ? { clinicId: (state as ActiveVisit).clinicId, patientId: (state as ActiveVisit).patientId }
    : command.type === 'RecordArrival'
      ? { clinicId: command.clinicId, patientId: command.patientId }
      : null;

export async function visitCommand(deps: CommandDeps, visitId: string, command: VisitCommand, meta: CommandMetadata) {
  const staffId = 'staffId' in command ? actingStaffId(meta, command.type, 'staff', command.staffId) : undefined;
  const recorded = (staffId === undefined ? command : { ...command, staffId }) as VisitCommand;
  return run(
    deps,
    visit.visitDecider,
    streams.visit(visitId),
    recorded,
    meta,
    async (loaded, now) => {
      if (command.type !== 'AddTreatment' || loaded.state.status === 'none') return { now };
      return { now, clinic: await loadClinic(deps, (loaded.state as ActiveVisit).clinicId) };
    },
    authorizeOn(meta, command.type, ['staff'], (state: VisitState) => visitSubject(state, command)),
  );
}

type Input<T extends VisitCommand['type']> = { visitId: string } & Omit<Extract<VisitCommand, { type: T }>, 'type'>;

/** A walk-in (or an arrival recorded apart from the reservation's check-in). */
export const recordArrival = (deps: CommandDeps, input: Input<'RecordArrival'>, meta: CommandMetadata) =>
  visitCommand(deps, input.visitId, { type: 'RecordArrival', ...input }, meta);
export const startConsultation = (deps: CommandDeps, { visitId, ...input }: Input<'StartConsultation'>, meta: CommandMetadata) =>
  visitCommand(deps, visitId, { type: 'StartConsultation', ...input }, meta);
export const startProcedure = (deps: CommandDeps, { visitId, ...input }: Input<'StartProcedure'>, meta: CommandMetadata) =>
  visitCommand(deps, visitId, { type: 'StartProcedure', ...input }, meta);
export const startRecovery = (deps: CommandDeps, { visitId, ...input }: Input<'StartRecovery'>, meta: CommandMetadata) =>
  visitCommand(deps, visitId, { type: 'StartRecovery', ...input }, meta);
/** Discharge; the process managers complete the reservation and ask the bill. */
export const discharge = (deps: CommandDeps, { visitId, ...input }: Input<'Discharge'>, meta: CommandMetadata) =>
  visitCommand(deps, visitId, { type: 'Discharge', ...input }, meta);
export const addTreatment = (deps: CommandDeps, { visitId, ...input }: Input<'AddTreatment'>, meta: CommandMetadata) =>
  visitCommand(deps, visitId, { type: 'AddTreatment', ...input }, meta);
export const revertStage = (deps: CommandDeps, { visitId, ...input }: Input<'RevertStage'>, meta: CommandMetadata) =>
  visitCommand(deps, visitId, { type: 'RevertStage', ...input }, meta);
