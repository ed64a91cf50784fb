/**
 * The public catalogue and availability queries against a real database: clinics and holds are
 * written through the commands, the read models built by the real projections, and the public cache
 * dropped by the real NOTIFY the projections send at commit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { createTestDatabase, storedEvents } from '../testing/db';
import { createEventStore, type EventStore } from '../eventstore';
import { changeClinicSettings, listTreatment, loadClinic, placeHold, registerClinic, type CommandDeps } from '../commands';
import { manualClock, meta, registerTestClinic, FREE_CONSULT } from '../commands/testing';
import { BOTOX, ULTHERA, OPENING_HOURS, POLICY } from '../domain/clinic/fixtures';
import { catalogueProjection, PUBLIC_CHANGES_CHANNEL } from '../projections/read-models/catalogue';
import { scheduleProjection } from '../projections/read-models/schedule';
import { rebuildProjections } from '../projections/rebuild';
import { applyLiveBatch } from '../projections/engine';
import { decodeEvents } from '../projections/runner';

const t = await createTestDatabase();
process.env.DATABASE_URL = t.url;
const { listClinics, getClinicWithTreatments, matchesSearch } = await import('./catalogue');
const { dayAvailability, nextFreeSlot, bookableDays } = await import('./availability');
const { publicCache, PublicCache } = await import('./public-cache');

// Monday 2030-03-04, 09:00 in Seoul (the clinic opens 10:00–13:00 and 14:00–19:00, 30-minute slots).
const MONDAY = '2030-03-04';
const clock = manualClock('2030-03-04T00:00:00Z');
const CLINIC = 'q-gangnam';
const OTHER = 'q-mapo';
let store: EventStore;
let deps: CommandDeps;

async function hold(holdId: string, hhmm: string, durationMinutes = 30) {
  const clinic = await loadClinic(deps, CLINIC);
  await placeHold(deps, clinic, { clinicId: CLINIC, day: MONDAY, holdId, reservationId: `r-${holdId}`, startsAt: `${MONDAY}T${hhmm}:00+09:00`, durationMinutes }, meta({ clinicId: CLINIC }));
}

/**
 * The read models built from the whole log. A rebuild reads only up to the oldest transaction still
 * open anywhere on the server (other test files share it), so it is repeated until it saw every event.
 */
async function project() {
  const { count } = await storedEvents(t.sql);
  for (let attempt = 0; ; attempt++) {
    const { events } = await rebuildProjections({ store, database: t, projections: [catalogueProjection, scheduleProjection] });
    if (events >= count) return;
    if (attempt > 80) throw new Error(`the rebuild saw ${events} of ${count} events`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  store = await createEventStore({ databaseUrl: t.url, hmacKey: 'catalogue-test-hmac-key-0123456789' });
  deps = { store, clock };
  await registerClinic(
    deps,
    {
      clinicId: CLINIC,
      name: '강남 테스트 피부과',
      openingHours: OPENING_HOURS,
      slotLengthMinutes: 30,
      slotCapacity: 2,
      policy: POLICY, // 2 h minimum notice
      profile: { nameEn: 'Gangnam Test Dermatology', district: '서울 강남구 · Gangnam-gu, Seoul', address: '강남대로 1', phone: '02-000-0000' },
    },
    meta({ clinicId: CLINIC }),
  );
  for (const tr of [BOTOX, ULTHERA]) await listTreatment(deps, { clinicId: CLINIC, ...tr }, meta({ clinicId: CLINIC }));
  await registerTestClinic(deps, OTHER, { treatments: [{ ...FREE_CONSULT, name: '피부 상담', nameEn: 'Skin consultation' }] });
  await changeClinicSettings(deps, { clinicId: OTHER, bookingHorizonDays: 14 }, meta({ clinicId: OTHER }));
  await listTreatment(
    deps,
    { clinicId: CLINIC, treatmentId: 'tx-consult-only', name: '상담 전용', nameEn: 'Consultation only', category: 'lifting', priceKrw: 2_000_000, durationMinutes: 120, depositKrw: 0, bookingMode: 'clinic-confirm', bookingKinds: ['consult-first'], consultDurationMinutes: 30 },
    meta({ clinicId: CLINIC }),
  );
  await registerClinic(deps, { clinicId: 'q-empty', name: '빈 클리닉', openingHours: OPENING_HOURS, slotLengthMinutes: 30, slotCapacity: 1, policy: POLICY }, meta({ clinicId: 'q-empty' }));
  // 11:00 is full (capacity 2: one confirmed-to-be and one pending), 11:30 has one seat left.
  await hold('h1', '11:00');
  await hold('h2', '11:00');
  await hold('h3', '11:30');
  await project();
});

afterAll(() => store.close());

describe('the catalogue', () => {
  it('lists every clinic with its cheapest treatment and the filter menus', async () => {
    const all = await listClinics({});
    expect(all.clinics.map((c) => c.id).sort()).toEqual(['q-empty', CLINIC, OTHER].sort());
    const gangnam = all.clinics.find((c) => c.id === CLINIC)!;
    expect(gangnam.cheapest?.id).toBe(BOTOX.treatmentId);
    expect(gangnam.bookingHorizonDays).toBe(90);
    expect(gangnam.policy?.minimumNoticeHours).toBe(2);
    expect(all.clinics.find((c) => c.id === 'q-empty')!.cheapest).toBeNull();
    expect(all.districts).toContain('서울 강남구 · Gangnam-gu, Seoul');
    expect(all.categories).toEqual(['consultation', 'injectable', 'lifting']);
    expect(gangnam.treatments.find((tr) => tr.id === 'tx-consult-only')).toMatchObject({ bookingKinds: ['consult-first'], consultDurationMinutes: 30 });
    expect(gangnam.treatments.find((tr) => tr.id === BOTOX.treatmentId)?.bookingKinds).toEqual(['consult-first', 'pay-and-book']);
  });

  it('filters by district and by treatment category (the cheapest is then in that category)', async () => {
    expect((await listClinics({ district: '서울 강남구 · Gangnam-gu, Seoul' })).clinics.map((c) => c.id)).toEqual([CLINIC]);
    const lifting = await listClinics({ category: 'lifting' });
    expect(lifting.clinics.map((c) => c.id)).toEqual([CLINIC]);
    expect(lifting.clinics[0]!.cheapest?.id).toBe(ULTHERA.treatmentId); // 1,200,000 < the consultation-only 2,000,000
    expect((await listClinics({ category: 'no-such-category' })).clinics).toEqual([]);
  });

  it('searches Korean and English names, ignoring case and spaces, clinics and treatments alike', async () => {
    const ids = async (q: string) => (await listClinics({ q })).clinics.map((c) => c.id);
    expect(await ids('강남테스트')).toEqual([CLINIC]);
    expect(await ids('강남 테스트 피부과')).toEqual([CLINIC]);
    expect(await ids('gangnam test')).toEqual([CLINIC]);
    expect(await ids('GANGNAM')).toEqual([CLINIC]);
    expect(await ids('피부 상담')).toEqual([OTHER]);
    expect(await ids('ulthera')).toEqual([CLINIC]);
    expect(await ids('없는 이름')).toEqual([]);
    expect(matchesSearch({ nameKo: '가', nameEn: 'A', treatments: [] }, '   ')).toBe(true);
  });

  it('a clinic page reads one clinic; an unknown id is null', async () => {
    expect((await getClinicWithTreatments(CLINIC))?.nameEn).toBe('Gangnam Test Dermatology');
    expect(await getClinicWithTreatments('nope')).toBeNull();
  });
});

describe('availability', () => {
  const at = (hhmm: string) => new Date(`${MONDAY}T${hhmm}:00+09:00`);

  it('offers the domain slot grid with the seats left; a full slot is flagged, the lunch break and closing are respected', async () => {
    const a = (await dayAvailability(CLINIC, BOTOX.treatmentId, MONDAY, at('09:00')))!;
    expect(a.bookable).toBe(true);
    const byTime = Object.fromEntries(a.slots.map((s) => [s.time, s]));
    // 09:00 now + 2 h notice: 11:00 is the first start offered.
    expect(a.slots[0]!.time).toBe('11:00');
    expect(byTime['11:00']).toMatchObject({ seatsLeft: 0, full: true, startsAt: '2030-03-04T02:00:00.000Z' });
    expect(byTime['11:30']).toMatchObject({ seatsLeft: 1, full: false });
    expect(byTime['12:00']).toMatchObject({ seatsLeft: 2, full: false });
    expect(byTime['13:00']).toBeUndefined(); // lunch
    expect(byTime['18:30']).toMatchObject({ seatsLeft: 2 });
    expect(a.slots.map((s) => s.time)).toHaveLength(4 + 10); // 11:00–12:30, 14:00–18:30
  });

  it('a longer treatment is offered only where it fits in one interval, with the fewest seats over its slots', async () => {
    const a = (await dayAvailability(CLINIC, ULTHERA.treatmentId, MONDAY, at('09:00')))!; // 90 minutes
    const times = a.slots.map((s) => s.time);
    expect(times).toContain('11:30');
    expect(times).not.toContain('12:00'); // would run into lunch
    expect(times).toContain('17:30'); // ends at closing, 19:00
    expect(times).not.toContain('18:00'); // would run past closing
    expect(a.slots.find((s) => s.time === '11:00')).toMatchObject({ full: true });
    expect(a.slots.find((s) => s.time === '11:30')).toMatchObject({ seatsLeft: 1 });
  });

  it('past slots and slots inside the minimum notice are not offered', async () => {
    const a = (await dayAvailability(CLINIC, BOTOX.treatmentId, MONDAY, at('14:10')))!;
    expect(a.slots[0]!.time).toBe('16:30'); // 14:10 + 2 h = 16:10: 16:00 is too close
    const evening = (await dayAvailability(CLINIC, BOTOX.treatmentId, MONDAY, at('18:00')))!;
    expect(evening.slots).toEqual([]);
  });

  it('an unconfirmed hold past its expiry no longer takes a seat', async () => {
    // The holds were placed at 09:00 with the default 15-minute expiry and never confirmed.
    const a = (await dayAvailability(CLINIC, BOTOX.treatmentId, MONDAY, new Date('2030-03-04T00:20:00Z')))!;
    expect(a.slots.find((s) => s.time === '11:30')).toMatchObject({ seatsLeft: 2, full: false });
    const before = (await dayAvailability(CLINIC, BOTOX.treatmentId, MONDAY, new Date('2030-03-04T00:14:00Z')))!;
    expect(before.slots.find((s) => s.time === '11:30')).toMatchObject({ seatsLeft: 1 });
  });

  it('a day with no booking yet has the whole grid; a closed day, a past day and a day past the horizon offer nothing', async () => {
    const tuesday = (await dayAvailability(CLINIC, BOTOX.treatmentId, '2030-03-05', at('09:00')))!;
    expect(tuesday.slots).toHaveLength(6 + 10);
    expect(tuesday.slots.every((s) => s.seatsLeft === 2)).toBe(true);
    const sunday = (await dayAvailability(CLINIC, BOTOX.treatmentId, '2030-03-10', at('09:00')))!;
    expect(sunday).toMatchObject({ open: false, slots: [] });
    expect(await dayAvailability(CLINIC, BOTOX.treatmentId, '2030-03-03', at('09:00'))).toMatchObject({ bookable: false, slots: [] });
    expect(await dayAvailability(CLINIC, BOTOX.treatmentId, '2030-06-02', at('09:00'))).toMatchObject({ bookable: true });
    expect(await dayAvailability(CLINIC, BOTOX.treatmentId, '2030-06-03', at('09:00'))).toMatchObject({ bookable: false, slots: [] });
    expect(await dayAvailability(CLINIC, 'no-such-treatment', MONDAY, at('09:00'))).toBeNull();
  });

  it("a clinic's own booking horizon counts: nothing is offered past it", async () => {
    const other = (await getClinicWithTreatments(OTHER))!;
    expect(other.bookingHorizonDays).toBe(14);
    expect(bookableDays(other, at('09:00')).at(-1)!.day).toBe('2030-03-18');
    expect(await dayAvailability(OTHER, 'tx-consult', '2030-03-18', at('09:00'))).toMatchObject({ bookable: true });
    expect(await dayAvailability(OTHER, 'tx-consult', '2030-03-19', at('09:00'))).toMatchObject({ bookable: false, slots: [] });
  });

  it('a treatment booked only as a consultation is offered on the consultation\'s length', async () => {
    // 120 minutes would never fit 10:00–13:00 after 11:00; its 30-minute consultation fits up to 12:30.
    const a = (await dayAvailability(CLINIC, 'tx-consult-only', MONDAY, at('09:00')))!;
    expect(a.slots.map((s) => s.time)).toContain('12:30');
  });

  it('bookable days run from today to the end of the horizon', async () => {
    const clinic = (await getClinicWithTreatments(CLINIC))!;
    const days = bookableDays(clinic, at('09:00'));
    expect(days[0]).toEqual({ day: MONDAY, open: true, closedReason: null });
    expect(days.at(-1)!.day).toBe('2030-06-02');
    expect(days).toHaveLength(91);
  });

  it('the next free slot skips full slots; a clinic without treatments has none', async () => {
    const clinic = (await getClinicWithTreatments(CLINIC))!;
    expect(await nextFreeSlot(clinic, at('08:59'))).toMatchObject({ day: MONDAY, time: '11:30', seatsLeft: 1 });
    expect(await nextFreeSlot(clinic, at('18:00'))).toMatchObject({ day: '2030-03-05', time: '10:00' });
    expect(await nextFreeSlot((await getClinicWithTreatments('q-empty'))!, at('09:00'))).toBeNull();
  });
});

describe('the public cache', () => {
  it('serves cached rows until the projection announces a change to that clinic, then reads again', async () => {
    await publicCache().listen();
    const before = (await dayAvailability(CLINIC, BOTOX.treatmentId, '2030-03-05', at0()))!;
    expect(before.slots.find((s) => s.time === '10:00')?.seatsLeft).toBe(2);

    // A hold written to the read model without the projection's notification stays unseen (cached)…
    await t.sql`insert into rm_schedule_holds (hold_id, clinic_id, day, reservation_id, slots, starts_at, ends_at, expires_at, confirmed)
      values ('sneaky', ${CLINIC}, '2030-03-05', 'r-sneaky', '["10:00"]'::jsonb, '2030-03-05T01:00:00Z', '2030-03-05T01:30:00Z', '2030-03-05T01:00:00Z', true)`;
    expect((await dayAvailability(CLINIC, BOTOX.treatmentId, '2030-03-05', at0()))!.slots.find((s) => s.time === '10:00')?.seatsLeft).toBe(2);

    // …and a real change applied by the live projection (which notifies at commit) is seen at once.
    const clinic = await loadClinic(deps, CLINIC);
    await placeHold(deps, clinic, { clinicId: CLINIC, day: '2030-03-05', holdId: 'h4', reservationId: 'r-h4', startsAt: '2030-03-05T10:30:00+09:00', durationMinutes: 30 }, meta({ clinicId: CLINIC }));
    await applyLiveBatch(t, [scheduleProjection], await decodeEvents(await store.readStream(`schedule-${CLINIC}-2030-03-05`)));
    await expect.poll(async () => (await dayAvailability(CLINIC, BOTOX.treatmentId, '2030-03-05', at0()))!.slots.find((s) => s.time === '10:30')?.seatsLeft, { timeout: 3000 }).toBe(1);
    expect((await dayAvailability(CLINIC, BOTOX.treatmentId, '2030-03-05', at0()))!.slots.find((s) => s.time === '10:00')?.seatsLeft).toBe(1);
  });

  it('the catalogue projection announces the clinics it changed', async () => {
    const listener = postgres(t.url, { max: 1, onnotice: () => {} });
    const payloads: string[] = [];
    try {
      await listener.listen(PUBLIC_CHANGES_CHANNEL, (p) => payloads.push(p));
      await project();
      await expect.poll(() => payloads, { timeout: 3000 }).toEqual(expect.arrayContaining([expect.stringMatching(/^catalogue:.*q-gangnam/), expect.stringMatching(/^schedule:.*q-gangnam/)]));
    } finally {
      await listener.end({ timeout: 1 });
    }
  });

  it('an entry expires after its TTL; an invalidation during a read keeps that read out of the cache', async () => {
    const cache = new PublicCache(() => t.sql);
    await cache.listen();
    let reads = 0;
    const read = async () => ++reads;
    expect(await cache.get('k', ['catalogue'], 60_000, read)).toBe(1);
    expect(await cache.get('k', ['catalogue'], 60_000, read)).toBe(1);
    cache.invalidate(['catalogue']);
    expect(await cache.get('k', ['catalogue'], 60_000, read)).toBe(2);
    expect(await cache.get('short', ['x'], 1, read)).toBe(3);
    await new Promise((r) => setTimeout(r, 5));
    expect(await cache.get('short', ['x'], 1, read)).toBe(4);
    let release!: () => void;
    const slow = cache.get('slow', ['schedule:a'], 60_000, () => new Promise<number>((r) => (release = () => r(100))));
    await new Promise((r) => setTimeout(r, 0));
    cache.invalidate(['schedule:a']);
    release();
    expect(await slow).toBe(100);
    expect(await cache.get('slow', ['schedule:a'], 60_000, read)).toBe(5);
  });
});

function at0() {
  return new Date('2030-03-04T00:00:00Z');
}
