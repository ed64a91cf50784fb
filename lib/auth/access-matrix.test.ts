/**
 * The authorisation matrix (lib/auth/access-matrix.ts) run for real: every page, server action, route
 * handler and query called directly (no proxy in front: the second line of defence is what is tested)
 * for every role, with real Auth.js session cookies, real accounts and real ids — the patient's
 * reservations, visit and payment at the staff's clinic — so the command layer's ownership checks are
 * reached too. Only the allowed pairs get through; the rest go to sign-in (401 for a route) or get 403
 * (an owner-scoped read: 404), and a refused call appends nothing to the event store. A real worker
 * keeps the read models current, so the pages read what the actions wrote.
 * The table must cover the code: a page, route handler, server action or query export without a row
 * fails the first test.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { users, type Role } from '../db/schema';
import { createTestDatabase, storedEvents } from '../testing/db';
import { outcome, signInAs, useTestEnvironment, type TestAccount } from '../testing/next-request';
import { accessMatrix, everyone, isEntry, type EntryRow, type Fixtures, type Seen, type Who } from './access-matrix';

vi.mock('next/headers', () => import('../testing/next-request'));
vi.mock('next/cache', () => import('../testing/next-request').then((m) => m.nextCache));
vi.mock('next-intl/server', () => import('../testing/next-request').then((m) => m.nextIntlServer()));

const t = await createTestDatabase();
useTestEnvironment(t.url);

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLINIC = `matrix-${randomUUID().slice(0, 6)}`;
const OTHER_CLINIC = `${CLINIC}-other`;
const account = (role: Role, clinicId: string | null = null): TestAccount => {
  const id = randomUUID();
  return { id, email: `${role}-${id.slice(0, 8)}@matrix.example`, name: `${role} ${id.slice(0, 4)}`, role, clinicId };
};
const accounts: Record<Exclude<Who, 'anonymous'>, TestAccount> = {
  patient: account('patient'),
  otherPatient: account('patient'),
  staff: account('staff', CLINIC),
  manager: { ...account('staff', CLINIC), clinicManager: true },
  otherStaff: account('staff', OTHER_CLINIC),
  admin: account('admin'),
  auditor: account('auditor'),
};
const as = (who: Who) => signInAs(who === 'anonymous' ? null : accounts[who]);

/** The next weekdays (the test clinic opens Mon–Fri) at least a week ahead: outside the free-cancellation window. */
async function weekdaysAhead(count: number): Promise<string[]> {
  const { clinicDay, plusMinutes } = await import('../domain');
  const days: string[] = [];
  for (let d = 8; days.length < count; d++) {
    const day = clinicDay(plusMinutes(new Date(), d * 24 * 60));
    const weekday = new Date(`${day}T12:00:00+09:00`).getUTCDay();
    if (weekday >= 1 && weekday <= 5) days.push(day);
  }
  return days;
}

let fx: Fixtures;
let stopWorker: () => Promise<void> = async () => {};

beforeAll(async () => {
  await t.db.insert(users).values(Object.values(accounts).map((a) => ({ ...a, passwordHash: 'not-a-real-hash' })));
  // Imported only now: the app's store, vault and gateway read the environment set above.
  const { appCommandDeps } = await import('../runtime/command-deps');
  const { bookReservation, confirmReservation, derivedId, recordArrival, registerPatient, requestDeposit } = await import('../commands');
  const { meta, patientMeta, registerTestClinic, staffMeta } = await import('../commands/testing');
  const { atLocal } = await import('../domain');
  const { ProjectionWorker } = await import('../projections/worker');
  const { allProjections } = await import('../projections/registry');
  const { waitForProjections } = await import('../projections/wait');
  const deps = await appCommandDeps();
  const [day1, day2] = await weekdaysAhead(2);
  const patientId = accounts.patient.id;
  const staff = accounts.staff.id;
  const ids = { reservation: `r-mine-${randomUUID().slice(0, 8)}`, request: `r-req-${randomUUID().slice(0, 8)}`, confirmed: `r-conf-${randomUUID().slice(0, 8)}`, visit: `v-${randomUUID().slice(0, 8)}`, payment: `p-${randomUUID().slice(0, 8)}` };

  await registerTestClinic(deps, CLINIC);
  // Treatment ids are global in the catalogue: the other clinic lists none (it would take them over).
  await registerTestClinic(deps, OTHER_CLINIC, { treatments: [] });
  await registerPatient(deps, { patientId, name: '김지은', phone: '010-1234-5678', birthDate: '1991-04-12', email: accounts.patient.email }, patientMeta(patientId));
  const book = (reservationId: string, at: string) =>
    bookReservation(deps, { reservationId, clinicId: CLINIC, patientId, treatmentId: 'tx-consult', kind: 'consult-first', startsAt: atLocal(day1!, at).toISOString() }, patientMeta(patientId, CLINIC));
  await book(ids.reservation, '11:00');
  await book(ids.request, '15:00');
  await book(ids.confirmed, '16:00');
  await confirmReservation(deps, { reservationId: ids.confirmed, staffId: staff }, staffMeta(CLINIC, staff));
  await recordArrival(deps, { visitId: ids.visit, clinicId: CLINIC, patientId, staffId: staff }, staffMeta(CLINIC, staff));
  const bookingCommandId = randomUUID();
  const bookedSlot = atLocal(day2!, '12:00').toISOString();
  await bookReservation(
    deps,
    { reservationId: derivedId('rsv', bookingCommandId), clinicId: CLINIC, patientId, treatmentId: 'tx-consult', kind: 'consult-first', startsAt: bookedSlot },
    { ...patientMeta(patientId, CLINIC), commandId: bookingCommandId },
  );
  const otherClinicsPatient = randomUUID();
  await recordArrival(deps, { visitId: `v-other-${randomUUID().slice(0, 8)}`, clinicId: OTHER_CLINIC, patientId: otherClinicsPatient, staffId: accounts.otherStaff.id }, staffMeta(OTHER_CLINIC, accounts.otherStaff.id));
  const last = await requestDeposit(deps, { paymentId: ids.payment, reservationId: ids.reservation, clinicId: CLINIC, patientId, amountKrw: 10_000, orderName: 'Deposit' }, meta({ clinicId: CLINIC }));

  const worker = new ProjectionWorker({ store: deps.store, database: t, projections: allProjections, log: pino({ level: 'silent' }), decryptor: deps.privacy, statusIntervalMs: 200 });
  await worker.start();
  stopWorker = () => worker.stop();
  // Its first build makes every projection live (until then nothing counts as caught up).
  for (let waited = 0; (await t.sql`select count(*)::int as n from projection_registry where status = 'live'`)[0]!.n < allProjections.length; waited += 100) {
    if (waited > 30_000) throw new Error('the projections never went live');
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(await waitForProjections(last.position!, { timeoutMs: 30_000, sql: t.sql })).toBe('caught-up');

  fx = {
    clinic: CLINIC,
    otherClinic: OTHER_CLINIC,
    ...ids,
    bookingCommandId,
    bookedSlot,
    patientEmail: accounts.patient.email,
    patient: accounts.patient.id,
    staffAccount: accounts.staff.id,
    otherClinicsPatient,
    freeSlot: atLocal(day2!, '10:00').toISOString(),
    day: day2!,
    rescheduleSlot: atLocal(day2!, '11:00').toISOString(),
    form: (fields) => {
      const data = new FormData();
      for (const [k, v] of Object.entries(fields)) data.set(k, v);
      return data;
    },
    id: () => randomUUID(),
  };
}, 60_000);
afterAll(() => stopWorker());

// ── The table covers the code ─────────────────────────────────────────────────────────────────────

const files = (dir: string, match: (file: string) => boolean): string[] =>
  (readdirSync(path.join(ROOT, dir), { recursive: true }) as string[])
    .map((f) => path.posix.join(dir, f.split(path.sep).join('/')))
    .filter((f) => match(f) && !/\.test\.tsx?$/.test(f) && !f.includes('node_modules'));
const source = (f: string) => /\.(ts|tsx)$/.test(f);
/** The directive as a file's first statement (after comments), or anywhere as a statement of its own. */
const FILE_LEVEL_USE_SERVER = /^\s*(\/\/[^\n]*\n\s*|\/\*[\s\S]*?\*\/\s*)*['"]use server['"]/;
const USE_SERVER_DIRECTIVE = /^\s*['"]use server['"];?\s*$/m;
const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const functionsOf = async (file: string) =>
  Object.entries((await import(/* @vite-ignore */ path.join(ROOT, file))) as Record<string, unknown>)
    .filter(([, v]) => typeof v === 'function')
    .map(([name]) => name);

/** What exists now: every page, route handler method, export of a 'use server' file, and lib/queries function. */
export async function entryPointsInCode(): Promise<string[]> {
  const found: string[] = files('app', (f) => /(^|\/)page\.(tsx|ts|jsx|js)$/.test(f));
  for (const file of files('app', (f) => /(^|\/)route\.(ts|js)$/.test(f))) {
    for (const name of await functionsOf(file)) if (HTTP_METHODS.includes(name)) found.push(`${file}#${name}`);
  }
  for (const file of [...files('app', source), ...files('lib', source)]) {
    const text = readFileSync(path.join(ROOT, file), 'utf8');
    if (FILE_LEVEL_USE_SERVER.test(text)) for (const name of await functionsOf(file)) found.push(`${file}#${name}`);
    // A server action declared inside a function has no export to give a row: it must live in a 'use server' file.
    else if (USE_SERVER_DIRECTIVE.test(text)) found.push(`${file}#(inline 'use server' function: move it to app/actions)`);
  }
  for (const file of files('lib/queries', (f) => /\.ts$/.test(f))) for (const name of await functionsOf(file)) found.push(`${file}#${name}`);
  return found.sort();
}

describe('the access matrix covers every entry point', () => {
  it('every page, route handler, server action and query export has a row (and every row still exists)', async () => {
    const inCode = await entryPointsInCode();
    const inTable = accessMatrix.map((row) => row.id);
    const keys = accessMatrix.map((row) => `${row.id} ${(isEntry(row) && row.variant) || ''}`);
    expect(keys.filter((key, i) => keys.indexOf(key) !== i), 'rows listed twice').toEqual([]);
    expect(
      inCode.filter((id) => !inTable.includes(id)),
      'entry points without a row in lib/auth/access-matrix.ts',
    ).toEqual([]);
    expect(
      inTable.filter((id) => !inCode.includes(id)),
      'rows for things that no longer exist',
    ).toEqual([]);
    for (const row of accessMatrix) expect(existsSync(path.join(ROOT, row.id.split('#')[0]!)), row.id).toBe(true);
  });
});

describe('the proxy (first line) lets through everyone the table allows', () => {
  it("for every page, decideRoute (proxy.ts) answers 'allow' to each role the table allows", async () => {
    const { decideRoute } = await import('./roles');
    const blocked: string[] = [];
    for (const row of accessMatrix.filter(isEntry).filter((r) => r.kind === 'page')) {
      const url = `/${row.id.replace(/^app\//, '').replace(/\/?page\.tsx$/, '')}`.replace(/\[(\w+)\]/g, (_m, name: string) => {
        const byParam: Record<string, string> = { clinicId: fx.clinic, reservationId: fx.reservation, paymentId: fx.payment, stream: `reservation-${fx.reservation}` };
        return byParam[name] ?? name;
      });
      for (const who of row.allow) {
        const decision = decideRoute(url, who === 'anonymous' ? null : accounts[who]);
        if (decision !== 'allow') blocked.push(`${url} ${who}: ${decision}`);
      }
    }
    expect(blocked).toEqual([]);
  });
});

// ── Every row for every role ──────────────────────────────────────────────────────────────────────

/** No data: null, an empty list, or an object of empty lists (another patient's "my reservations"). */
const isEmpty = (v: unknown): boolean =>
  v == null || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && Object.keys(v).length > 0 && Object.values(v).every((x) => Array.isArray(x) && x.length === 0));

async function seenBy(row: EntryRow): Promise<Seen> {
  let result: unknown;
  const seen = await outcome(async () => {
    result = await row.call(fx);
  });
  if (seen === 'allowed' && result instanceof Response) {
    await result.body?.cancel();
    return `status ${result.status}`;
  }
  // A query that lets a caller in must still show them only their own: an empty answer is told apart.
  if (seen === 'allowed' && row.kind === 'query' && isEmpty(result)) return 'nothing';
  return seen;
}

function expectedFor(row: EntryRow, who: Who): Seen | RegExp {
  const route = row.kind === 'route';
  if (row.allow.includes(who)) return row.allowedAs?.(who, fx) ?? (route ? 'status 200' : 'allowed');
  return row.refusedAs?.[who] ?? (who === 'anonymous' ? (route ? 'status 401' : 'sign-in') : route ? 'status 403' : 'forbidden');
}

describe('every entry point for every role, with the proxy bypassed', () => {
  for (const row of accessMatrix.filter(isEntry)) {
    const refused = everyone.filter((w) => !row.allow.includes(w));
    const allowed = everyone.filter((w) => row.allow.includes(w));
    it(`${row.kind} ${row.id}${row.variant ? ` (${row.variant})` : ''}: ${row.allow.length === everyone.length ? 'everyone' : `only ${row.allow.join(', ')}`}`, async () => {
      const seen: Record<string, Seen> = {};
      const expected: Record<string, unknown> = {};
      const appendedWhenRefused: Record<string, number> = {};
      // Refused callers first: the real ids are still in the state the fixtures made.
      for (const who of [...refused, ...allowed]) {
        await as(who);
        const before = (await storedEvents(t.sql)).count;
        seen[who] = await seenBy(row);
        if (refused.includes(who)) appendedWhenRefused[who] = (await storedEvents(t.sql)).count - before;
        const want = expectedFor(row, who);
        expected[who] = want instanceof RegExp ? expect.stringMatching(want) : want;
      }
      // "Sign out everywhere" ended the caller's sessions: the fixtures' cookies must count again.
      if (row.id.includes('signOutEverywhere')) await t.db.update(users).set({ sessionVersion: 0 });
      expect(seen).toEqual(expected);
      expect(appendedWhenRefused).toEqual(Object.fromEntries(refused.map((w) => [w, 0])));
    });
  }
});
