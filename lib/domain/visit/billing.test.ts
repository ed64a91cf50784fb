/**
 * Billing rules of the visit (issue 9, "Billing rules to correct on the way"), given/when/then.
 * The flows across streams (deposit credited, refunded, amendment bills) are in
 * lib/process-managers/billing.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { BOTOX, clinicHistory, clinicState, ULTHERA } from '../clinic/fixtures';
import { clinicEvent } from '../clinic/events';
import { TreatmentUnlistedError } from '../clinic/errors';
import { NotFoundError } from '../shared/errors';
import { spec } from '../shared/testing';
import { upcastVisitEvent, visitDecider, visitEvent as ev, VisitReservationMismatchError, type VisitContext, type VisitReservationFacts } from './index';

const { given } = spec(visitDecider);
const T = (hhmm: string) => new Date(`2025-03-03T${hhmm}:00+09:00`).toISOString();
// Booked at 99 000; the clinic raised Botox to 129 000 afterwards, then unlisted it.
const raised = clinicState([...clinicHistory, clinicEvent('TreatmentPriceChanged', { treatmentId: BOTOX.treatmentId, previousPriceKrw: 99_000, priceKrw: 129_000, previousDepositKrw: 50_000, depositKrw: 50_000, effectiveAt: T('09:00') })]);
const unlisted = clinicState([...clinicHistory, clinicEvent('TreatmentUnlisted', { treatmentId: BOTOX.treatmentId })]);
// An exempt treatment (a medical one) next to the taxable cosmetic ones.
const ECZEMA = { ...ULTHERA, treatmentId: 'tx-eczema', name: '습진 치료', category: 'medical', priceKrw: 55_000, depositKrw: 0, taxCategory: 'exempt' as const };
const withExempt = clinicState([...clinicHistory, clinicEvent('TreatmentListed', ECZEMA)]);

const booking: VisitReservationFacts = { reservationId: 'r1', clinicId: 'c1', patientId: 'p1', visitId: 'v1', treatmentId: BOTOX.treatmentId, treatmentName: BOTOX.name, priceKrw: 99_000 };
const ctx = (hhmm: string, over: Partial<VisitContext> = {}): VisitContext => ({ now: new Date(T(hhmm)), clinic: clinicState(), reservation: booking, ...over });

const arrived = ev('PatientArrived', { visitId: 'v1', clinicId: 'c1', patientId: 'p1', reservationId: 'r1', at: T('10:55') });
const walkIn = ev('PatientArrived', { visitId: 'v1', clinicId: 'c1', patientId: 'p1', at: T('10:55') });
const consulting = ev('ConsultationStarted', { visitId: 'v1', at: T('11:00') });
const line = (lineId: string, t: { treatmentId: string; name: string }, priceKrw: number, taxCategory: 'taxable' | 'exempt' = 'taxable') =>
  ev('TreatmentAdded', { visitId: 'v1', lineId, treatmentId: t.treatmentId, treatmentName: t.name, unitPriceKrw: priceKrw, quantity: 1, priceKrw, taxCategory, at: T('11:05') });

describe('the bill uses the price frozen in the reservation for the booked treatment', () => {
  it('given a booking at 99 000 and a price raised to 129 000, when the booked treatment is added, then it is 99 000', () => {
    given([arrived, consulting])
      .when({ type: 'AddTreatment', lineId: 'l1', treatmentId: BOTOX.treatmentId }, ctx('11:05', { clinic: raised }))
      .then([line('l1', BOTOX, 99_000)]);
  });

  it('given the booked treatment was unlisted since, when it is added, then it is billed at the frozen price; another unlisted one is still refused', () => {
    given([arrived, consulting])
      .when({ type: 'AddTreatment', lineId: 'l1', treatmentId: BOTOX.treatmentId }, ctx('11:05', { clinic: unlisted }))
      .then([line('l1', BOTOX, 99_000)]);
    given([walkIn, consulting])
      .when({ type: 'AddTreatment', lineId: 'l1', treatmentId: BOTOX.treatmentId }, ctx('11:05', { clinic: unlisted, reservation: undefined }))
      .thenThrows(TreatmentUnlistedError);
  });

  it('given a walk-in (no reservation), when a treatment is added, then the catalogue price of now applies', () => {
    given([walkIn, consulting])
      .when({ type: 'AddTreatment', lineId: 'l1', treatmentId: BOTOX.treatmentId }, ctx('11:05', { clinic: raised, reservation: undefined }))
      .then([line('l1', BOTOX, 129_000)]);
  });
});

describe("a walk-in's arrival linked to a reservation checks the link", () => {
  const arrival = { type: 'RecordArrival' as const, visitId: 'v1', clinicId: 'c1', patientId: 'p1', reservationId: 'r1' };
  it('given the reservation checked in to this visit, when the arrival is recorded, then it is', () => {
    given([]).when(arrival, ctx('10:55')).then([arrived]);
  });
  it("given another patient's, another clinic's, a not checked-in or a missing reservation, then the arrival is refused", () => {
    given([]).when({ ...arrival, patientId: 'p2' }, ctx('10:55')).thenThrows(VisitReservationMismatchError, { code: 'visit.reservation_mismatch', details: { mismatch: 'patient' } });
    given([]).when({ ...arrival, clinicId: 'c2' }, ctx('10:55')).thenThrows(VisitReservationMismatchError, { details: { mismatch: 'clinic' } });
    given([]).when(arrival, ctx('10:55', { reservation: { ...booking, visitId: null } })).thenThrows(VisitReservationMismatchError, { details: { mismatch: 'visit' } });
    given([]).when(arrival, ctx('10:55', { reservation: null })).thenThrows(NotFoundError, { code: 'reservation.not_found' });
  });
});

describe('VAT per bill line at discharge', () => {
  it('given a taxable 100 000 line, when discharged, then the sale carries 9 091 VAT (once, not per payment)', () => {
    given([walkIn, consulting, line('l1', BOTOX, 100_000)])
      .when({ type: 'Discharge' }, ctx('12:00', { reservation: undefined }))
      .thenState((_s, [e]) =>
        expect(e).toEqual(
          ev('PatientDischarged', {
            visitId: 'v1', at: T('12:00'), totalKrw: 100_000, amendment: 0, billedKrw: 100_000, vatKrw: 9_091,
            lines: [{ lineId: 'l1', treatmentId: BOTOX.treatmentId, treatmentName: BOTOX.name, taxCategory: 'taxable', priceKrw: 100_000, vatKrw: 9_091 }],
          }),
        ),
      );
  });

  it('given an exempt line next to a taxable one, then only the taxable line carries VAT', () => {
    given([walkIn, consulting])
      .when({ type: 'AddTreatment', lineId: 'l2', treatmentId: ECZEMA.treatmentId }, ctx('11:05', { clinic: withExempt, reservation: undefined }))
      .then([line('l2', ECZEMA, 55_000, 'exempt')]);
    given([walkIn, consulting, line('l1', BOTOX, 99_000), line('l2', ECZEMA, 55_000, 'exempt')])
      .when({ type: 'Discharge' }, ctx('12:00', { reservation: undefined }))
      .thenState((_s, [e]) => expect(e).toMatchObject({ data: { billedKrw: 154_000, vatKrw: 9_000, lines: [{ vatKrw: 9_000 }, { vatKrw: 0 }] } }));
  });

  it('stored v1 events read as v2: TreatmentAdded taxable, PatientDischarged billing its total as before', () => {
    const { taxCategory: _t, ...v1line } = line('l1', BOTOX, 99_000).data;
    expect(upcastVisitEvent({ type: 'TreatmentAdded', schemaVersion: 1, data: v1line })).toEqual(line('l1', BOTOX, 99_000));
    expect(upcastVisitEvent({ type: 'PatientDischarged', schemaVersion: 1, data: { visitId: 'v1', at: T('12:00'), totalKrw: 100_000 } })).toEqual(
      ev('PatientDischarged', { visitId: 'v1', at: T('12:00'), totalKrw: 100_000, amendment: 0, lines: [], billedKrw: 100_000, vatKrw: 9_091 }),
    );
  });
});

describe('a reverted discharge: the next discharge is an amendment billing only what was added', () => {
  const first = ev('PatientDischarged', {
    visitId: 'v1', at: T('12:00'), totalKrw: 99_000, amendment: 0, billedKrw: 99_000, vatKrw: 9_000,
    lines: [{ lineId: 'l1', treatmentId: BOTOX.treatmentId, treatmentName: BOTOX.name, taxCategory: 'taxable', priceKrw: 99_000, vatKrw: 9_000 }],
  });
  const reverted = ev('VisitStageReverted', { visitId: 'v1', from: 'discharged', to: 'consultation', reason: 'one more treatment', staffId: 's1', at: T('12:05') });
  const added = { ...line('l2', ULTHERA, 1_200_000), data: { ...line('l2', ULTHERA, 1_200_000).data, at: T('12:10') } };
  it('given a discharge reverted and a treatment added, when discharged again, then amendment 1 bills the added line', () => {
    given([arrived, consulting, line('l1', BOTOX, 99_000), first, reverted, added])
      .when({ type: 'Discharge' }, ctx('12:30'))
      .then([
        ev('PatientDischarged', {
          visitId: 'v1', at: T('12:30'), totalKrw: 1_299_000, amendment: 1, billedKrw: 1_200_000, vatKrw: 109_091,
          lines: [{ lineId: 'l2', treatmentId: ULTHERA.treatmentId, treatmentName: ULTHERA.name, taxCategory: 'taxable', priceKrw: 1_200_000, vatKrw: 109_091 }],
        }),
      ]);
  });
  it('given a discharge reverted and nothing added, when discharged again, then the amendment bills nothing', () => {
    given([arrived, consulting, line('l1', BOTOX, 99_000), first, reverted])
      .when({ type: 'Discharge' }, ctx('12:30'))
      .thenState((_s, [e]) => expect(e).toMatchObject({ data: { amendment: 1, billedKrw: 0, vatKrw: 0, lines: [] } }));
  });
});
