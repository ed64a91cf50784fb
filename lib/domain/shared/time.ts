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

/**
 * Asia/Seoul has been UTC+09:00 without daylight saving since 1988-10-09 (the last transition,
 * 03:00 KDT → 02:00 KST; no rule since), so from then on its wall clock is the UTC one nine hours
 * later: plain arithmetic, with no time-zone database in the way (the `@date-fns/tz` path cost
 * ≈ 0.4 ms of CPU per booking, measured in bench/commands.ts). Earlier instants and days (1900–1988:
 * +08:30, +09:00, summer times) take the time-zone database, as before. Both paths give the same
 * answers (lib/domain/shared/shared.test.ts compares them).
 */
const SEOUL_OFFSET_MS = 9 * 3600_000;
/** From this instant (1988-10-10T00:00Z, after the last transition) and this day on, Seoul is fixed +09:00. */
const FIXED_OFFSET_FROM_MS = Date.UTC(1988, 9, 10);
const FIXED_OFFSET_FROM_DAY = '1988-10-10';
/** Up to the last instant whose Seoul wall clock has a four-digit year (toISOString's form). */
const FIXED_OFFSET_UNTIL_MS = Date.UTC(10000, 0, 1) - SEOUL_OFFSET_MS;

/** The Seoul wall clock of an instant as a UTC date (read it with getUTC* / toISOString), or null before the fixed offset. */
function seoulWallClock(at: InstantLike): Date | null {
  const ms = toDate(at).getTime();
  return ms >= FIXED_OFFSET_FROM_MS && ms < FIXED_OFFSET_UNTIL_MS ? new Date(ms + SEOUL_OFFSET_MS) : null;
}

const PLAIN_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const PLAIN_TIME = /^(\d{2}):(\d{2})$/;

/** atLocal on the fixed offset, or null when the day or time is outside it (or not plainly valid: the general path decides). */
function atLocalFixed(day: string, time: string): Date | null {
  if (day < FIXED_OFFSET_FROM_DAY) return null;
  const d = PLAIN_DAY.exec(day);
  const t = PLAIN_TIME.exec(time);
  if (!d || !t) return null;
  const y = Number(d[1]);
  const mo = Number(d[2]);
  const dd = Number(d[3]);
  const midnight = Date.UTC(y, mo - 1, dd);
  const check = new Date(midnight);
  // An impossible date (2026-02-30) rolls over here: the general path refuses it.
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== dd) return null;
  return new Date(midnight + (Number(t[1]) * 60 + Number(t[2])) * 60_000 - SEOUL_OFFSET_MS);
}

/** The Asia/Seoul calendar day of an instant: yyyy-mm-dd. */
export function clinicDay(at: InstantLike): DayKey {
  const wall = seoulWallClock(at);
  if (wall) return wall.toISOString().slice(0, 10);
  return format(inSeoul(at), 'yyyy-MM-dd');
}

/** The Asia/Seoul wall-clock time of an instant: HH:mm. */
export function localTime(at: InstantLike): LocalTime {
  const wall = seoulWallClock(at);
  if (wall) return wall.toISOString().slice(11, 16);
  return format(inSeoul(at), 'HH:mm');
}

/** The Asia/Seoul weekday of an instant (0 = Sunday). */
export function weekdayOf(at: InstantLike): Weekday {
  const wall = seoulWallClock(at);
  if (wall) return wall.getUTCDay();
  return inSeoul(at).getDay();
}

/** The weekday of a clinic day key. */
export function weekdayOfDay(day: DayKey): Weekday {
  return weekdayOf(atLocal(day, '12:00'));
}

/** The instant of a local wall-clock time on a clinic day (Asia/Seoul). "24:00" is next midnight. */
export function atLocal(day: DayKey, time: LocalTime): Date {
  const fixed = atLocalFixed(day, time);
  if (fixed) return fixed;
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
  const wall = seoulWallClock(at);
  if (wall) return `${wall.toISOString().slice(0, 19)}+09:00`;
  return format(inSeoul(at), "yyyy-MM-dd'T'HH:mm:ssXXX");
}
