import { z } from 'zod';
import { Id } from '../clinic/values';

const staffId = Id.optional();

export const RecordArrival = z.object({
  type: z.literal('RecordArrival'),
  visitId: Id,
  clinicId: Id,
  patientId: Id,
  reservationId: Id.optional(),
  staffId,
});
export const StartConsultation = z.object({ type: z.literal('StartConsultation'), staffId });
export const StartProcedure = z.object({ type: z.literal('StartProcedure'), staffId });
export const StartRecovery = z.object({ type: z.literal('StartRecovery'), staffId });
export const Discharge = z.object({ type: z.literal('Discharge'), staffId });
export const AddTreatment = z.object({
  type: z.literal('AddTreatment'),
  lineId: Id,
  treatmentId: Id,
  quantity: z.number().int().min(1).max(100).optional(),
  staffId,
});
export const RevertStage = z.object({ type: z.literal('RevertStage'), staffId: Id, reason: z.string().trim().min(1).max(1000) });

export const VisitCommand = z.discriminatedUnion('type', [
  RecordArrival,
  StartConsultation,
  StartProcedure,
  StartRecovery,
  Discharge,
  AddTreatment,
  RevertStage,
]);
export type VisitCommand = z.infer<typeof VisitCommand>;
