import { requireBookableTreatment } from '../clinic/decide';
import type { RegisteredClinic } from '../clinic/state';
import type { TaxCategory } from '../clinic/values';
import { AlreadyExistsError, InvalidTransitionError, NotFoundError } from '../shared/errors';
import { vatPortion } from '../shared/money';
import { iso } from '../shared/time';
import type { VisitCommand } from './commands';
import { NothingToRevertError, VisitReservationMismatchError, VisitStageOutOfOrderError } from './errors';
import { visitEvent as ev, type BillLine, type VisitEvent, type VisitStage } from './events';
import type { ActiveVisit, VisitLine, VisitState } from './state';

/** What a visit needs of its reservation (loaded by the command layer): the link and the frozen terms. */
export interface VisitReservationFacts {
  readonly reservationId: string;
  readonly clinicId: string;
  readonly patientId: string;
  /** The visit it was checked in to (null: not checked in). */
  readonly visitId: string | null;
  readonly treatmentId: string;
  readonly treatmentName: string;
  /** The price frozen at booking. */
  readonly priceKrw: number;
}

export interface VisitContext {
  readonly now: Date;
  /** The clinic catalogue, needed by AddTreatment (price and tax category of the treatment added). */
  readonly clinic?: RegisteredClinic;
  /**
   * The visit's reservation, needed by RecordArrival with a reservationId (null: it does not exist)
   * and by AddTreatment on a visit with a reservation (the booked treatment's frozen price).
   */
  readonly reservation?: VisitReservationFacts | null;
}

/** The VAT inside a line's price: 10 % included when taxable, none when exempt. */
export const lineVatKrw = (priceKrw: number, taxCategory: TaxCategory): number => (taxCategory === 'taxable' ? vatPortion(priceKrw) : 0);

/** The bill lines of `lines`, VAT computed per line (so a sale's VAT never depends on how it is paid). */
export const billLines = (lines: readonly VisitLine[]): BillLine[] =>
  lines.map((l) => ({
    lineId: l.lineId,
    treatmentId: l.treatmentId,
    treatmentName: l.treatmentName,
    taxCategory: l.taxCategory,
    priceKrw: l.priceKrw,
    vatKrw: lineVatKrw(l.priceKrw, l.taxCategory),
  }));

/** A walk-in's arrival linked to a reservation must be that reservation's check-in: same clinic, patient and visit. */
function checkReservationLink(command: Extract<VisitCommand, { type: 'RecordArrival' }>, context: VisitContext): void {
  if (command.reservationId === undefined) return;
  if (context.reservation === undefined) throw new Error('RecordArrival with a reservationId needs context.reservation');
  const r = context.reservation;
  if (r === null || r.reservationId !== command.reservationId) throw new NotFoundError('reservation', { reservationId: command.reservationId });
  const mismatch = r.clinicId !== command.clinicId ? 'clinic' : r.patientId !== command.patientId ? 'patient' : r.visitId !== command.visitId ? 'visit' : null;
  if (mismatch) {
    throw new VisitReservationMismatchError({ visitId: command.visitId, reservationId: r.reservationId, mismatch, checkedInVisitId: r.visitId });
  }
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
    checkReservationLink(command, context);
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
      return move('discharged', () => {
        // A discharge after a reverted one is an amendment: it bills only the lines added since.
        const lines = billLines(v.lines.filter((l) => !v.billedLineIds.includes(l.lineId)));
        return ev('PatientDischarged', {
          visitId,
          at,
          ...withStaff(command.staffId),
          totalKrw: v.totalKrw,
          amendment: v.discharges,
          lines,
          billedKrw: lines.reduce((sum, l) => sum + l.priceKrw, 0),
          vatKrw: lines.reduce((sum, l) => sum + l.vatKrw, 0),
        });
      });
    case 'AddTreatment': {
      if (v.lines.some((l) => l.lineId === command.lineId)) return [];
      if (v.stage === 'discharged') {
        throw new InvalidTransitionError('visit', 'add a treatment to', 'discharged', { visitId });
      }
      if (!context.clinic) throw new Error('AddTreatment needs context.clinic');
      if (v.reservationId !== null && context.reservation === undefined) throw new Error('AddTreatment on a booked visit needs context.reservation');
      const quantity = command.quantity ?? 1;
      const booked = context.reservation && context.reservation.reservationId === v.reservationId ? context.reservation : null;
      // The booked treatment is sold at the price the reservation froze, even if the clinic has since
      // changed or unlisted it; anything else at the catalogue's current price (listed treatments only).
      const terms =
        booked && booked.treatmentId === command.treatmentId
          ? {
              treatmentId: booked.treatmentId,
              name: booked.treatmentName,
              priceKrw: booked.priceKrw,
              taxCategory: context.clinic.treatments[booked.treatmentId]?.taxCategory ?? ('taxable' as const),
            }
          : requireBookableTreatment(context.clinic, command.treatmentId);
      return [
        ev('TreatmentAdded', {
          visitId,
          lineId: command.lineId,
          treatmentId: terms.treatmentId,
          treatmentName: terms.name,
          unitPriceKrw: terms.priceKrw,
          quantity,
          priceKrw: terms.priceKrw * quantity,
          taxCategory: terms.taxCategory,
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
