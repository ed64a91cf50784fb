/** Visit commands (stream visit-<visitId>). Check-in with a reservation: `checkInReservation`. */
import { streams, visit } from '../domain';
import type { ActiveVisit, VisitCommand } from '../domain/visit';
import { loadClinic, run, type CommandDeps } from './deps';
import type { CommandMetadata } from './metadata';

export function visitCommand(deps: CommandDeps, visitId: string, command: VisitCommand, meta: CommandMetadata) {
  return run(deps, visit.visitDecider, streams.visit(visitId), command, meta, async (loaded, now) => {
    if (command.type !== 'AddTreatment' || loaded.state.status === 'none') return { now };
    return { now, clinic: await loadClinic(deps, (loaded.state as ActiveVisit).clinicId) };
  });
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
