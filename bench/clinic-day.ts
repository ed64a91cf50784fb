/** The clinic day the command benchmarks book: the fixture clinic's weekday slots and the days they fall on. */
import { timeOfMinutes } from '@/lib/domain';

/** The 16 slot starts of a fixture clinic's weekday (10:00–13:00 and 14:00–19:00, 30-minute slots). */
export const SLOTS = [...Array.from({ length: 6 }, (_, i) => 600 + i * 30), ...Array.from({ length: 10 }, (_, i) => 840 + i * 30)].map(timeOfMinutes);

/** Weekdays from 2025-03-03 on (the fixture clinic is closed on Sundays and open until 15:00 on Saturdays). */
export function* weekdays(): Generator<string> {
  for (let d = new Date('2025-03-03T03:00:00Z'); ; d = new Date(d.getTime() + 86_400_000)) {
    const day = d.toISOString().slice(0, 10);
    const weekday = new Date(`${day}T12:00:00Z`).getUTCDay();
    if (weekday >= 1 && weekday <= 5) yield day;
  }
}

/** The hot day's booking plan: every slot filled exactly, booking k to slot k mod 16 (writer w takes k ≡ w mod writers). */
export function hotDayPlan(capacity: number): string[] {
  return Array.from({ length: SLOTS.length * capacity }, (_, k) => SLOTS[k % SLOTS.length]!);
}
