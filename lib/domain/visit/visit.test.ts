import { describe, expect, it } from 'vitest';
import { BOTOX, clinicState } from '../clinic/fixtures';
import { TreatmentNotFoundError } from '../clinic/errors';
import { InvalidTransitionError, NotFoundError } from '../shared/errors';
import { spec } from '../shared/testing';
import {
  NothingToRevertError,
  visitDecider,
  visitEvent as ev,
  VisitStageOutOfOrderError,
  type VisitCommand,
  type VisitContext,
  type VisitEvent,
} from './index';

const { given } = spec(visitDecider);
const clinic = clinicState();
const T = (hhmm: string) => new Date(`2025-03-03T${hhmm}:00+09:00`).toISOString();
const booking = { reservationId: 'r1', clinicId: 'c1', patientId: 'p1', visitId: 'v1', treatmentId: BOTOX.treatmentId, treatmentName: BOTOX.name, priceKrw: BOTOX.priceKrw };
const ctx = (hhmm: string): VisitContext => ({ now: new Date(T(hhmm)), clinic, reservation: booking });
/** A first discharge billing nothing (no treatment added). */
const dischargedAt = (at: string) => ev('PatientDischarged', { visitId: 'v1', at, totalKrw: 0, amendment: 0, lines: [], billedKrw: 0, vatKrw: 0 });

const arrived = ev('PatientArrived', { visitId: 'v1', clinicId: 'c1', patientId: 'p1', reservationId: 'r1', at: T('10:55') });
const consulting = ev('ConsultationStarted', { visitId: 'v1', at: T('11:00'), staffId: 'dr-kim' });
const procedure = ev('ProcedureStarted', { visitId: 'v1', at: T('11:15') });
const recovery = ev('RecoveryStarted', { visitId: 'v1', at: T('11:45') });
const all: VisitEvent[] = [arrived, consulting, procedure, recovery];

describe('visit', () => {
  it('records the arrival', () => {
    given([])
      .when({ type: 'RecordArrival', visitId: 'v1', clinicId: 'c1', patientId: 'p1', reservationId: 'r1' }, ctx('10:55'))
      .then([arrived]);
  });

  it('moves forward through the stages, with the time of each', () => {
    given([arrived]).when({ type: 'StartConsultation', staffId: 'dr-kim' }, ctx('11:00')).then([consulting]);
    given([arrived, consulting]).when({ type: 'StartProcedure' }, ctx('11:15')).then([procedure]);
    given([arrived, consulting, procedure]).when({ type: 'StartRecovery' }, ctx('11:45')).then([recovery]);
    given(all)
      .when({ type: 'Discharge' }, ctx('12:10'))
      .thenState((s, evs) => {
        expect(evs).toEqual([dischargedAt(T('12:10'))]);
        expect(s.status === 'discharged' && s.path.map((p) => p.stage)).toEqual(['arrived', 'consultation', 'procedure', 'recovery', 'discharged']);
      });
  });

  it('stages in order: no procedure without a consultation, no going back, nothing after discharge', () => {
    given([arrived]).when({ type: 'StartProcedure' }, ctx('11:00')).thenThrows(VisitStageOutOfOrderError, {
      code: 'visit.stage_out_of_order',
      details: { from: 'arrived', to: 'procedure' },
    });
    given([arrived, consulting, procedure]).when({ type: 'StartConsultation' }, ctx('11:20')).thenThrows(VisitStageOutOfOrderError);
    given([arrived, consulting]).when({ type: 'StartRecovery' }, ctx('11:20')).thenThrows(VisitStageOutOfOrderError);
    const discharged = dischargedAt(T('11:10'));
    given([arrived, consulting, discharged]).when({ type: 'StartProcedure' }, ctx('11:20')).thenThrows(VisitStageOutOfOrderError);
  });

  it('a consultation-only visit may be discharged after the consultation', () => {
    given([arrived, consulting]).when({ type: 'Discharge' }, ctx('11:10')).then([dischargedAt(T('11:10'))]);
  });

  it('repeating the current stage is a no-op', () => {
    given([arrived, consulting]).when({ type: 'StartConsultation' }, ctx('11:01')).then([]);
  });

  it('adds a treatment mid-visit at its catalogue price, which the discharge totals', () => {
    const added = ev('TreatmentAdded', {
      visitId: 'v1', lineId: 'l1', treatmentId: BOTOX.treatmentId, treatmentName: BOTOX.name,
      unitPriceKrw: 99_000, quantity: 2, priceKrw: 198_000, taxCategory: 'taxable', at: T('11:10'), staffId: 'dr-kim',
    });
    given([arrived, consulting])
      .when({ type: 'AddTreatment', lineId: 'l1', treatmentId: BOTOX.treatmentId, quantity: 2, staffId: 'dr-kim' }, ctx('11:10'))
      .then([added]);
    given([arrived, consulting, added]).when({ type: 'AddTreatment', lineId: 'l1', treatmentId: BOTOX.treatmentId }, ctx('11:11')).then([]);
    given([arrived, consulting, added, procedure])
      .when({ type: 'Discharge' }, ctx('12:00'))
      .then([
        ev('PatientDischarged', {
          visitId: 'v1', at: T('12:00'), totalKrw: 198_000, amendment: 0, billedKrw: 198_000, vatKrw: 18_000,
          lines: [{ lineId: 'l1', treatmentId: BOTOX.treatmentId, treatmentName: BOTOX.name, taxCategory: 'taxable', priceKrw: 198_000, vatKrw: 18_000 }],
        }),
      ]);
    given([arrived]).when({ type: 'AddTreatment', lineId: 'l2', treatmentId: 'tx-none' }, ctx('11:00')).thenThrows(TreatmentNotFoundError);
  });

  it('no treatment is added after discharge', () => {
    const discharged = dischargedAt(T('11:10'));
    given([arrived, discharged])
      .when({ type: 'AddTreatment', lineId: 'l1', treatmentId: BOTOX.treatmentId }, ctx('11:20'))
      .thenThrows(InvalidTransitionError, { code: 'visit.invalid_transition' });
  });

  it('staff revert one step with a reason, after which the visit moves forward again', () => {
    const reverted = ev('VisitStageReverted', {
      visitId: 'v1', from: 'procedure', to: 'consultation', reason: 'moved the wrong card', staffId: 'nurse-lee', at: T('11:16'),
    });
    given([arrived, consulting, procedure])
      .when({ type: 'RevertStage', staffId: 'nurse-lee', reason: 'moved the wrong card' }, ctx('11:16'))
      .then([reverted]);
    given([arrived, consulting, procedure, reverted])
      .when({ type: 'StartProcedure' }, ctx('11:20'))
      .thenState((s) => expect(s.status === 'open' && s.path.map((p) => p.stage)).toEqual(['arrived', 'consultation', 'procedure']));
    // After a revert, going back again is one more explicit step.
    given([arrived, consulting, procedure, reverted])
      .when({ type: 'RevertStage', staffId: 'nurse-lee', reason: 'again' }, ctx('11:17'))
      .thenState((s) => expect(s.status !== 'none' && s.stage).toBe('arrived'));
  });

  it('a revert needs a reason and an earlier stage', () => {
    expect(() => visitDecider.commandSchema.parse({ type: 'RevertStage', staffId: 's', reason: '  ' })).toThrow();
    given([arrived]).when({ type: 'RevertStage', staffId: 's', reason: 'oops' }, ctx('11:00')).thenThrows(NothingToRevertError);
  });

  it('commands on a visit that has not started are refused', () => {
    given([]).when({ type: 'StartConsultation' } as VisitCommand, ctx('11:00')).thenThrows(NotFoundError, { code: 'visit.not_found' });
  });
});
