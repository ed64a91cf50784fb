/**
 * Staff pages, actions and the board's event stream called directly (no proxy in front), for every
 * role: only the clinic's own staff get through; staff of another clinic, patients, admins and
 * auditors get 403 (the actions with the clinic's real ids: the command layer refuses them, nothing is
 * appended), the signed-out go to sign-in (the event stream answers 401). Real database, real Auth.js
 * session cookies (lib/testing/next-request.ts).
 */
import { randomUUID } from 'node:crypto';
import { NextRequest } from 'next/server';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { bookReservation, confirmReservation, recordArrival, type CommandDeps } from '@/lib/commands';
import { manualClock, patientMeta, registerTestClinic, staffMeta } from '@/lib/commands/testing';
import { users, type Role } from '@/lib/db/schema';
import { createEventStore, type EventStore } from '@/lib/eventstore';
import { catalogueProjection } from '@/lib/projections/read-models/catalogue';
import { visitBoardProjection } from '@/lib/projections/read-models/visits';
import { rebuildProjections } from '@/lib/projections/rebuild';
import { createTestDatabase, storedEvents } from '@/lib/testing/db';
import { outcome, signInAs, useTestEnvironment, type Outcome, type TestAccount } from '@/lib/testing/next-request';

vi.mock('next/headers', () => import('@/lib/testing/next-request'));
vi.mock('next/cache', () => import('@/lib/testing/next-request').then((m) => m.nextCache));
vi.mock('next-intl/server', () => import('@/lib/testing/next-request').then((m) => m.nextIntlServer()));

const t = await createTestDatabase();
useTestEnvironment(t.url);

const CLINIC = `staff-access-${randomUUID().slice(0, 6)}`;
const OTHER = `${CLINIC}-other`;
const account = (role: Role, clinicId: string | null = null): TestAccount => {
  const id = randomUUID();
  return { id, email: `${role}-${id.slice(0, 8)}@staff-access.example`, name: `${role} ${id.slice(0, 4)}`, role, clinicId };
};
const accounts = { staff: account('staff', CLINIC), otherStaff: account('staff', OTHER), patient: account('patient'), admin: account('admin'), auditor: account('auditor') };
type Who = keyof typeof accounts | 'anonymous';
const refused: Who[] = ['anonymous', 'otherStaff', 'patient', 'admin', 'auditor'];
const as = (who: Who) => signInAs(who === 'anonymous' ? null : accounts[who]);

let store: EventStore;
const target = { request: `r-req-${randomUUID().slice(0, 8)}`, confirmed: `r-conf-${randomUUID().slice(0, 8)}`, visit: `v-${randomUUID().slice(0, 8)}` };

beforeAll(async () => {
  await t.db.insert(users).values(Object.values(accounts).map((a) => ({ ...a, passwordHash: 'not-a-real-hash' })));
  store = await createEventStore({ databaseUrl: t.url, hmacKey: process.env.EVENT_HMAC_KEY! });
  const deps: CommandDeps = { store, clock: manualClock('2025-03-02T00:00:00Z') };
  await registerTestClinic(deps, CLINIC);
  await registerTestClinic(deps, OTHER);
  const patientId = accounts.patient.id;
  await bookReservation(deps, { reservationId: target.request, clinicId: CLINIC, patientId, treatmentId: 'tx-ulthera', kind: 'consult-first', startsAt: '2025-03-03T11:00:00+09:00' }, patientMeta(patientId, CLINIC));
  await bookReservation(deps, { reservationId: target.confirmed, clinicId: CLINIC, patientId, treatmentId: 'tx-ulthera', kind: 'consult-first', startsAt: '2025-03-03T15:00:00+09:00' }, patientMeta(patientId, CLINIC));
  await confirmReservation(deps, { reservationId: target.confirmed, staffId: accounts.staff.id }, staffMeta(CLINIC, accounts.staff.id));
  await recordArrival(deps, { visitId: target.visit, clinicId: CLINIC, patientId, staffId: accounts.staff.id }, staffMeta(CLINIC, accounts.staff.id));
  // The clinic in the catalogue read model, so its pages render (readAll may lag: rebuild until it is in).
  for (let attempt = 0; ; attempt++) {
    await rebuildProjections({ store, database: t, projections: [catalogueProjection, visitBoardProjection] });
    if ((await t.sql`select 1 from clinics where id = ${CLINIC}`).length === 1 && (await t.sql`select 1 from rm_visits where id = ${target.visit}`).length === 1) break;
    if (attempt > 100) throw new Error('the clinic never reached the catalogue');
    await new Promise((r) => setTimeout(r, 200));
  }
  return () => store.close();
});

const form = (fields: Record<string, string>) => {
  const data = new FormData();
  for (const [k, v] of Object.entries({ clinicId: CLINIC, commandId: randomUUID(), ...fields })) data.set(k, v);
  return data;
};

describe('staff actions posted directly with the clinic’s real ids', () => {
  const calls: Array<[string, () => Promise<unknown>]> = [
    ['confirm', async () => (await import('./staff')).confirmReservationAction({}, form({ reservationId: target.request }))],
    ['reject', async () => (await import('./staff')).rejectReservationAction({}, form({ reservationId: target.request, reason: 'no' }))],
    ['check-in', async () => (await import('./staff')).checkInAction({}, form({ reservationId: target.confirmed }))],
    ['walk-in', async () => (await import('./staff')).walkInAction({}, form({ email: accounts.patient.email }))],
    ['move', async () => (await import('./staff')).moveVisitAction({}, form({ visitId: target.visit, to: 'consultation' }))],
    ['revert', async () => (await import('./staff')).revertVisitAction({}, form({ visitId: target.visit, reason: 'no' }))],
    ['add treatment', async () => (await import('./staff')).addTreatmentAction({}, form({ visitId: target.visit, treatmentId: 'tx-botox' }))],
  ];
  for (const [name, call] of calls) {
    it(`${name}: 403 for staff of another clinic, patients, admins and auditors; sign-in when signed out; nothing appended`, async () => {
      const before = await storedEvents(t.sql);
      const seen: Record<string, Outcome> = {};
      for (const who of refused) {
        await as(who);
        seen[who] = await outcome(call);
      }
      expect(seen).toEqual({ anonymous: 'sign-in', otherStaff: 'forbidden', patient: 'forbidden', admin: 'forbidden', auditor: 'forbidden' });
      expect(await storedEvents(t.sql)).toEqual(before);
    });
  }

  it('a form without a reason is refused with a field error before any command (reject, revert)', async () => {
    await as('staff');
    const { rejectReservationAction, revertVisitAction } = await import('./staff');
    const before = await storedEvents(t.sql);
    expect(await rejectReservationAction({}, form({ reservationId: target.request, reason: '  ' }))).toMatchObject({ fieldErrors: { reason: ['reasonRequired'] } });
    expect(await revertVisitAction({}, form({ visitId: target.visit }))).toMatchObject({ fieldErrors: { reason: ['reasonRequired'] } });
    expect(await storedEvents(t.sql)).toEqual(before);
  });
});

describe('staff pages and the board’s event stream', () => {
  const pages: Array<[string, () => Promise<unknown>]> = [
    ['Today', async () => (await import('../staff/[clinicId]/page')).default({ params: Promise.resolve({ clinicId: CLINIC }), searchParams: Promise.resolve({ day: '2025-03-03' }) })],
    ['board', async () => (await import('../staff/[clinicId]/board/page')).default({ params: Promise.resolve({ clinicId: CLINIC }), searchParams: Promise.resolve({}) })],
  ];
  for (const [name, call] of pages) {
    it(`${name}: only the clinic's own staff`, async () => {
      const seen: Record<string, Outcome> = {};
      for (const who of ['staff', ...refused] as Who[]) {
        await as(who);
        seen[who] = await outcome(call);
      }
      expect(seen).toEqual({ staff: 'allowed', anonymous: 'sign-in', otherStaff: 'forbidden', patient: 'forbidden', admin: 'forbidden', auditor: 'forbidden' });
    });
  }

  it('the event stream: 200 text/event-stream for the clinic’s staff (retry, then the board version as the event id), 403 for anyone else, 401 signed out', async () => {
    const { GET } = await import('../api/staff/[clinicId]/board/events/route');
    // Imported here, not at the top: lib/auth must see the test environment set above.
    const { boardChanges } = await import('@/lib/queries/board');
    const statuses: Record<string, number> = {};
    for (const who of ['staff', ...refused] as Who[]) {
      await as(who);
      const controller = new AbortController();
      const response = await GET(new NextRequest(`http://localhost/api/staff/${CLINIC}/board/events?day=2025-03-02`, { signal: controller.signal }), { params: Promise.resolve({ clinicId: CLINIC }) });
      statuses[who] = response.status;
      if (response.status === 200) {
        expect(response.headers.get('content-type')).toContain('text/event-stream');
        const reader = response.body!.getReader();
        let text = '';
        while (!text.includes('event:')) text += new TextDecoder().decode((await reader.read()).value);
        expect(text).toMatch(/^retry: 1000\n\nid: 2025-03-02\.[0-9a-f]{32}\nevent: ready\n/);
        expect(boardChanges().size).toBe(1);
        controller.abort();
        await reader.cancel();
        // A closed stream stops listening (no leak of one query per notification per dead stream).
        expect(boardChanges().size).toBe(0);
      }
    }
    expect(statuses).toEqual({ staff: 200, anonymous: 401, otherStaff: 403, patient: 403, admin: 403, auditor: 403 });
  });
});
