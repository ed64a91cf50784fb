/**
 * The monthly review of the access log (PIPA Standards Art. 8: access records are checked at least
 * once a month): the rules that flag unusual reads, pure (no I/O) so that they are tested on their
 * own. lib/queries/access-log.ts feeds them a month of entries and the facts they need; the
 * thresholds are documented in docs/privacy.md ("Monthly review").
 */
import type { OpeningIntervals } from '../db/schema';

export interface ReviewEntry {
  readonly id: number;
  readonly occurredAt: Date;
  readonly accountId: string;
  readonly role: string;
  readonly clinicId: string | null;
  readonly action: string;
  readonly resource: string;
  readonly patientIds: readonly string[];
  readonly reason: string | null;
}

export interface ReviewFacts {
  /** Each clinic's opening intervals (Seoul time); a clinic missing here is not judged by hours. */
  readonly openingHours: ReadonlyMap<string, OpeningIntervals>;
  /** Whether the patient has (had, or will have) a reservation or a visit at the clinic. */
  hasRelationship(clinicId: string, patientId: string): boolean;
}

export const REVIEW_THRESHOLDS = {
  /** "Many patients in a short time": this many different patients opened one by one … */
  burstPatients: 20,
  /** … within this many minutes, by one account. */
  burstWindowMinutes: 10,
  /** Or this many different patients opened one by one by one account in one Seoul calendar day. */
  dailyPatients: 100,
  /** Reads this close to opening or closing time still count as within opening hours. */
  hoursSlackMinutes: 30,
} as const;
export type ReviewThresholds = { readonly [K in keyof typeof REVIEW_THRESHOLDS]: number };

export type ReviewFlag =
  | {
      readonly kind: 'many-patients';
      /** 'burst': the sliding window; 'day': the daily count. */
      readonly window: 'burst' | 'day';
      readonly accountId: string;
      readonly from: Date;
      readonly to: Date;
      readonly patients: number;
      readonly entryIds: readonly number[];
    }
  | {
      readonly kind: 'outside-hours';
      readonly accountId: string;
      readonly clinicId: string;
      /** The Seoul calendar day of the reads. */
      readonly day: string;
      readonly from: Date;
      readonly to: Date;
      readonly entryIds: readonly number[];
    }
  | {
      readonly kind: 'no-reservation';
      readonly accountId: string;
      readonly clinicId: string;
      /** Patients read at the clinic who have no reservation or visit there. */
      readonly patientIds: readonly string[];
      readonly entryIds: readonly number[];
    };

const KST_OFFSET_MS = 9 * 60 * 60 * 1000;
const MINUTE_MS = 60_000;

/** The Seoul calendar day (yyyy-mm-dd), weekday (0 = Sunday) and minute of the day of an instant. */
export function seoulClock(at: Date): { day: string; weekday: number; minute: number } {
  const local = new Date(at.getTime() + KST_OFFSET_MS);
  return { day: local.toISOString().slice(0, 10), weekday: local.getUTCDay(), minute: local.getUTCHours() * 60 + local.getUTCMinutes() };
}

/** The instants a review month (yyyy-mm, Seoul calendar) starts and ends at: [from, to). */
export function monthRange(month: string): { from: Date; to: Date } {
  const m = /^(\d{4})-(\d{2})$/.exec(month);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 12) throw new Error(`not a month: ${month}`);
  const year = Number(m[1]);
  const index = Number(m[2]) - 1;
  return { from: new Date(Date.UTC(year, index, 1) - KST_OFFSET_MS), to: new Date(Date.UTC(year, index + 1, 1) - KST_OFFSET_MS) };
}

/** The month (yyyy-mm, Seoul) before the one `now` is in: the one due for review. */
export function previousMonth(now: Date): string {
  const local = new Date(now.getTime() + KST_OFFSET_MS);
  const first = new Date(Date.UTC(local.getUTCFullYear(), local.getUTCMonth() - 1, 1));
  return first.toISOString().slice(0, 7);
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Whether a read at `at` falls within the clinic's opening hours that day (with the slack either side). */
export function withinOpeningHours(at: Date, hours: OpeningIntervals, slackMinutes: number): boolean {
  const { weekday, minute } = seoulClock(at);
  const today = hours.filter((h) => h.weekday === weekday);
  if (today.length === 0) return false;
  // A lunch break is not "outside opening hours": the day's first opening to its last closing counts.
  const opens = Math.min(...today.map((h) => toMinutes(h.opens)));
  const closes = Math.max(...today.map((h) => toMinutes(h.closes)));
  return minute >= opens - slackMinutes && minute <= closes + slackMinutes;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * "Many patients in a short time". Only reads that open ONE patient count (a contact revealed, a
 * patient's page, an entity page): a list the reader's work shows them (Today, the board) names many
 * patients in one render by design and would flag every busy day.
 */
function manyPatients(entries: readonly ReviewEntry[], t: ReviewThresholds): ReviewFlag[] {
  const flags: ReviewFlag[] = [];
  const byAccount = new Map<string, ReviewEntry[]>();
  for (const e of entries) if (e.patientIds.length === 1) push(byAccount, e.accountId, e);
  for (const [accountId, reads] of byAccount) {
    reads.sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime() || a.id - b.id);
    // Sliding window: per right end, the distinct patients within the window; overlapping qualifying windows merge.
    const windowMs = t.burstWindowMinutes * MINUTE_MS;
    const counts = new Map<string, number>();
    let left = 0;
    let current: { from: Date; to: Date; patients: Set<string>; ids: Set<number> } | null = null;
    const close = () => {
      if (current) flags.push({ kind: 'many-patients', window: 'burst', accountId, from: current.from, to: current.to, patients: current.patients.size, entryIds: [...current.ids] });
      current = null;
    };
    for (let right = 0; right < reads.length; right++) {
      const r = reads[right]!;
      counts.set(r.patientIds[0]!, (counts.get(r.patientIds[0]!) ?? 0) + 1);
      while (r.occurredAt.getTime() - reads[left]!.occurredAt.getTime() > windowMs) {
        const p = reads[left]!.patientIds[0]!;
        const n = counts.get(p)! - 1;
        if (n === 0) counts.delete(p);
        else counts.set(p, n);
        left++;
      }
      if (counts.size < t.burstPatients) continue;
      const inWindow = reads.slice(left, right + 1);
      if (current && reads[left]!.occurredAt.getTime() > current.to.getTime()) close();
      const c: { from: Date; to: Date; patients: Set<string>; ids: Set<number> } = current ?? { from: reads[left]!.occurredAt, to: r.occurredAt, patients: new Set(), ids: new Set() };
      c.to = r.occurredAt;
      for (const e of inWindow) {
        c.patients.add(e.patientIds[0]!);
        c.ids.add(e.id);
      }
      current = c;
    }
    close();

    const byDay = new Map<string, ReviewEntry[]>();
    for (const e of reads) {
      push(byDay, seoulClock(e.occurredAt).day, e);
    }
    for (const dayReads of byDay.values()) {
      const patients = new Set(dayReads.map((e) => e.patientIds[0]!));
      if (patients.size < t.dailyPatients) continue;
      flags.push({ kind: 'many-patients', window: 'day', accountId, from: dayReads[0]!.occurredAt, to: dayReads.at(-1)!.occurredAt, patients: patients.size, entryIds: dayReads.map((e) => e.id) });
    }
  }
  return flags;
}

/** Staff reading at their clinic outside its opening hours (one flag per account, clinic and Seoul day). */
function outsideHours(entries: readonly ReviewEntry[], facts: ReviewFacts, t: ReviewThresholds): ReviewFlag[] {
  const groups = new Map<string, { accountId: string; clinicId: string; day: string; reads: ReviewEntry[] }>();
  for (const e of entries) {
    if (e.role !== 'staff' || !e.clinicId) continue;
    const hours = facts.openingHours.get(e.clinicId);
    if (!hours || withinOpeningHours(e.occurredAt, hours, t.hoursSlackMinutes)) continue;
    const { day } = seoulClock(e.occurredAt);
    const key = `${e.accountId}\u0000${e.clinicId}\u0000${day}`;
    const g = groups.get(key) ?? { accountId: e.accountId, clinicId: e.clinicId, day, reads: [] };
    g.reads.push(e);
    groups.set(key, g);
  }
  return [...groups.values()].map((g) => {
    const times = g.reads.map((e) => e.occurredAt.getTime());
    return { kind: 'outside-hours', accountId: g.accountId, clinicId: g.clinicId, day: g.day, from: new Date(Math.min(...times)), to: new Date(Math.max(...times)), entryIds: g.reads.map((e) => e.id) };
  });
}

/** Staff reading patients who have no reservation or visit at their clinic (one flag per account and clinic). */
function noReservation(entries: readonly ReviewEntry[], facts: ReviewFacts): ReviewFlag[] {
  const groups = new Map<string, { accountId: string; clinicId: string; patients: Set<string>; ids: number[] }>();
  for (const e of entries) {
    if (e.role !== 'staff' || !e.clinicId) continue;
    const strangers = e.patientIds.filter((p) => !facts.hasRelationship(e.clinicId!, p));
    if (strangers.length === 0) continue;
    const key = `${e.accountId}\u0000${e.clinicId}`;
    const g = groups.get(key) ?? { accountId: e.accountId, clinicId: e.clinicId, patients: new Set<string>(), ids: [] };
    for (const p of strangers) g.patients.add(p);
    g.ids.push(e.id);
    groups.set(key, g);
  }
  return [...groups.values()].map((g) => ({ kind: 'no-reservation', accountId: g.accountId, clinicId: g.clinicId, patientIds: [...g.patients].sort(), entryIds: g.ids }));
}

/** Every unusual read of the entries (a month of the access log), by rule. */
export function flagUnusualReads(entries: readonly ReviewEntry[], facts: ReviewFacts, thresholds: ReviewThresholds = REVIEW_THRESHOLDS): ReviewFlag[] {
  return [...manyPatients(entries, thresholds), ...outsideHours(entries, facts, thresholds), ...noReservation(entries, facts)];
}

/** The exports among the entries, oldest first: each one's reason is confirmed by the reviewer. */
export function exportsToConfirm(entries: readonly ReviewEntry[]): ReviewEntry[] {
  return entries.filter((e) => e.action === 'export').sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime() || a.id - b.id);
}
