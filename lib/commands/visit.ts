/** Visit commands (stream visit-<visitId>). Check-in with a reservation: `checkInReservation`. */
import { reservation, streams, visit } from '../domain';
import type { ActiveReservation } from '../domain/reservation';
import type { ActiveVisit, VisitCommand, VisitReservationFacts, VisitState } from '../domain/visit';
import { actingStaffId, authorizeOn } from './authorize';
import { loadClinic, run, type CommandDeps } from './deps';
import { loadStream } from './handle';
import type { CommandMetadata } from './metadata';

/** What the visit decider needs of a reservation: the link (clinic, patient, visit checked in to) and the frozen terms. */
export const visitReservationFacts = (r: ActiveReservation): VisitReservationFacts => ({
  reservationId: r.reservationId,
  clinicId: r.clinicId,
  patientId: r.patientId,
  visitId: r.visitId,
  treatmentId: r.treatmentId,
  treatmentName: r.treatmentName,
  priceKrw: r.priceKrw,
});

/** The reservation's facts, or null when there is no such reservation. */
export async function loadVisitReservation(deps: CommandDeps, reservationId: string): Promise<VisitReservationFacts | null> {
  const loaded = await loadStream(deps.store, reservation.reservationDecider, streams.reservation(reservationId));
  return loaded.state.status === 'none' ? null : visitReservationFacts(loaded.state as ActiveReservation);
}

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
      // A new arrival linked to a reservation is checked against it (the decider refuses a wrong link).
      if (command.type === 'RecordArrival') {
        if (loaded.state.status !== 'none' || command.reservationId === undefined) return { now };
        return { now, reservation: await loadVisitReservation(deps, command.reservationId) };
      }
      if (command.type !== 'AddTreatment' || loaded.state.status === 'none') return { now };
      const v = loaded.state as ActiveVisit;
      // The booked treatment is billed at the reservation's frozen price.
      return {
        now,
        clinic: await loadClinic(deps, v.clinicId),
        ...(v.reservationId === null ? {} : { reservation: await loadVisitReservation(deps, v.reservationId) }),
      };
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
