import type { TaxCategory } from '../clinic/values';
import type { VisitEvent, VisitStage } from './events';

export interface VisitLine {
  readonly lineId: string;
  readonly treatmentId: string;
  readonly treatmentName: string;
  readonly unitPriceKrw: number;
  readonly quantity: number;
  readonly priceKrw: number;
  readonly taxCategory: TaxCategory;
}

export interface ActiveVisit {
  readonly status: 'open' | 'discharged';
  readonly visitId: string;
  readonly clinicId: string;
  readonly patientId: string;
  readonly reservationId: string | null;
  readonly stage: VisitStage;
  readonly stageSince: string;
  /** The stages passed through, oldest first, current last (a revert pops the last). */
  readonly path: ReadonlyArray<{ readonly stage: VisitStage; readonly at: string }>;
  readonly lines: readonly VisitLine[];
  readonly totalKrw: number;
  /** Lines already billed by a discharge (an amendment bills only the others). */
  readonly billedLineIds: readonly string[];
  /** Discharges so far (the next one is amendment `discharges`). */
  readonly discharges: number;
}

export type VisitState = { readonly status: 'none' } | ActiveVisit;

export const initialVisitState = (): VisitState => ({ status: 'none' });

function enter(v: ActiveVisit, stage: VisitStage, at: string): ActiveVisit {
  return { ...v, status: stage === 'discharged' ? 'discharged' : 'open', stage, stageSince: at, path: [...v.path, { stage, at }] };
}

export function evolveVisit(state: VisitState, event: VisitEvent): VisitState {
  if (event.type === 'PatientArrived') {
    const d = event.data;
    return {
      status: 'open',
      visitId: d.visitId,
      clinicId: d.clinicId,
      patientId: d.patientId,
      reservationId: d.reservationId ?? null,
      stage: 'arrived',
      stageSince: d.at,
      path: [{ stage: 'arrived', at: d.at }],
      lines: [],
      totalKrw: 0,
      billedLineIds: [],
      discharges: 0,
    };
  }
  if (state.status === 'none') return state;
  const v = state as ActiveVisit;
  switch (event.type) {
    case 'ConsultationStarted':
      return enter(v, 'consultation', event.data.at);
    case 'ProcedureStarted':
      return enter(v, 'procedure', event.data.at);
    case 'RecoveryStarted':
      return enter(v, 'recovery', event.data.at);
    case 'PatientDischarged':
      // Every line so far is billed now (a v1 discharge billed the whole total, too).
      return { ...enter(v, 'discharged', event.data.at), billedLineIds: v.lines.map((l) => l.lineId), discharges: v.discharges + 1 };
    case 'TreatmentAdded': {
      const { visitId: _v, at: _a, staffId: _s, ...line } = event.data;
      return { ...v, lines: [...v.lines, line], totalKrw: v.totalKrw + line.priceKrw };
    }
    case 'VisitStageReverted': {
      const path = v.path.slice(0, -1);
      return { ...v, status: 'open', stage: event.data.to, stageSince: event.data.at, path };
    }
  }
}
