import { z } from 'zod';
import { Id } from '../clinic/values';
import { eventFactory, eventSchema, makeUpcaster } from '../shared/events';
import { Krw } from '../shared/money';
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
export const PatientDischarged = eventSchema(
  'PatientDischarged',
  1,
  z.object({ visitId: Id, at: Instant, staffId, /** Sum of the treatments added (VAT-inclusive). */ totalKrw: Krw }),
);

/** A treatment added during the visit, priced from the catalogue at that moment. */
export const TreatmentAdded = eventSchema(
  'TreatmentAdded',
  1,
  z.object({
    visitId: Id,
    lineId: Id,
    treatmentId: Id,
    treatmentName: z.string(),
    unitPriceKrw: Krw,
    quantity: z.number().int().min(1).max(100),
    priceKrw: Krw,
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
  TreatmentAdded: 1,
  ProcedureStarted: 1,
  RecoveryStarted: 1,
  PatientDischarged: 1,
  VisitStageReverted: 1,
} as const satisfies Record<VisitEvent['type'], number>;

export const visitEvent = eventFactory<VisitEvent>(VISIT_EVENT_VERSIONS);

export const upcastVisitEvent = makeUpcaster<VisitEvent>(VisitEvent, VISIT_EVENT_VERSIONS);

/** The event that moves a visit into each stage. */
export const STAGE_EVENT = {
  arrived: 'PatientArrived',
  consultation: 'ConsultationStarted',
  procedure: 'ProcedureStarted',
  recovery: 'RecoveryStarted',
  discharged: 'PatientDischarged',
} as const satisfies Record<VisitStage, VisitEvent['type']>;
