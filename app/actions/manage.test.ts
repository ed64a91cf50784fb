/**
 * The clinic manager's actions (app/actions/manage.ts) called directly, as the form posts them, with
 * real Auth.js sessions, a real database and a real worker: what a manager's form becomes (the events
 * on the clinic's stream, with their previous values), what it refuses before any command (zod field
 * errors, nothing appended) and with the domain's message, and that only the clinic's manager gets in.
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CommandDeps } from '@/lib/commands';
import { users, type Role } from '@/lib/db/schema';
import type { RecordedEvent } from '@/lib/eventstore';
import { createTestDatabase, storedEvents } from '@/lib/testing/db';
import { outcome, signInAs, useTestEnvironment, type Outcome, type TestAccount } from '@/lib/testing/next-request';

vi.mock('next/headers', () => import('@/lib/testing/next-request'));
vi.mock('next/cache', () => import('@/lib/testing/next-request').then((m) => m.nextCache));
vi.mock('next-intl/server', () => import('@/lib/testing/next-request').then((m) => m.nextIntlServer()));

const t = await createTestDatabase();
useTestEnvironment(t.url);

const CLINIC = `manage-${randomUUID().slice(0, 6)}`;
const OTHER = `${CLINIC}-other`;
const account = (role: Role, clinicId: string | null = null, clinicManager = false): TestAccount => {
  const id = randomUUID();
  return { id, email: `${role}-${id.slice(0, 8)}@manage.example`, name: `${role} ${id.slice(0, 4)}`, role, clinicId, clinicManager };
};
const accounts = {
  manager: account('staff', CLINIC, true),
  staff: account('staff', CLINIC),
  otherManager: account('staff', OTHER, true),
  patient: account('patient'),
  admin: account('admin'),
  auditor: account('auditor'),
};
type Who = keyof typeof accounts | 'anonymous';
const as = (who: Who) => signInAs(who === 'anonymous' ? null : accounts[who]);

let deps: CommandDeps;
let stopWorker: () => Promise<void> = async () => {};
/** Clinic days (Seoul) 60+ days ahead, Monday first: nothing else uses them. */
let monday: string;

async function clinicEvents(): Promise<RecordedEvent[]> {
  return deps.store.readStream(`clinic-${CLINIC}`);
}
const lastOf = async (type: string) => (await clinicEvents()).filter((e) => e.type === type).at(-1);

const form = (fields: Record<string, string>) => {
  const data = new FormData();
  for (const [k, v] of Object.entries({ clinicId: CLINIC, commandId: randomUUID(), ...fields })) data.set(k, v);
  return data;
};
const manage = () => import('./manage');

beforeAll(async () => {
  await t.db.insert(users).values(Object.values(accounts).map((a) => ({ ...a, passwordHash: 'not-a-real-hash' })));
  const { appCommandDeps } = await import('@/lib/runtime/command-deps');
  const { registerTestClinic } = await import('@/lib/commands/testing');
  const { clinicDay, plusMinutes, weekdayOfDay } = await import('@/lib/domain');
  const { ProjectionWorker } = await import('@/lib/projections/worker');
  const { allProjections } = await import('@/lib/projections/registry');
  deps = await appCommandDeps();
  await registerTestClinic(deps, CLINIC);
  await registerTestClinic(deps, OTHER, { treatments: [] });
  for (let d = 60; ; d++) {
    const day = clinicDay(plusMinutes(new Date(), d * 24 * 60));
    if (weekdayOfDay(day) === 1) {
      monday = day;
      break;
    }
  }
  // The actions wait for the read models (read-your-writes): a real worker answers them.
  const worker = new ProjectionWorker({ store: deps.store, database: t, projections: allProjections, log: pino({ level: 'silent' }), decryptor: deps.privacy, statusIntervalMs: 200 });
  await worker.start();
  stopWorker = () => worker.stop();
}, 60_000);
afterAll(() => stopWorker());

describe('who may run the clinic', () => {
  it("only the clinic's manager: its plain staff, another clinic's manager, patients, admins and auditors get 403 before the form is read; nothing appended", async () => {
    const before = await storedEvents(t.sql);
    const seen: Record<string, Outcome> = {};
    for (const who of ['anonymous', 'staff', 'otherManager', 'patient', 'admin', 'auditor'] as const) {
      await as(who);
      // An invalid form too: a refused caller never learns what the form would have said.
      seen[who] = await outcome(async () => (await manage()).changeTreatmentPriceAction({}, form({ treatmentId: 'tx-botox', priceKrw: 'abc' })));
    }
    expect(seen).toEqual({ anonymous: 'sign-in', staff: 'forbidden', otherManager: 'forbidden', patient: 'forbidden', admin: 'forbidden', auditor: 'forbidden' });
    expect(await storedEvents(t.sql)).toEqual(before);
  });

  it("a manager naming another clinic in the form gets 403 (the session's clinic counts)", async () => {
    await as('otherManager');
    const before = await storedEvents(t.sql);
    expect(await outcome(async () => (await manage()).changeTreatmentPriceAction({}, form({ treatmentId: 'tx-botox', priceKrw: '1', depositKrw: '0' })))).toBe('forbidden');
    expect(await storedEvents(t.sql)).toEqual(before);
  });
});

describe('treatments', () => {
  it('a new treatment: amounts as people type them, kinds from the checkboxes, its id from the command id (a retried submit lists it once), back to the list', async () => {
    await as('manager');
    const { listTreatmentAction } = await manage();
    const commandId = randomUUID();
    const fields = { commandId, name: '레이저 제모', nameEn: '', category: 'hair-removal', priceKrw: '₩50,000원', depositKrw: '10 000', durationMinutes: '30', bookingMode: 'instant', payAndBook: 'on', taxCategory: 'exempt' };
    const first = await outcome(() => listTreatmentAction({}, form(fields)));
    expect(first).toMatch(new RegExp(`^redirect /staff/${CLINIC}/manage\\?added=${CLINIC}-[0-9a-f]{24}$`));
    const listed = await lastOf('TreatmentListed');
    expect(listed?.data).toMatchObject({ name: '레이저 제모', category: 'hair-removal', priceKrw: 50_000, depositKrw: 10_000, durationMinutes: 30, bookingMode: 'instant', bookingKinds: ['pay-and-book'], taxCategory: 'exempt' });
    expect(listed?.data).not.toHaveProperty('nameEn');
    const count = (await clinicEvents()).length;
    expect(await outcome(() => listTreatmentAction({}, form(fields)))).toBe(first);
    expect((await clinicEvents()).length).toBe(count);
  });

  it('a form that cannot be a treatment gets field errors and appends nothing', async () => {
    await as('manager');
    const { listTreatmentAction } = await manage();
    const before = await storedEvents(t.sql);
    const state = await listTreatmentAction({}, form({ name: ' ', category: 'laser', priceKrw: '5만', depositKrw: '', durationMinutes: '2', bookingMode: 'instant', consultFirst: 'on', consultDurationMinutes: '', taxCategory: 'taxable' }));
    expect(state).toMatchObject({
      formError: 'errors.fixFields',
      fieldErrors: { name: ['required'], priceKrw: ['wholeNumber'], depositKrw: ['required'], durationMinutes: ['outOfRange'] },
      values: { name: ' ', priceKrw: '5만' },
    });
    // The checks across fields, once each field is well-formed.
    const noConsultLength = await listTreatmentAction({}, form({ name: 'x', category: 'laser', priceKrw: '1', depositKrw: '0', durationMinutes: '30', bookingMode: 'instant', consultFirst: 'on', consultDurationMinutes: '', taxCategory: 'taxable' }));
    expect(noConsultLength.fieldErrors).toEqual({ consultDurationMinutes: ['consultDurationRequired'] });
    const noKinds = await listTreatmentAction({}, form({ name: 'x', category: 'laser', priceKrw: '1', depositKrw: '0', durationMinutes: '30', bookingMode: 'instant', taxCategory: 'taxable' }));
    expect(noKinds.fieldErrors).toEqual({ bookingKinds: ['bookingKindRequired'] });
    expect(await storedEvents(t.sql)).toEqual(before);
  });

  it('a price change records the previous price; a deposit above the price is refused with the domain message', async () => {
    await as('manager');
    const { changeTreatmentPriceAction } = await manage();
    expect(await changeTreatmentPriceAction({}, form({ treatmentId: 'tx-botox', priceKrw: '129,000', depositKrw: '30,000' }))).toEqual({ ok: 'manage.treatments.priceChanged' });
    expect((await lastOf('TreatmentPriceChanged'))?.data).toMatchObject({ treatmentId: 'tx-botox', priceKrw: 129_000, depositKrw: 30_000, previousPriceKrw: expect.any(Number) });
    expect(await changeTreatmentPriceAction({}, form({ treatmentId: 'tx-botox', priceKrw: '129000', depositKrw: '30000' }))).toEqual({ ok: 'manage.unchanged' });
    const before = await storedEvents(t.sql);
    expect(await changeTreatmentPriceAction({}, form({ treatmentId: 'tx-botox', priceKrw: '10000', depositKrw: '20000' }))).toMatchObject({ formError: 'domainErrors.treatment.deposit_exceeds_price' });
    expect(await storedEvents(t.sql)).toEqual(before);
  });

  it('details: only what changed is recorded; a blank English name clears it', async () => {
    await as('manager');
    const { changeTreatmentDetailsAction } = await manage();
    const state = await changeTreatmentDetailsAction(
      {},
      form({ treatmentId: 'tx-ulthera', name: 'Ulthera lifting 300 shots', nameEn: '', category: 'lifting', durationMinutes: '75', bookingMode: 'clinic-confirm', consultFirst: 'on', consultDurationMinutes: '30', payAndBook: 'on', taxCategory: 'taxable' }),
    );
    expect(state).toEqual({ ok: 'manage.treatments.detailsChanged' });
    const changed = await lastOf('TreatmentDetailsChanged');
    expect(changed?.data).toMatchObject({ treatmentId: 'tx-ulthera', details: { durationMinutes: 75 } });
    expect(Object.keys((changed?.data as { details: object }).details)).toEqual(['durationMinutes']);
  });

  it('unlisting goes back to the list naming the treatment', async () => {
    await as('manager');
    const { unlistTreatmentAction } = await manage();
    expect(await outcome(() => unlistTreatmentAction({}, form({ treatmentId: 'tx-ulthera' })))).toBe(`redirect /staff/${CLINIC}/manage?unlisted=tx-ulthera`);
    expect((await lastOf('TreatmentUnlisted'))?.data).toEqual({ treatmentId: 'tx-ulthera' });
  });
});

describe('hours, slots, policy, settings', () => {
  it('the week from the form: intervals per weekday in order (a break between two), blank rows skipped, a weekday without any closed', async () => {
    await as('manager');
    const { setOpeningHoursAction } = await manage();
    const state = await setOpeningHoursAction(
      {},
      form({ 'w1.0.opens': '14:00', 'w1.0.closes': '19:00', 'w1.1.opens': '10:00', 'w1.1.closes': '13:00', 'w2.0.opens': '', 'w2.0.closes': '', 'w2.1.opens': '09:00', 'w2.1.closes': '18:00', 'w6.0.opens': '10:00', 'w6.0.closes': '15:00' }),
    );
    expect(state).toEqual({ ok: 'manage.hours.saved' });
    const set = await lastOf('OpeningHoursSet');
    expect((set?.data as { openingHours: unknown }).openingHours).toEqual([
      { weekday: 1, opens: '10:00', closes: '13:00' },
      { weekday: 1, opens: '14:00', closes: '19:00' },
      { weekday: 2, opens: '09:00', closes: '18:00' },
      { weekday: 6, opens: '10:00', closes: '15:00' },
    ]);
    expect(set?.data).toHaveProperty('previousOpeningHours');
  });

  it('overlapping, reversed or half-filled intervals are field errors on their weekday, with what was typed kept', async () => {
    await as('manager');
    const { setOpeningHoursAction } = await manage();
    const before = await storedEvents(t.sql);
    const state = await setOpeningHoursAction({}, form({ 'w1.0.opens': '10:00', 'w1.0.closes': '14:00', 'w1.1.opens': '13:00', 'w1.1.closes': '19:00', 'w3.0.opens': '18:00', 'w3.0.closes': '09:00', 'w5.0.opens': '10:00' }));
    expect(state).toMatchObject({ formError: 'errors.fixFields', fieldErrors: { w1: ['intervalsOverlap'], w3: ['opensBeforeCloses'], w5: ['timeInvalid'] }, values: { 'w1.1.opens': '13:00' } });
    expect(await storedEvents(t.sql)).toEqual(before);
  });

  it('slots, policy and settings: saved with their previous values; the same values again are "unchanged"', async () => {
    await as('manager');
    const { setSlotConfigurationAction, setCancellationPolicyAction, changeClinicSettingsAction, setStageThresholdsAction } = await manage();
    expect(await setSlotConfigurationAction({}, form({ slotLengthMinutes: '20', slotCapacity: '3' }))).toEqual({ ok: 'manage.slots.saved' });
    expect((await lastOf('SlotConfigurationSet'))?.data).toMatchObject({ slotLengthMinutes: 20, slotCapacity: 3, previousSlotLengthMinutes: 30 });
    expect(await setSlotConfigurationAction({}, form({ slotLengthMinutes: '20', slotCapacity: '3' }))).toEqual({ ok: 'manage.unchanged' });
    expect(await setSlotConfigurationAction({}, form({ slotLengthMinutes: '20', slotCapacity: '0' }))).toMatchObject({ fieldErrors: { slotCapacity: ['outOfRange'] } });

    // An unchecked checkbox is absent from the form: the deposit is then refunded after a no-show.
    expect(await setCancellationPolicyAction({}, form({ freeCancellationHours: '48', lateCancellationFeeKrw: '20,000', minimumNoticeHours: '3' }))).toEqual({ ok: 'manage.policy.saved' });
    expect((await lastOf('CancellationPolicySet'))?.data).toMatchObject({ policy: { freeCancellationHours: 48, lateCancellationFeeKrw: 20_000, noShowForfeitsDeposit: false, minimumNoticeHours: 3 }, previousPolicy: { freeCancellationHours: 24 } });

    expect(await changeClinicSettingsAction({}, form({ bookingHorizonDays: '120', paymentDeadlineMinutes: '45', noShowGraceMinutes: '10' }))).toEqual({ ok: 'manage.settings.saved' });
    expect((await lastOf('ClinicSettingsChanged'))?.data).toMatchObject({ bookingHorizonDays: 120, previousBookingHorizonDays: 90, paymentDeadlineMinutes: 45, noShowGraceMinutes: 10, previousNoShowGraceMinutes: 15 });
    expect(await changeClinicSettingsAction({}, form({ bookingHorizonDays: '120', paymentDeadlineMinutes: '45', noShowGraceMinutes: '10' }))).toEqual({ ok: 'manage.unchanged' });

    expect(await setStageThresholdsAction({}, form({ arrived: '20', consultation: '30', procedure: '90', recovery: '45' }))).toEqual({ ok: 'manage.thresholds.saved' });
    expect((await lastOf('ClinicSettingsChanged'))?.data).toMatchObject({ stageThresholdMinutes: { arrived: 20, recovery: 45 } });
  });
});

describe('closures', () => {
  it('a range closes each day once (a retried submit closes nothing twice); a reversed or too long range is a field error; a day opens again', async () => {
    await as('manager');
    const { closeDaysAction, reopenDayAction } = await manage();
    const { atLocal, clinicDay, plusMinutes } = await import('@/lib/domain');
    const day = (n: number) => clinicDay(plusMinutes(atLocal(monday, '12:00'), n * 24 * 60));
    const commandId = randomUUID();
    expect(await closeDaysAction({}, form({ commandId, from: monday, to: day(2), reason: '설날 연휴' }))).toEqual({ ok: 'manage.closures.closed' });
    const closed = async () => (await clinicEvents()).filter((e) => e.type === 'DayClosed').map((e) => (e.data as { day: string }).day);
    expect(await closed()).toEqual([monday, day(1), day(2)]);
    expect(await closeDaysAction({}, form({ commandId, from: monday, to: day(2), reason: '설날 연휴' }))).toEqual({ ok: 'manage.closures.closed' });
    expect(await closed()).toEqual([monday, day(1), day(2)]);

    const before = await storedEvents(t.sql);
    expect((await closeDaysAction({}, form({ from: day(2), to: monday, reason: 'x' }))).fieldErrors).toEqual({ to: ['endBeforeStart'] });
    expect((await closeDaysAction({}, form({ from: monday, to: day(40), reason: 'x' }))).fieldErrors).toEqual({ to: ['rangeTooLong'] });
    expect((await closeDaysAction({}, form({ from: '', reason: '' }))).fieldErrors).toEqual({ from: ['dateInvalid'], reason: ['required'] });
    // A day the domain has no key for (year 0000 crashed the clinic's time functions): the same one message.
    expect((await closeDaysAction({}, form({ from: '0000-05-01', to: '0001-05-01', reason: 'x' }))).fieldErrors).toEqual({ from: ['dateInvalid'], to: ['dateInvalid'] });
    expect(await storedEvents(t.sql)).toEqual(before);

    expect(await reopenDayAction({}, form({ day: day(1) }))).toEqual({ ok: 'manage.closures.reopened' });
    expect((await lastOf('DayReopened'))?.data).toMatchObject({ day: day(1), previousReason: '설날 연휴' });
    // A past day is the domain's refusal, with its message.
    expect(await closeDaysAction({}, form({ from: '2020-01-01', reason: 'x' }))).toMatchObject({ formError: 'domainErrors.clinic.closure_in_past' });
  });

  it('the bookings on a closed day: one moved to an open day (held there first), one cancelled by the clinic with its reason', async () => {
    const { bookReservation } = await import('@/lib/commands');
    const { patientMeta } = await import('@/lib/commands/testing');
    const { atLocal, clinicDay, plusMinutes } = await import('@/lib/domain');
    const closedDay = clinicDay(plusMinutes(atLocal(monday, '12:00'), 7 * 24 * 60));
    const openDay = clinicDay(plusMinutes(atLocal(closedDay, '12:00'), 24 * 60));
    const patientId = accounts.patient.id;
    const [moving, cancelling] = [`r-move-${randomUUID().slice(0, 8)}`, `r-cancel-${randomUUID().slice(0, 8)}`];
    for (const [reservationId, time] of [[moving, '10:00'], [cancelling, '11:00']] as const) {
      await bookReservation(deps, { reservationId, clinicId: CLINIC, patientId, treatmentId: 'tx-consult', kind: 'consult-first', startsAt: atLocal(closedDay, time).toISOString() }, patientMeta(patientId, CLINIC));
    }
    await as('manager');
    const { closeDaysAction, moveBookingAction, cancelBookingAction } = await manage();
    expect(await closeDaysAction({}, form({ from: closedDay, reason: '원장 학회' }))).toEqual({ ok: 'manage.closures.closed' });

    // Moving onto the closed day itself is the domain's refusal; onto the next open day it moves.
    expect(await moveBookingAction({}, form({ reservationId: moving, day: closedDay, time: '14:00' }))).toMatchObject({ formError: 'domainErrors.booking.clinic_closed' });
    expect(await moveBookingAction({}, form({ reservationId: moving, day: openDay, time: '14:00' }))).toEqual({ ok: 'manage.closures.moved' });
    const moved = (await deps.store.readStream(`reservation-${moving}`)).at(-1);
    expect(moved?.type).toBe('ReservationRescheduled');
    expect(moved?.data).toMatchObject({ startsAt: atLocal(openDay, '14:00').toISOString(), by: 'staff', staffId: accounts.manager.id });

    expect((await cancelBookingAction({}, form({ reservationId: cancelling, reason: ' ' }))).fieldErrors).toEqual({ reason: ['reasonRequired'] });
    expect(await cancelBookingAction({}, form({ reservationId: cancelling, reason: '원장 학회로 휴진합니다' }))).toEqual({ ok: 'manage.closures.cancelled' });
    const cancelled = (await deps.store.readStream(`reservation-${cancelling}`)).at(-1);
    expect(cancelled?.type).toBe('ReservationCancelled');
    expect(cancelled?.data).toMatchObject({ by: 'staff', staffId: accounts.manager.id, reason: '원장 학회로 휴진합니다', feeKrw: 0 });
  });
});
