import { describe, expect, it } from 'vitest';
import type { OpeningIntervals } from '../db/schema';
import { exportsToConfirm, flagUnusualReads, monthRange, previousMonth, REVIEW_THRESHOLDS, withinOpeningHours, type ReviewEntry, type ReviewFacts } from './access-review';

// Mon–Fri 10:00–13:00 and 14:00–19:00 (a lunch break), Saturday 10:00–14:00, closed on Sunday.
const hours: OpeningIntervals = [
  ...[1, 2, 3, 4, 5].flatMap((weekday) => [
    { weekday, opens: '10:00', closes: '13:00' },
    { weekday, opens: '14:00', closes: '19:00' },
  ]),
  { weekday: 6, opens: '10:00', closes: '14:00' },
];
const facts = (related: Array<[string, string]> = []): ReviewFacts => ({
  openingHours: new Map([['glow', hours]]),
  hasRelationship: (clinicId, patientId) => related.some(([c, p]) => c === clinicId && p === patientId),
});
// 2026-11-02 is a Monday.
const kst = (local: string) => new Date(`${local}+09:00`);
let nextId = 1;
const read = (at: string, patientIds: string[], over: Partial<ReviewEntry> = {}): ReviewEntry => ({
  id: nextId++,
  occurredAt: kst(at),
  accountId: 'nurse',
  role: 'staff',
  clinicId: 'glow',
  action: 'view',
  resource: 'patient-contact',
  patientIds,
  reason: null,
  ...over,
});
const patients = (n: number, prefix = 'p') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const everyoneRelated = (ids: string[]) => facts(ids.map((p) => ['glow', p]));

describe('flagUnusualReads: many patients in a short time', () => {
  it(`flags one account opening ${REVIEW_THRESHOLDS.burstPatients} different patients within ${REVIEW_THRESHOLDS.burstWindowMinutes} minutes, as one flag`, () => {
    const ids = patients(25);
    const entries = ids.map((p, i) => read(`2026-11-02T11:00:${String(i * 2).padStart(2, '0')}`, [p]));
    const flags = flagUnusualReads(entries, everyoneRelated(ids)).filter((f) => f.kind === 'many-patients');
    expect(flags).toHaveLength(1);
    expect(flags[0]).toMatchObject({ window: 'burst', accountId: 'nurse', patients: 25, from: kst('2026-11-02T11:00:00'), to: kst('2026-11-02T11:00:48') });
    expect(flags[0]!.entryIds).toHaveLength(25);
  });

  it('does not flag one fewer than the threshold, the same patient opened again and again, or the same reads spread out', () => {
    const few = patients(REVIEW_THRESHOLDS.burstPatients - 1).map((p, i) => read(`2026-11-02T11:0${Math.floor(i / 6)}:${String((i % 6) * 10).padStart(2, '0')}`, [p]));
    const same = Array.from({ length: 50 }, (_, i) => read(`2026-11-02T12:00:${String(i).padStart(2, '0')}`, ['p-same']));
    // One every 32 seconds: 19 at most within a 10-minute window.
    const spreadEntries = patients(40, 's').map((p, i) => ({ ...read('2026-11-03T10:00:00', [p]), occurredAt: new Date(kst('2026-11-03T10:00:00').getTime() + i * 32_000) }));
    const all = [...few, ...same, ...spreadEntries];
    const related = everyoneRelated([...patients(40, 's'), ...patients(20), 'p-same']);
    expect(flagUnusualReads(all, related).filter((f) => f.kind === 'many-patients')).toEqual([]);
  });

  it('counts reads that open one patient only: a list (Today, the board) naming many patients at once is the job', () => {
    const ids = patients(60);
    const entries = [read('2026-11-02T11:00:00', ids, { resource: 'patient-name' }), read('2026-11-02T11:01:00', ids, { resource: 'visit-board-names' })];
    expect(flagUnusualReads(entries, everyoneRelated(ids)).filter((f) => f.kind === 'many-patients')).toEqual([]);
  });

  it('keeps accounts apart, and reports two separate bursts of one account as two flags', () => {
    const ids = patients(20);
    const burst = (at: string, accountId: string) => ids.map((p, i) => ({ ...read(at, [p], { accountId }), occurredAt: new Date(kst(at).getTime() + i * 1000) }));
    const flags = flagUnusualReads([...burst('2026-11-02T11:00:00', 'a'), ...burst('2026-11-02T15:00:00', 'a'), ...ids.slice(0, 10).map((p) => read('2026-11-02T11:00:05', [p], { accountId: 'b' }))], everyoneRelated(ids));
    expect(flags.filter((f) => f.kind === 'many-patients').map((f) => [f.accountId, f.from.toISOString()])).toEqual([
      ['a', kst('2026-11-02T11:00:00').toISOString()],
      ['a', kst('2026-11-02T15:00:00').toISOString()],
    ]);
  });

  it(`flags ${REVIEW_THRESHOLDS.dailyPatients} different patients opened one by one in one Seoul day, however slowly`, () => {
    const ids = patients(REVIEW_THRESHOLDS.dailyPatients);
    // One every 5 minutes from 09:00 KST: never a burst, 100 in the day (into the evening, still 2 November in Seoul).
    const entries = ids.map((p, i) => ({ ...read('2026-11-02T09:00:00', [p]), occurredAt: new Date(kst('2026-11-02T09:00:00').getTime() + i * 5 * 60_000) }));
    const flags = flagUnusualReads(entries, everyoneRelated(ids)).filter((f) => f.kind === 'many-patients');
    expect(flags).toEqual([expect.objectContaining({ window: 'day', patients: 100 })]);
    expect(flagUnusualReads(entries.slice(1), everyoneRelated(ids)).filter((f) => f.kind === 'many-patients')).toEqual([]);
  });
});

describe('flagUnusualReads: outside opening hours', () => {
  it('knows the day’s opening hours in Seoul time, with the slack either side and the lunch break inside', () => {
    const slack = REVIEW_THRESHOLDS.hoursSlackMinutes;
    expect(withinOpeningHours(kst('2026-11-02T09:30:00'), hours, slack)).toBe(true);
    expect(withinOpeningHours(kst('2026-11-02T09:29:00'), hours, slack)).toBe(false);
    expect(withinOpeningHours(kst('2026-11-02T13:30:00'), hours, slack)).toBe(true);
    expect(withinOpeningHours(kst('2026-11-02T19:30:00'), hours, slack)).toBe(true);
    expect(withinOpeningHours(kst('2026-11-02T19:31:00'), hours, slack)).toBe(false);
    expect(withinOpeningHours(kst('2026-11-07T15:00:00'), hours, slack)).toBe(false); // Saturday after 14:30
    expect(withinOpeningHours(kst('2026-11-08T11:00:00'), hours, slack)).toBe(false); // Sunday: closed
    // 01:00 UTC on Monday is 10:00 in Seoul.
    expect(withinOpeningHours(new Date('2026-11-02T01:00:00Z'), hours, 0)).toBe(true);
  });

  it("flags staff's reads at their clinic outside its hours, one flag per account and day; auditors and unknown clinics are not judged", () => {
    const entries = [
      read('2026-11-02T22:10:00', ['p1']),
      read('2026-11-02T23:40:00', ['p2']),
      read('2026-11-02T11:00:00', ['p3']),
      read('2026-11-08T11:00:00', ['p4']),
      read('2026-11-02T23:00:00', ['p5'], { role: 'auditor', clinicId: 'glow', accountId: 'aud' }),
      read('2026-11-02T23:00:00', ['p6'], { clinicId: 'elsewhere', accountId: 'x' }),
    ];
    const flags = flagUnusualReads(entries, facts(['p1', 'p2', 'p3', 'p4', 'p5', 'p6'].map((p) => ['glow', p] as [string, string]).concat([['elsewhere', 'p6']]))).filter((f) => f.kind === 'outside-hours');
    expect(flags).toEqual([
      { kind: 'outside-hours', accountId: 'nurse', clinicId: 'glow', day: '2026-11-02', from: kst('2026-11-02T22:10:00'), to: kst('2026-11-02T23:40:00'), entryIds: [entries[0]!.id, entries[1]!.id] },
      { kind: 'outside-hours', accountId: 'nurse', clinicId: 'glow', day: '2026-11-08', from: kst('2026-11-08T11:00:00'), to: kst('2026-11-08T11:00:00'), entryIds: [entries[3]!.id] },
    ]);
  });
});

describe('flagUnusualReads: patients with no reservation at the reader’s clinic', () => {
  it('flags only the patients the clinic has no reservation or visit for, per account', () => {
    const entries = [read('2026-11-02T11:00:00', ['known', 'stranger']), read('2026-11-02T11:05:00', ['known']), read('2026-11-02T11:06:00', ['stranger-2'])];
    const flags = flagUnusualReads(entries, facts([['glow', 'known']])).filter((f) => f.kind === 'no-reservation');
    expect(flags).toEqual([{ kind: 'no-reservation', accountId: 'nurse', clinicId: 'glow', patientIds: ['stranger', 'stranger-2'], entryIds: [entries[0]!.id, entries[2]!.id] }]);
  });

  it('does not judge auditors or admins (no clinic of their own), or reads naming nobody', () => {
    const entries = [read('2026-11-02T11:00:00', ['stranger'], { role: 'auditor', clinicId: null }), read('2026-11-02T11:00:00', [], { role: 'admin', clinicId: null, resource: 'account-list' }), read('2026-11-02T11:00:00', [])];
    expect(flagUnusualReads(entries, facts())).toEqual([]);
  });
});

describe('the month under review', () => {
  it('is a Seoul calendar month', () => {
    expect(monthRange('2026-11')).toEqual({ from: new Date('2026-10-31T15:00:00Z'), to: new Date('2026-11-30T15:00:00Z') });
    expect(monthRange('2026-12').to).toEqual(new Date('2026-12-31T15:00:00Z'));
    expect(() => monthRange('2026-13')).toThrow();
    expect(previousMonth(new Date('2026-12-01T16:00:00Z'))).toBe('2026-11');
    // 1 January 00:30 in Seoul is still 31 December in UTC: the month due is December.
    expect(previousMonth(new Date('2026-12-31T15:30:00Z'))).toBe('2026-12');
  });

  it('lists the exports to confirm, oldest first', () => {
    const a = read('2026-11-03T10:00:00', [], { action: 'export', reason: 'court order', role: 'auditor' });
    const b = read('2026-11-02T10:00:00', [], { action: 'export', reason: 'monthly review', role: 'auditor' });
    expect(exportsToConfirm([a, read('2026-11-02T11:00:00', ['p']), b]).map((e) => e.reason)).toEqual(['monthly review', 'court order']);
  });
});
