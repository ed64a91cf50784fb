import { z } from 'zod';
import { Krw } from '../shared/money';
import { DayKey } from '../shared/time';
import { CancellationPolicy, ClinicProfile, ClinicSettings, ClosureReason, Id, OpeningHours, SlotConfiguration, StageThresholds, TreatmentDetailChanges, TreatmentDetails } from './values';

export const RegisterClinic = z.object({
  type: z.literal('RegisterClinic'),
  clinicId: Id,
  name: z.string().min(1).max(200),
  openingHours: OpeningHours,
  slotLengthMinutes: SlotConfiguration.shape.slotLengthMinutes,
  slotCapacity: SlotConfiguration.shape.slotCapacity,
  policy: CancellationPolicy,
  profile: ClinicProfile.optional(),
});

export const ListTreatment = TreatmentDetails.extend({ type: z.literal('ListTreatment') });

export const ChangeTreatmentPrice = z.object({
  type: z.literal('ChangeTreatmentPrice'),
  treatmentId: Id,
  priceKrw: Krw,
  /** Omitted: the deposit stays as it is (and must still be ≤ the new price). */
  depositKrw: Krw.optional(),
});

/** Change a listed treatment's duration, booking kinds and mode, tax category, name or category; those omitted stay. */
export const ChangeTreatmentDetails = TreatmentDetailChanges.extend({ type: z.literal('ChangeTreatmentDetails'), treatmentId: Id }).refine(
  ({ type: _t, treatmentId: _id, ...changes }) => Object.values(changes).some((v) => v !== undefined),
  'a detail to change',
);

export const UnlistTreatment = z.object({ type: z.literal('UnlistTreatment'), treatmentId: Id });

export const SetOpeningHours = z.object({ type: z.literal('SetOpeningHours'), openingHours: OpeningHours });

export const SetSlotConfiguration = SlotConfiguration.extend({ type: z.literal('SetSlotConfiguration') });

export const SetCancellationPolicy = z.object({ type: z.literal('SetCancellationPolicy'), policy: CancellationPolicy });

/** Change one or more settings; those omitted stay as they are. */
export const ChangeClinicSettings = z
  .object({
    type: z.literal('ChangeClinicSettings'),
    bookingHorizonDays: ClinicSettings.shape.bookingHorizonDays.optional(),
    paymentDeadlineMinutes: ClinicSettings.shape.paymentDeadlineMinutes.optional(),
    noShowGraceMinutes: ClinicSettings.shape.noShowGraceMinutes.optional(),
    /** Stages omitted keep their threshold. */
    stageThresholdMinutes: StageThresholds.partial().optional(),
  })
  .refine(
    (c) =>
      c.bookingHorizonDays !== undefined ||
      c.paymentDeadlineMinutes !== undefined ||
      c.noShowGraceMinutes !== undefined ||
      Object.values(c.stageThresholdMinutes ?? {}).some((v) => v !== undefined),
    'a setting to change',
  );

/** Close a clinic day (a holiday, a one-off closure): no slots, no bookings. Closing it again with another reason changes the reason. */
export const CloseDay = z.object({ type: z.literal('CloseDay'), day: DayKey, reason: ClosureReason });

/** Open a closed day again (its opening hours apply). */
export const ReopenDay = z.object({ type: z.literal('ReopenDay'), day: DayKey });

export const ClinicCommand = z.discriminatedUnion('type', [
  RegisterClinic,
  ListTreatment,
  ChangeTreatmentPrice,
  ChangeTreatmentDetails,
  UnlistTreatment,
  SetOpeningHours,
  SetSlotConfiguration,
  SetCancellationPolicy,
  ChangeClinicSettings,
  CloseDay,
  ReopenDay,
]);
export type ClinicCommand = z.infer<typeof ClinicCommand>;
