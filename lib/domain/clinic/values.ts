import { z } from 'zod';
import { Krw } from '../shared/money';
import { DayKey, LocalTime, Weekday } from '../shared/time';

export const Id = z.string().min(1).max(100).regex(/^[A-Za-z0-9_.:-]+$/, 'ids are [A-Za-z0-9_.:-]');

/** One opening interval on a weekday, local Asia/Seoul time; a day may have several (lunch break). */
export const OpeningInterval = z.object({ weekday: Weekday, opens: LocalTime, closes: LocalTime });
export type OpeningInterval = z.infer<typeof OpeningInterval>;

/** The week's opening intervals; a weekday with no interval is closed. */
export const OpeningHours = z.array(OpeningInterval).max(7 * 6);
export type OpeningHours = z.infer<typeof OpeningHours>;

/**
 * The cancellation policy. Frozen into each reservation when it is requested.
 * - free cancellation until `freeCancellationHours` before the start; later, a patient's
 *   cancellation (or reschedule) costs `lateCancellationFeeKrw`, a fixed VAT-inclusive KRW amount
 *   (we chose a fixed amount over a percentage: clinics quote it that way and it freezes exactly);
 *   it is withheld from the deposit, the refund being max(0, depositPaid − fee);
 * - a no-show forfeits the whole deposit when `noShowForfeitsDeposit`;
 * - no booking (or reschedule) closer than `minimumNoticeHours` to the start.
 */
export const CancellationPolicy = z.object({
  freeCancellationHours: z.number().int().min(0).max(24 * 30),
  lateCancellationFeeKrw: Krw,
  noShowForfeitsDeposit: z.boolean(),
  minimumNoticeHours: z.number().int().min(0).max(24 * 30),
});
export type CancellationPolicy = z.infer<typeof CancellationPolicy>;

/** instant: the booking is confirmed as soon as its deposit (if any) is paid; clinic-confirm: staff confirm it. */
export const BookingMode = z.enum(['instant', 'clinic-confirm']);
export type BookingMode = z.infer<typeof BookingMode>;

/** The visit stages a card can wait in (the visit's stages but discharged, which is the end). */
export const TIMED_VISIT_STAGES = ['arrived', 'consultation', 'procedure', 'recovery'] as const;
export type TimedVisitStage = (typeof TIMED_VISIT_STAGES)[number];

const stageMinutes = z.number().int().min(1).max(24 * 60);
/** Minutes a visit may stay in each stage before the board highlights its card (issue 9, the visit board). */
export const StageThresholds = z.object({ arrived: stageMinutes, consultation: stageMinutes, procedure: stageMinutes, recovery: stageMinutes });
export type StageThresholds = z.infer<typeof StageThresholds>;

/**
 * Clinic settings (issue 8): how far ahead patients may book (whole clinic days after today,
 * Asia/Seoul), and how long a pay-and-book reservation waits for its deposit before it is cancelled
 * and its slot released (the payment process manager's timer reads it). A clinic that never changed
 * them has the defaults; readers without the clinic state (read models) use the defaults too.
 */
export const ClinicSettings = z.object({
  bookingHorizonDays: z.number().int().min(1).max(730),
  paymentDeadlineMinutes: z.number().int().min(5).max(24 * 60),
  /** Minutes after a confirmed booking's start before the desk may record a no-show (the patient may just be late). */
  noShowGraceMinutes: z.number().int().min(0).max(24 * 60),
  /** The visit board's highlight per stage. */
  stageThresholdMinutes: StageThresholds,
});
export type ClinicSettings = z.infer<typeof ClinicSettings>;

export const DEFAULT_STAGE_THRESHOLDS: StageThresholds = Object.freeze({ arrived: 15, consultation: 30, procedure: 90, recovery: 60 });

export const DEFAULT_CLINIC_SETTINGS: ClinicSettings = Object.freeze({
  bookingHorizonDays: 90,
  paymentDeadlineMinutes: 30,
  noShowGraceMinutes: 15,
  stageThresholdMinutes: DEFAULT_STAGE_THRESHOLDS,
});

/**
 * A holiday or one-off closure: a clinic day (Asia/Seoul) on which no slot is offered and no booking
 * taken, whatever the opening hours say; the reason is shown to patients and staff.
 */
export const ClosureReason = z.string().trim().min(1).max(200);
export const ClosedDay = z.object({ day: DayKey, reason: ClosureReason });
export type ClosedDay = z.infer<typeof ClosedDay>;

/**
 * How a patient may book a treatment. consult-first: a consultation (the treatment's
 * `consultDurationMinutes`, no deposit); pay-and-book: the treatment itself (its duration), paying
 * its deposit to book. Each treatment declares the kinds it allows: a clinic that requires the
 * deposit lists pay-and-book only, so consult first cannot skip it.
 */
export const BookingKind = z.enum(['consult-first', 'pay-and-book']);
export type BookingKind = z.infer<typeof BookingKind>;

export const SlotConfiguration = z.object({
  /** Length of one slot in minutes; slots start at each opening interval's start. */
  slotLengthMinutes: z.number().int().min(5).max(240),
  /** How many reservations may hold the same slot at once (chairs/rooms/staff). */
  slotCapacity: z.number().int().min(1).max(100),
});
export type SlotConfiguration = z.infer<typeof SlotConfiguration>;

/** How a clinic presents itself besides its (Korean) name: English name, district, address, phone. */
export const ClinicProfile = z
  .object({
    nameEn: z.string().min(1).max(200),
    district: z.string().min(1).max(100),
    address: z.string().min(1).max(300),
    phone: z.string().regex(/^[0-9+-]{7,20}$/, 'phone digits'),
  })
  .partial();
export type ClinicProfile = z.infer<typeof ClinicProfile>;

/**
 * VAT treatment of a treatment's sale (docs/payments.md, "VAT"): cosmetic procedures are taxable in
 * Korea (10 %, inside the price); many medical treatments are exempt. Treatments listed before the
 * field existed read as taxable (TreatmentListed v3 → v4).
 */
export const TaxCategory = z.enum(['taxable', 'exempt']);
export type TaxCategory = z.infer<typeof TaxCategory>;

export const TreatmentDetails = z.object({
  treatmentId: Id,
  /** The name patients see in Korean (the default UI language). */
  name: z.string().min(1).max(200),
  nameEn: z.string().min(1).max(200).optional(),
  /** Free category code, e.g. skin, laser, injectable, lifting, body, hair-removal. */
  category: z.string().min(1).max(50),
  /** VAT-inclusive price in KRW. */
  priceKrw: Krw,
  durationMinutes: z.number().int().min(5).max(12 * 60),
  /** Deposit taken for "pay and book" (VAT-inclusive KRW, ≤ price). */
  depositKrw: Krw,
  bookingMode: BookingMode,
  /** The booking kinds the clinic allows for it (at least one, no repeats). */
  bookingKinds: z
    .array(BookingKind)
    .min(1)
    .max(2)
    .refine((kinds) => new Set(kinds).size === kinds.length, 'each kind once'),
  /** Length of the consultation booked by consult-first; required when consult-first is allowed. */
  consultDurationMinutes: z.number().int().min(5).max(12 * 60).optional(),
  /** VAT category of its sale; 'taxable' when not given. */
  taxCategory: TaxCategory.optional(),
});
export type TreatmentDetails = z.infer<typeof TreatmentDetails>;
/**
 * The details of a listed treatment that can be changed after listing (price and deposit have their
 * own command). null clears an optional one (the English name, the consultation length).
 */
export const TreatmentDetailChanges = z
  .object({
    name: TreatmentDetails.shape.name,
    nameEn: TreatmentDetails.shape.nameEn.unwrap().nullable(),
    category: TreatmentDetails.shape.category,
    durationMinutes: TreatmentDetails.shape.durationMinutes,
    bookingMode: BookingMode,
    bookingKinds: TreatmentDetails.shape.bookingKinds,
    consultDurationMinutes: TreatmentDetails.shape.consultDurationMinutes.unwrap().nullable(),
    taxCategory: TaxCategory,
  })
  .partial();
export type TreatmentDetailChanges = z.infer<typeof TreatmentDetailChanges>;

/** A treatment's details as TreatmentListed records them (the tax category filled in). */
export type ListedTreatmentDetails = TreatmentDetails & { readonly taxCategory: TaxCategory };
