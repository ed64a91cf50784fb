/**
 * "Still processing": when the read models have not caught up within the wait bound, an action
 * says so instead of showing a page that looks current. The booking action, called directly as a
 * signed-in patient (real session cookie, real database, real commands): without a worker the wait
 * times out and the redirect carries ?processing=1; with the worker running it does not. The
 * message itself is the StillProcessing component, in Korean by default.
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { renderToStaticMarkup } from 'react-dom/server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerTestClinic } from '@/lib/commands/testing';
import { users } from '@/lib/db/schema';
import { atLocal, clinicDay, weekdayOfDay } from '@/lib/domain/shared/time';
import { createEventStore, type EventStore } from '@/lib/eventstore';
import { allProjections } from '@/lib/projections/registry';
import { ProjectionWorker } from '@/lib/projections/worker';
import { createTestDatabase } from '@/lib/testing/db';
import { outcome, signInAs, useTestEnvironment, type TestAccount } from '@/lib/testing/next-request';
import koBase from '@/lib/i18n/messages/ko/base.json';

vi.mock('next/headers', () => import('@/lib/testing/next-request'));
vi.mock('next/cache', () => import('@/lib/testing/next-request').then((m) => m.nextCache));
vi.mock('next-intl/server', () => import('@/lib/testing/next-request').then((m) => m.nextIntlServer()));

const t = await createTestDatabase();
useTestEnvironment(t.url);
const { bookAction } = await import('./booking');
const { StillProcessing } = await import('../components/still-processing');

const clinicId = `still-${randomUUID().slice(0, 8)}`;
const patient: TestAccount = { id: randomUUID(), email: 'still@processing.example', name: '처리 중', role: 'patient', clinicId: null };
let store: EventStore;

/** The first Monday at least three days from now, at `time` in Seoul (inside the horizon, past the notice). */
function nextMondayAt(time: string): string {
  for (let d = 3; ; d++) {
    const day = clinicDay(new Date(Date.now() + d * 86_400_000));
    if (weekdayOfDay(day) === 1) return atLocal(day, time).toISOString();
  }
}
const bookingForm = (startsAt: string) => {
  const form = new FormData();
  for (const [k, v] of Object.entries({ clinicId, treatmentId: 'tx-consult', startsAt, kind: 'consult-first', commandId: randomUUID() })) form.set(k, v);
  return form;
};

beforeAll(async () => {
  store = await createEventStore({ databaseUrl: t.url, hmacKey: process.env.EVENT_HMAC_KEY! });
  await registerTestClinic({ store }, clinicId);
  await t.db.insert(users).values({ ...patient, passwordHash: 'x' });
  await signInAs(patient);
});
afterAll(async () => {
  await store?.close();
});

describe('the "still processing" message', () => {
  it('without a worker the wait times out and the booking action says the change is still being processed', async () => {
    const started = Date.now();
    const result = await outcome(() => bookAction({}, bookingForm(nextMondayAt('11:00'))));
    expect(result).toMatch(/^redirect \/me\/reservations\/[^?]+\?processing=1$/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4500); // it waited its bound (5 s) first
  });

  it('with the worker caught up it does not', async () => {
    const worker = new ProjectionWorker({ store, database: t, projections: allProjections, log: pino({ level: 'silent' }), statusIntervalMs: 200 });
    await worker.start();
    try {
      await expect.poll(async () => (await t.sql`select count(*)::int as n from projection_registry where status = 'live'`)[0]!.n, { timeout: 30_000 }).toBe(allProjections.length);
      const result = await outcome(() => bookAction({}, bookingForm(nextMondayAt('11:30'))));
      expect(result).toMatch(/^redirect \/me\/reservations\/[^?]+$/);
    } finally {
      await worker.stop();
    }
  });

  it('the message says the change was saved and is still being processed (Korean by default)', async () => {
    const html = renderToStaticMarkup(await StillProcessing());
    expect(html).toContain('role="status"');
    expect(html).toContain(koBase.projections.stillProcessing);
  });
});
