import { z } from 'zod';
import { eventFactory, eventSchema, makeUpcaster, type Upcasters } from '../shared/events';
import { Krw } from '../shared/money';
import { DayKey, Instant } from '../shared/time';
import { CancellationPolicy, ClinicProfile, ClinicSettings, ClosureReason, Id, OpeningHours, SlotConfiguration, StageThresholds, TaxCategory, TreatmentDetailChanges, TreatmentDetails } from './values';

export const ClinicRegistered = eventSchema(
  'ClinicRegistered',
  1,
  z.object({
    clinicId: Id,
    name: z.string().min(1).max(200),
    openingHours: OpeningHours,
    slotLengthMinutes: SlotConfiguration.shape.slotLengthMinutes,
    slotCapacity: SlotConfiguration.shape.slotCapacity,
    policy: CancellationPolicy,
    profile: ClinicProfile.optional(),
  }),
);

/**
 * v2 added `bookingMode` (v1 events read as "clinic-confirm", which is how clinics worked then);
 * v3 added `bookingKinds` and `consultDurationMinutes` (see the upcaster); v4 `taxCategory` (always
 * recorded; older events read as taxable).
 */
export const TreatmentListed = eventSchema('TreatmentListed', 4, TreatmentDetails.extend({ taxCategory: TaxCategory }));

export const TreatmentPriceChanged = eventSchema(
  'TreatmentPriceChanged',
  1,
  z.object({
    treatmentId: Id,
    previousPriceKrw: Krw,
    priceKrw: Krw,
    previousDepositKrw: Krw,
    depositKrw: Krw,
    effectiveAt: Instant,
  }),
);

/**
 * A listed treatment's details changed: `details` the new values of the fields that changed,
 * `previous` what they were (same keys; null: an optional detail that was not set, or is cleared).
 */
export const TreatmentDetailsChanged = eventSchema(
  'TreatmentDetailsChanged',
  1,
  z.object({ treatmentId: Id, details: TreatmentDetailChanges, previous: TreatmentDetailChanges }),
);

export const TreatmentUnlisted = eventSchema('TreatmentUnlisted', 1, z.object({ treatmentId: Id }));

/*
 * v2 of the three below records the values they replaced (the audit trail shows both). v1 events did
 * not: they upcast with `previous…: null`, "not recorded" (the entity's history still has it).
 */
export const OpeningHoursSet = eventSchema('OpeningHoursSet', 2, z.object({ openingHours: OpeningHours, previousOpeningHours: OpeningHours.nullable() }));

export const SlotConfigurationSet = eventSchema(
  'SlotConfigurationSet',
  2,
  SlotConfiguration.extend({
    previousSlotLengthMinutes: SlotConfiguration.shape.slotLengthMinutes.nullable(),
    previousSlotCapacity: SlotConfiguration.shape.slotCapacity.nullable(),
  }),
);

export const CancellationPolicySet = eventSchema('CancellationPolicySet', 2, z.object({ policy: CancellationPolicy, previousPolicy: CancellationPolicy.nullable() }));

/** A clinic day closed (holiday, one-off closure); `previousReason` when it was closed already, for another reason. */
export const DayClosed = eventSchema('DayClosed', 1, z.object({ day: DayKey, reason: ClosureReason, previousReason: ClosureReason.optional() }));

/** A closed day opened again; `previousReason`: why it had been closed. */
export const DayReopened = eventSchema('DayReopened', 1, z.object({ day: DayKey, previousReason: ClosureReason }));

/** The clinic's settings after the change, with the values they replaced (the audit trail reads both). */
export const ClinicSettingsChanged = eventSchema(
  'ClinicSettingsChanged',
  1,
  z.object({
    bookingHorizonDays: ClinicSettings.shape.bookingHorizonDays,
    previousBookingHorizonDays: ClinicSettings.shape.bookingHorizonDays,
    paymentDeadlineMinutes: ClinicSettings.shape.paymentDeadlineMinutes,
    previousPaymentDeadlineMinutes: ClinicSettings.shape.paymentDeadlineMinutes,
    /** Present when the no-show grace changed (added later: events without it left it as it was). */
    noShowGraceMinutes: ClinicSettings.shape.noShowGraceMinutes.optional(),
    previousNoShowGraceMinutes: ClinicSettings.shape.noShowGraceMinutes.optional(),
    /** Present when a stage threshold changed (all four stages, before and after; added later, like the grace). */
    stageThresholdMinutes: StageThresholds.optional(),
    previousStageThresholdMinutes: StageThresholds.optional(),
  }),
);

export const ClinicEvent = z.discriminatedUnion('type', [
  ClinicRegistered,
  TreatmentListed,
  TreatmentPriceChanged,
  TreatmentDetailsChanged,
  TreatmentUnlisted,
  OpeningHoursSet,
  SlotConfigurationSet,
  CancellationPolicySet,
  ClinicSettingsChanged,
  DayClosed,
  DayReopened,
]);
export type ClinicEvent = z.infer<typeof ClinicEvent>;

export const CLINIC_EVENT_VERSIONS = {
  ClinicRegistered: 1,
  TreatmentListed: 4,
  TreatmentPriceChanged: 1,
  TreatmentDetailsChanged: 1,
  TreatmentUnlisted: 1,
  OpeningHoursSet: 2,
  SlotConfigurationSet: 2,
  CancellationPolicySet: 2,
  ClinicSettingsChanged: 1,
  DayClosed: 1,
  DayReopened: 1,
} as const satisfies Record<ClinicEvent['type'], number>;

export const clinicEvent = eventFactory<ClinicEvent>(CLINIC_EVENT_VERSIONS);

export const clinicUpcasters: Upcasters = {
  TreatmentListed: {
    // v1 → v2: bookingMode did not exist; every treatment needed the clinic's confirmation.
    1: (data) => ({ bookingMode: 'clinic-confirm', ...data }),
    // v2 → v3: kinds were not declared. Read conservatively: a treatment with a deposit takes
    // pay-and-book only (consult first must not skip the deposit); one without takes consult-first,
    // for its own duration (what a consult-first booking of it held before).
    2: (data) =>
      typeof data.depositKrw === 'number' && data.depositKrw > 0
        ? { bookingKinds: ['pay-and-book'], ...data }
        : { bookingKinds: ['consult-first'], consultDurationMinutes: data.durationMinutes, ...data },
    // v3 → v4: no tax category yet; cosmetic procedures (what the clinics listed) are taxable.
    3: (data) => ({ taxCategory: 'taxable', ...data }),
  },
  // v1 → v2: the values replaced were not recorded then.
  OpeningHoursSet: { 1: (data) => ({ previousOpeningHours: null, ...data }) },
  SlotConfigurationSet: { 1: (data) => ({ previousSlotLengthMinutes: null, previousSlotCapacity: null, ...data }) },
  CancellationPolicySet: { 1: (data) => ({ previousPolicy: null, ...data }) },
};

export const upcastClinicEvent = makeUpcaster<ClinicEvent>(ClinicEvent, CLINIC_EVENT_VERSIONS, clinicUpcasters);
