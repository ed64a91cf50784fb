/**
 * The reservation actions called directly (no proxy, no page in front), with real Auth.js session
 * cookies and a real database: another patient's reservation id → 403 and nothing appended; a cost
 * that changed since the confirmation step was shown → the patient is told, nothing appended; the
 * owner's cancel goes through once per command id (the id the form carried).
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { bookReservation, type CommandDeps } from '@/lib/commands';
import { patientMeta, registerTestClinic } from '@/lib/commands/testing';
import { users } from '@/lib/db/schema';
import { atLocal, clinicDay, plusMinutes } from '@/lib/domain';
import { createEventStore, type EventStore } from '@/lib/eventstore';
import { createTestDatabase, storedEvents } from '@/lib/testing/db';
import { outcome, signInAs, useTestEnvironment, type TestAccount } from '@/lib/testing/next-request';

vi.mock('next/headers', () => import('@/lib/testing/next-request'));
vi.mock('next/cache', () => import('@/lib/testing/next-request').then((m) => m.nextCache));
vi.mock('next-intl/server', () => import('@/lib/testing/next-request').then((m) => m.nextIntlServer()));

const t = await createTestDatabase();
useTestEnvironment(t.url);
const { cancelReservationAction, rescheduleReservationAction } = await import('./reservations');

const CLINIC = `me-actions-${randomUUID().slice(0, 6)}`;
const patient = (name: string): TestAccount => {
  const id = randomUUID();
  return { id, email: `${name}-${id.slice(0, 6)}@me-actions.example`, name, role: 'patient', clinicId: null };
};
const alice = patient('alice');
const bob = patient('bob');
const hers = `r-hers-${randomUUID().slice(0, 8)}`;
let store: EventStore;

/** A weekday (the test clinic opens Mon–Fri) at least a week ahead: outside the free-cancellation window. */
function weekdayAhead(time: string): string {
  for (let d = 7; ; d++) {
    const day = clinicDay(plusMinutes(new Date(), d * 24 * 60));
    const weekday = new Date(`${day}T12:00:00+09:00`).getUTCDay();
    if (weekday >= 1 && weekday <= 5) return atLocal(day, time).toISOString();
  }
}
const startsAt = weekdayAhead('11:00');

const form = (fields: Record<string, string>) => {
  const data = new FormData();
  for (const [k, v] of Object.entries(fields)) data.set(k, v);
  return data;
};
const appended = async () => (await storedEvents(t.sql)).count;

beforeAll(async () => {
  await t.db.insert(users).values([alice, bob].map((a) => ({ ...a, passwordHash: 'not-a-real-hash' })));
  store = await createEventStore({ databaseUrl: t.url, hmacKey: process.env.EVENT_HMAC_KEY! });
  const deps: CommandDeps = { store };
  await registerTestClinic(deps, CLINIC);
  await bookReservation(deps, { reservationId: hers, clinicId: CLINIC, patientId: alice.id, treatmentId: 'tx-consult', kind: 'consult-first', startsAt }, patientMeta(alice.id, CLINIC));
  return () => store.close();
});

describe('cancel and reschedule actions', () => {
  it("refuse another patient's reservation with 403 and append nothing", async () => {
    await signInAs(bob);
    const before = await appended();
    const cancel = form({ reservationId: hers, commandId: randomUUID(), reason: 'schedule', expectedFeeKrw: '0', expectedRefundKrw: '0' });
    expect(await outcome(() => cancelReservationAction({}, cancel))).toBe('forbidden');
    const move = form({ reservationId: hers, commandId: randomUUID(), startsAt: weekdayAhead('14:00'), expectedFeeKrw: '0' });
    expect(await outcome(() => rescheduleReservationAction({}, move))).toBe('forbidden');
    expect(await appended()).toBe(before);
  });

  it('tell the owner when the cost differs from what the confirmation step showed, and append nothing', async () => {
    await signInAs(alice);
    const before = await appended();
    const cancel = form({ reservationId: hers, commandId: randomUUID(), reason: 'schedule', expectedFeeKrw: '30000', expectedRefundKrw: '0' });
    expect(await cancelReservationAction({}, cancel)).toMatchObject({ formError: 'me.cancel.changed' });
    const move = form({ reservationId: hers, commandId: randomUUID(), startsAt: weekdayAhead('14:00'), expectedFeeKrw: '30000' });
    expect(await rescheduleReservationAction({}, move)).toMatchObject({ formError: 'me.reschedule.changed' });
    expect(await appended()).toBe(before);
  });

  it('give field errors for a tampered form without running anything', async () => {
    await signInAs(alice);
    const before = await appended();
    const state = await cancelReservationAction({}, form({ reservationId: hers, commandId: 'not-a-uuid', reason: 'because', expectedFeeKrw: '-1', expectedRefundKrw: '0' }));
    expect(state.formError).toBe('errors.fixFields');
    expect(Object.keys(state.fieldErrors ?? {}).sort()).toEqual(['commandId', 'expectedFeeKrw', 'reason']);
    expect(await appended()).toBe(before);
  });

  it("cancel the owner's reservation once per command id, as the patient, then land on its page", async () => {
    await signInAs(alice);
    const commandId = randomUUID();
    const cancel = () => form({ reservationId: hers, commandId, reason: 'schedule', expectedFeeKrw: '0', expectedRefundKrw: '0' });
    const first = await outcome(() => cancelReservationAction({}, cancel()));
    expect(first).toMatch(new RegExp(`^redirect /me/reservations/${hers}\\?done=cancelled`));
    const events = await store.readStream(`reservation-${hers}`);
    const cancelled = events.filter((e) => e.type === 'ReservationCancelled');
    expect(cancelled).toHaveLength(1);
    expect(cancelled[0]!.metadata).toMatchObject({ commandId, actor: { id: alice.id, role: 'patient' } });
    expect(cancelled[0]!.data).toMatchObject({ by: 'patient', reason: 'patient: schedule', feeKrw: 0 });
    // The same form submitted again (double click, back and resubmit): the first result, nothing more.
    const before = await appended();
    expect(await outcome(() => cancelReservationAction({}, cancel()))).toMatch(/^redirect /);
    expect(await appended()).toBe(before);
  });
});
