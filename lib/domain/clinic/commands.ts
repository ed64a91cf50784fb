import { z } from 'zod';
import { Krw } from '../shared/money';
import { CancellationPolicy, ClinicProfile, ClinicSettings, Id, OpeningHours, SlotConfiguration, TreatmentDetails } from './values';

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
  })
  .refine((c) => c.bookingHorizonDays !== undefined || c.paymentDeadlineMinutes !== undefined || c.noShowGraceMinutes !== undefined, 'a setting to change');

export const ClinicCommand = z.discriminatedUnion('type', [
  RegisterClinic,
  ListTreatment,
  ChangeTreatmentPrice,
  UnlistTreatment,
  SetOpeningHours,
  SetSlotConfiguration,
  SetCancellationPolicy,
  ChangeClinicSettings,
]);
export type ClinicCommand = z.infer<typeof ClinicCommand>;
