import { z } from 'zod';
import { TZDate } from '@date-fns/tz';
import { addMinutes, differenceInMinutes, format, isValid, parse } from 'date-fns';

/** Every clinic is in Seoul; the clinic day, local times and weekdays are all Asia/Seoul. */
export const CLINIC_TIME_ZONE = 'Asia/Seoul';

/** An instant, ISO 8601 with an offset or Z (e.g. 2025-03-04T10:00:00+09:00). */
export const Instant = z.iso.datetime({ offset: true });
export type Instant = z.infer<typeof Instant>;

/**
 * The first clinic day a DayKey names. The time functions cannot take every ISO date: atLocal
 * throws on year 0000 and reads 0001–0099 as 1901–1999 (0001-05-01 became 1901-05-01), so a form
 * or URL that let such a day through crashed or answered for another day. No clinic day the
 * product records is that old (bookings and closures are never in the past), so the bound is a
 * round year well clear of both. The last day is the format's own, 9999-12-31: its day after is no
 * DayKey, so code stepping through days stops at the last one it was given (manage's daysBetween).
 */
export const FIRST_DAY = '1900-01-01';

/** A clinic day key, yyyy-mm-dd in Asia/Seoul, from FIRST_DAY to 9999-12-31. */
export const DayKey = z.iso
  .date()
  // Only on a well-formed date, so a malformed one gets one issue, not two.
  .refine((d) => d >= FIRST_DAY, { message: `expected a day from ${FIRST_DAY}`, when: (payload) => payload.issues.length === 0 });
export type DayKey = z.infer<typeof DayKey>;

/** A local wall-clock time HH:mm (00:00–23:59; use "24:00" only as a closing time). */
export const LocalTime = z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'expected HH:mm');
export type LocalTime = z.infer<typeof LocalTime>;

/** 0 = Sunday … 6 = Saturday (as Date#getDay). */
export const Weekday = z.number().int().min(0).max(6);
export type Weekday = z.infer<typeof Weekday>;

type InstantLike = Date | string;

function toDate(at: InstantLike): Date {
  const d = typeof at === 'string' ? new Date(at) : at;
  if (!isValid(d)) throw new RangeError(`invalid instant: ${String(at)}`);
  return d;
}

function inSeoul(at: InstantLike): TZDate {
  return new TZDate(toDate(at).getTime(), CLINIC_TIME_ZONE);
}

/** The Asia/Seoul calendar day of an instant: yyyy-mm-dd. */
export function clinicDay(at: InstantLike): DayKey {
  return format(inSeoul(at), 'yyyy-MM-dd');
}

/** The Asia/Seoul wall-clock time of an instant: HH:mm. */
export function localTime(at: InstantLike): LocalTime {
  return format(inSeoul(at), 'HH:mm');
}

/** The Asia/Seoul weekday of an instant (0 = Sunday). */
export function weekdayOf(at: InstantLike): Weekday {
  return inSeoul(at).getDay();
}

/** The weekday of a clinic day key. */
export function weekdayOfDay(day: DayKey): Weekday {
  return weekdayOf(atLocal(day, '12:00'));
}

/** The instant of a local wall-clock time on a clinic day (Asia/Seoul). "24:00" is next midnight. */
export function atLocal(day: DayKey, time: LocalTime): Date {
  const parsed = parse(day, 'yyyy-MM-dd', new Date(0));
  if (!isValid(parsed)) throw new RangeError(`invalid day: ${day}`);
  const [h, m] = time.split(':').map(Number) as [number, number];
  const local = new TZDate(parsed.getFullYear(), parsed.getMonth(), parsed.getDate(), h, m, CLINIC_TIME_ZONE);
  return new Date(local.getTime());
}

/** Minutes since local midnight of an HH:mm time ("24:00" → 1440). */
export function minutesOfDay(time: LocalTime): number {
  const [h, m] = time.split(':').map(Number) as [number, number];
  return h * 60 + m;
}

/** HH:mm of a number of minutes since local midnight (0–1440). */
export function timeOfMinutes(minutes: number): LocalTime {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
}

export function plusMinutes(at: InstantLike, minutes: number): Date {
  return addMinutes(toDate(at), minutes);
}

/** Whole minutes from `from` to `to` (negative when `to` is earlier). */
export function minutesBetween(from: InstantLike, to: InstantLike): number {
  return differenceInMinutes(toDate(to), toDate(from));
}

export function isBefore(a: InstantLike, b: InstantLike): boolean {
  return toDate(a).getTime() < toDate(b).getTime();
}

/** Canonical ISO form in UTC (what deciders write into events for computed instants). */
export function iso(at: InstantLike): Instant {
  return toDate(at).toISOString();
}

/** Canonical instant in Seoul offset form, e.g. 2025-03-04T10:00:00+09:00 (for display/docs). */
export function isoSeoul(at: InstantLike): string {
  return format(inSeoul(at), "yyyy-MM-dd'T'HH:mm:ssXXX");
}
