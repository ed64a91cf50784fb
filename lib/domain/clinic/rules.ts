import {
  atLocal,
  clinicDay,
  iso,
  isBefore,
  localTime,
  minutesOfDay,
  plusMinutes,
  timeOfMinutes,
  weekdayOfDay,
  type DayKey,
  type LocalTime,
} from '../shared/time';
import {
  BookingBeyondHorizonError,
  BookingKindNotAllowedError,
  BookingOnClosedDayError,
  BookingInPastError,
  BookingInsideMinimumNoticeError,
  BookingOutsideOpeningHoursError,
  InvalidOpeningHoursError,
  NoShowBeforeGraceError,
  SlotNotAlignedError,
} from './errors';
import { DEFAULT_CLINIC_SETTINGS, type BookingKind, type ClinicSettings, type OpeningHours, type OpeningInterval, type TreatmentDetails } from './values';

/**
 * The facts about a clinic that booking rules need. A RegisteredClinic satisfies it; the command
 * handler may also build it from a read model.
 */
export interface ClinicBookingFacts {
  readonly openingHours: OpeningHours;
  readonly slotLengthMinutes: number;
  readonly slotCapacity: number;
  readonly policy: { readonly minimumNoticeHours: number };
  /** The clinic's settings; absent (a read model without them) means the defaults. */
  readonly settings?: SettingsAsStored;
  /** Holidays and one-off closures (day → reason); absent: none. */
  readonly closedDays?: Readonly<Record<DayKey, string>>;
}

/** Settings as a reader may hold them: any of them, a stage's threshold included, may be missing (the default then). */
export type SettingsAsStored = Partial<Omit<ClinicSettings, 'stageThresholdMinutes'>> & { readonly stageThresholdMinutes?: Partial<ClinicSettings['stageThresholdMinutes']> };

/** The clinic's settings with the defaults filled in (for any reader: domain, read models, timers). */
export function clinicSettingsOf(clinic: { readonly settings?: SettingsAsStored | null }): ClinicSettings {
  const stored = clinic.settings ?? {};
  return {
    ...DEFAULT_CLINIC_SETTINGS,
    ...stored,
    stageThresholdMinutes: { ...DEFAULT_CLINIC_SETTINGS.stageThresholdMinutes, ...(stored.stageThresholdMinutes ?? {}) },
  };
}

/** Why the clinic is closed on `day` (a holiday or one-off closure), or null when it is not. */
export function closureOn(clinic: Pick<ClinicBookingFacts, 'closedDays'>, day: DayKey): string | null {
  return clinic.closedDays?.[day] ?? null;
}

/**
 * The last clinic day (Asia/Seoul) a patient may book: today plus the horizon in whole days.
 * Pages offering days use it too, so they never offer a day the booking would refuse.
 */
export function lastBookableDay(now: Date, bookingHorizonDays: number): DayKey {
  // Seoul has no daylight saving: a clinic day is always 24 h, so noon + n × 24 h is n days later.
  return clinicDay(plusMinutes(atLocal(clinicDay(now), '12:00'), bookingHorizonDays * 24 * 60));
}

/** Refuses a start on a clinic day after the last bookable one. */
export function assertWithinHorizon(clinic: Pick<ClinicBookingFacts, 'settings'>, startsAt: Date | string, now: Date): void {
  const { bookingHorizonDays } = clinicSettingsOf(clinic);
  const last = lastBookableDay(now, bookingHorizonDays);
  if (clinicDay(startsAt) > last) {
    throw new BookingBeyondHorizonError({ bookingHorizonDays, lastBookableDay: last, day: clinicDay(startsAt) });
  }
}

/** When the desk may record a no-show for a booking starting at `startsAt`: the start plus the clinic's grace. */
export function noShowAllowedFrom(clinic: { readonly settings?: SettingsAsStored | null }, startsAt: Date | string): Date {
  return plusMinutes(new Date(startsAt), clinicSettingsOf(clinic).noShowGraceMinutes);
}

/** Refuses a no-show before the grace period after the start is over (`reservation.no_show_within_grace`). */
export function assertNoShowGraceOver(clinic: { readonly settings?: SettingsAsStored | null }, startsAt: Date | string, now: Date): void {
  const allowedFrom = noShowAllowedFrom(clinic, startsAt);
  if (isBefore(now, allowedFrom)) {
    throw new NoShowBeforeGraceError({ noShowGraceMinutes: clinicSettingsOf(clinic).noShowGraceMinutes, allowedFrom: iso(allowedFrom), now: iso(now) });
  }
}

/**
 * What a booking of `kind` holds and asks: consult-first → the consultation's own length, no deposit;
 * pay-and-book → the treatment's duration and deposit. A kind the treatment does not allow is refused
 * (`booking.kind_not_allowed`), so consult first cannot be used to skip a required deposit.
 */
export function bookingTerms(
  treatment: Pick<TreatmentDetails, 'treatmentId' | 'durationMinutes' | 'depositKrw' | 'bookingKinds' | 'consultDurationMinutes'>,
  kind: BookingKind,
): { durationMinutes: number; depositDueKrw: number } {
  if (!treatment.bookingKinds.includes(kind)) {
    throw new BookingKindNotAllowedError({ treatmentId: treatment.treatmentId, kind, allowed: [...treatment.bookingKinds] });
  }
  return kind === 'consult-first'
    ? { durationMinutes: treatment.consultDurationMinutes ?? treatment.durationMinutes, depositDueKrw: 0 }
    : { durationMinutes: treatment.durationMinutes, depositDueKrw: treatment.depositKrw };
}

/** Opening intervals must open before they close and not overlap on the same weekday. */
export function assertValidOpeningHours(hours: OpeningHours): void {
  for (const [i, a] of hours.entries()) {
    if (minutesOfDay(a.opens) >= minutesOfDay(a.closes) || a.opens === '24:00') {
      throw new InvalidOpeningHoursError({ interval: a });
    }
    for (const b of hours.slice(i + 1)) {
      if (
        a.weekday === b.weekday &&
        minutesOfDay(a.opens) < minutesOfDay(b.closes) &&
        minutesOfDay(b.opens) < minutesOfDay(a.closes)
      ) {
        throw new InvalidOpeningHoursError({ overlapping: [a, b] });
      }
    }
  }
}

/** The opening intervals of one clinic day, in order. */
export function intervalsOn(hours: OpeningHours, day: DayKey): OpeningInterval[] {
  const weekday = weekdayOfDay(day);
  return hours
    .filter((h) => h.weekday === weekday)
    .sort((a, b) => minutesOfDay(a.opens) - minutesOfDay(b.opens));
}

/** Every slot start (HH:mm) of one clinic day; none on a closed day. */
export function slotStartsOn(clinic: ClinicBookingFacts, day: DayKey): LocalTime[] {
  const out: LocalTime[] = [];
  if (closureOn(clinic, day) !== null) return out;
  for (const iv of intervalsOn(clinic.openingHours, day)) {
    const close = minutesOfDay(iv.closes);
    for (let m = minutesOfDay(iv.opens); m + clinic.slotLengthMinutes <= close; m += clinic.slotLengthMinutes) {
      out.push(timeOfMinutes(m));
    }
  }
  return out;
}

export interface SlotPlacement {
  /** The clinic day (Asia/Seoul) — names the schedule stream. */
  readonly day: DayKey;
  /** The slots (local HH:mm starts) the treatment occupies: ceil(duration / slot length) of them. */
  readonly slots: LocalTime[];
  readonly startsAt: Date;
  readonly endsAt: Date;
}

/**
 * Where a treatment starting at `startsAt` sits in the clinic's day, or why it cannot: the day must
 * not be closed, and it must start on a slot boundary of one opening interval and end within that
 * same interval.
 */
export function placeInSlots(clinic: ClinicBookingFacts, startsAt: Date | string, durationMinutes: number): SlotPlacement {
  const day = clinicDay(startsAt);
  const closed = closureOn(clinic, day);
  if (closed !== null) throw new BookingOnClosedDayError({ day, reason: closed });
  const start = minutesOfDay(localTime(startsAt));
  const slotCount = Math.ceil(durationMinutes / clinic.slotLengthMinutes);
  const occupied = slotCount * clinic.slotLengthMinutes;
  const interval = intervalsOn(clinic.openingHours, day).find(
    (iv) => minutesOfDay(iv.opens) <= start && start < minutesOfDay(iv.closes),
  );
  const details = { day, startsAt: localTime(startsAt), durationMinutes };
  if (!interval || start + occupied > minutesOfDay(interval.closes)) {
    throw new BookingOutsideOpeningHoursError({ ...details, openingHours: intervalsOn(clinic.openingHours, day) });
  }
  const startInstant = typeof startsAt === 'string' ? new Date(startsAt) : startsAt;
  const offGrid = (start - minutesOfDay(interval.opens)) % clinic.slotLengthMinutes !== 0;
  if (offGrid || startInstant.getUTCSeconds() !== 0 || startInstant.getUTCMilliseconds() !== 0) {
    throw new SlotNotAlignedError({ ...details, slotLengthMinutes: clinic.slotLengthMinutes, opens: interval.opens });
  }
  const slots = Array.from({ length: slotCount }, (_, i) => timeOfMinutes(start + i * clinic.slotLengthMinutes));
  return { day, slots, startsAt: startInstant, endsAt: plusMinutes(startInstant, durationMinutes) };
}

/** The start must be in the future, at least `minimumNoticeHours` away. */
export function assertEnoughNotice(startsAt: Date | string, now: Date, minimumNoticeHours: number): void {
  if (!isBefore(now, startsAt)) {
    throw new BookingInPastError({ startsAt: iso(startsAt), now: iso(now) });
  }
  const earliest = plusMinutes(now, minimumNoticeHours * 60);
  if (isBefore(startsAt, earliest)) {
    throw new BookingInsideMinimumNoticeError({
      minimumNoticeHours,
      earliestStart: earliest.toISOString(),
    });
  }
}

/**
 * All booking-time checks: not in the past, not inside the minimum notice, not beyond the booking
 * horizon, not on a closed day, inside opening hours, on a slot.
 */
export function checkBookable(
  clinic: ClinicBookingFacts,
  startsAt: Date | string,
  durationMinutes: number,
  now: Date,
): SlotPlacement {
  assertEnoughNotice(startsAt, now, clinic.policy.minimumNoticeHours);
  assertWithinHorizon(clinic, startsAt, now);
  return placeInSlots(clinic, startsAt, durationMinutes);
}
