import { requireBookableTreatment } from '../clinic/decide';
import type { RegisteredClinic } from '../clinic/state';
import { AlreadyExistsError, InvalidTransitionError, NotFoundError } from '../shared/errors';
import { iso } from '../shared/time';
import type { VisitCommand } from './commands';
import { NothingToRevertError, VisitStageOutOfOrderError } from './errors';
import { visitEvent as ev, type VisitEvent, type VisitStage } from './events';
import type { ActiveVisit, VisitState } from './state';

export interface VisitContext {
  readonly now: Date;
  /** The clinic catalogue, needed by AddTreatment (price of the treatment added). */
  readonly clinic?: RegisteredClinic;
}

/**
 * Forward moves allowed from each stage: the next stage, or discharge at any point (a patient may
 * leave after the consultation, or skip recovery). A procedure always follows a consultation.
 */
export const NEXT_STAGES: Readonly<Record<VisitStage, readonly VisitStage[]>> = {
  arrived: ['consultation', 'discharged'],
  consultation: ['procedure', 'discharged'],
  procedure: ['recovery', 'discharged'],
  recovery: ['discharged'],
  discharged: [],
};

function advance(v: ActiveVisit, to: VisitStage): void {
  if (v.stage === to) return;
  if (!NEXT_STAGES[v.stage].includes(to)) {
    throw new VisitStageOutOfOrderError({ visitId: v.visitId, from: v.stage, to });
  }
}

const withStaff = (staffId: string | undefined) => (staffId === undefined ? {} : { staffId });

export function decideVisit(command: VisitCommand, state: VisitState, context: VisitContext): VisitEvent[] {
  const at = iso(context.now);
  if (command.type === 'RecordArrival') {
    if (state.status !== 'none') {
      const v = state as ActiveVisit;
      if (v.patientId === command.patientId && v.reservationId === (command.reservationId ?? null)) return [];
      throw new AlreadyExistsError('visit', { visitId: command.visitId });
    }
    return [
      ev('PatientArrived', {
        visitId: command.visitId,
        clinicId: command.clinicId,
        patientId: command.patientId,
        ...(command.reservationId === undefined ? {} : { reservationId: command.reservationId }),
        at,
      }),
    ];
  }
  if (state.status === 'none') throw new NotFoundError('visit');
  const v = state as ActiveVisit;
  const visitId = v.visitId;
  const move = (to: VisitStage, make: () => VisitEvent): VisitEvent[] => {
    if (v.stage === to) return []; // already there: a double click on the board
    advance(v, to);
    return [make()];
  };
  switch (command.type) {
    case 'StartConsultation':
      return move('consultation', () => ev('ConsultationStarted', { visitId, at, ...withStaff(command.staffId) }));
    case 'StartProcedure':
      return move('procedure', () => ev('ProcedureStarted', { visitId, at, ...withStaff(command.staffId) }));
    case 'StartRecovery':
      return move('recovery', () => ev('RecoveryStarted', { visitId, at, ...withStaff(command.staffId) }));
    case 'Discharge':
      return move('discharged', () => ev('PatientDischarged', { visitId, at, ...withStaff(command.staffId), totalKrw: v.totalKrw }));
    case 'AddTreatment': {
      if (v.lines.some((l) => l.lineId === command.lineId)) return [];
      if (v.stage === 'discharged') {
        throw new InvalidTransitionError('visit', 'add a treatment to', 'discharged', { visitId });
      }
      if (!context.clinic) throw new Error('AddTreatment needs context.clinic');
      const t = requireBookableTreatment(context.clinic, command.treatmentId);
      const quantity = command.quantity ?? 1;
      return [
        ev('TreatmentAdded', {
          visitId,
          lineId: command.lineId,
          treatmentId: t.treatmentId,
          treatmentName: t.name,
          unitPriceKrw: t.priceKrw,
          quantity,
          priceKrw: t.priceKrw * quantity,
          at,
          ...withStaff(command.staffId),
        }),
      ];
    }
    case 'RevertStage': {
      const previous = v.path[v.path.length - 2];
      if (!previous) throw new NothingToRevertError({ visitId, stage: v.stage });
      return [ev('VisitStageReverted', { visitId, from: v.stage, to: previous.stage, reason: command.reason, staffId: command.staffId, at })];
    }
  }
}
