import { z } from 'zod';
import { Id, TaxCategory } from '../clinic/values';
import { eventFactory, eventSchema, makeUpcaster, type Upcasters } from '../shared/events';
import { Krw, vatPortion } from '../shared/money';
import { Instant } from '../shared/time';

/** The visit board's columns, in order. */
export const VISIT_STAGES = ['arrived', 'consultation', 'procedure', 'recovery', 'discharged'] as const;
export const VisitStage = z.enum(VISIT_STAGES);
export type VisitStage = z.infer<typeof VisitStage>;

const staffId = Id.optional();

export const PatientArrived = eventSchema(
  'PatientArrived',
  1,
  z.object({ visitId: Id, clinicId: Id, patientId: Id, reservationId: Id.optional(), at: Instant }),
);
export const ConsultationStarted = eventSchema('ConsultationStarted', 1, z.object({ visitId: Id, at: Instant, staffId }));
export const ProcedureStarted = eventSchema('ProcedureStarted', 1, z.object({ visitId: Id, at: Instant, staffId }));
export const RecoveryStarted = eventSchema('RecoveryStarted', 1, z.object({ visitId: Id, at: Instant, staffId }));
/** One line of a discharge's bill: what was sold, and the VAT inside its price (0 when exempt). */
export const BillLine = z.object({
  lineId: Id,
  treatmentId: Id,
  treatmentName: z.string(),
  taxCategory: TaxCategory,
  priceKrw: Krw,
  vatKrw: Krw,
});
export type BillLine = z.infer<typeof BillLine>;

/**
 * The sale of the visit. v2: the lines this discharge bills (the first discharge: every line; an
 * amendment after a reverted discharge: the lines added since), their total (`billedKrw`) and VAT
 * (per line, summed: `vatKrw`), and `amendment` (0 for the first discharge, then 1, 2…), which gives
 * an amendment bill its own payment id.
 */
export const PatientDischarged = eventSchema(
  'PatientDischarged',
  2,
  z.object({
    visitId: Id,
    at: Instant,
    staffId,
    /** Sum of all the treatments added (VAT-inclusive), earlier discharges' included. */
    totalKrw: Krw,
    amendment: z.number().int().min(0),
    lines: z.array(BillLine),
    billedKrw: Krw,
    vatKrw: Krw,
  }),
);

/**
 * A treatment added during the visit. The booked treatment is priced at the price frozen in the
 * reservation, any other at the catalogue price at that moment. v2 adds its tax category.
 */
export const TreatmentAdded = eventSchema(
  'TreatmentAdded',
  2,
  z.object({
    visitId: Id,
    lineId: Id,
    treatmentId: Id,
    treatmentName: z.string(),
    unitPriceKrw: Krw,
    quantity: z.number().int().min(1).max(100),
    priceKrw: Krw,
    taxCategory: TaxCategory,
    at: Instant,
    staffId,
  }),
);

/** Staff moved the visit back one stage (a mistake on the board), with the reason. */
export const VisitStageReverted = eventSchema(
  'VisitStageReverted',
  1,
  z.object({ visitId: Id, from: VisitStage, to: VisitStage, reason: z.string().min(1).max(1000), staffId: Id, at: Instant }),
);

export const VisitEvent = z.discriminatedUnion('type', [
  PatientArrived,
  ConsultationStarted,
  TreatmentAdded,
  ProcedureStarted,
  RecoveryStarted,
  PatientDischarged,
  VisitStageReverted,
]);
export type VisitEvent = z.infer<typeof VisitEvent>;

export const VISIT_EVENT_VERSIONS = {
  PatientArrived: 1,
  ConsultationStarted: 1,
  TreatmentAdded: 2,
  ProcedureStarted: 1,
  RecoveryStarted: 1,
  PatientDischarged: 2,
  VisitStageReverted: 1,
} as const satisfies Record<VisitEvent['type'], number>;

export const visitEvent = eventFactory<VisitEvent>(VISIT_EVENT_VERSIONS);

export const visitUpcasters: Upcasters = {
  // v1 → v2: no tax category yet; the clinics' treatments were cosmetic, taxable.
  TreatmentAdded: { 1: (data) => ({ taxCategory: 'taxable', ...data }) },
  // v1 → v2: a v1 discharge billed the visit's whole total as one amount (lines were not recorded,
  // amendments did not exist); its VAT was taken from that total, as the v1 bill did.
  PatientDischarged: {
    1: (data) => {
      const totalKrw = typeof data.totalKrw === 'number' ? data.totalKrw : 0;
      return { amendment: 0, lines: [], billedKrw: totalKrw, vatKrw: vatPortion(totalKrw), ...data };
    },
  },
};

export const upcastVisitEvent = makeUpcaster<VisitEvent>(VisitEvent, VISIT_EVENT_VERSIONS, visitUpcasters);

/** The event that moves a visit into each stage. */
export const STAGE_EVENT = {
  arrived: 'PatientArrived',
  consultation: 'ConsultationStarted',
  procedure: 'ProcedureStarted',
  recovery: 'RecoveryStarted',
  discharged: 'PatientDischarged',
} as const satisfies Record<VisitStage, VisitEvent['type']>;
