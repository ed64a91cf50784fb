/**
 * The world the authorisation matrix (lib/auth/access-matrix.test.ts) and the hostile-input test
 * (lib/auth/hostile-input.test.ts) call the app in: one account per caller of the matrix, two clinics,
 * the patient's reservations, a visit and a deposit at the clinic, a visit of another patient at the
 * other clinic, and a real worker keeping the read models current. Also which entry points exist in
 * the code (so a new page, action or query without a row fails those tests).
 *
 * Call buildMatrixWorld after useTestEnvironment: the app's store, vault and gateway read it when
 * first imported.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { users, type Role } from '../db/schema';
import type { Fixtures, Who } from '../auth/access-matrix';
import type { TestDatabase } from './db';
import type { TestAccount } from './next-request';

const ROOT = path.resolve(import.meta.dirname, '../..');

export type MatrixAccounts = Record<Exclude<Who, 'anonymous'>, TestAccount>;

export interface MatrixWorld {
  accounts: MatrixAccounts;
  fx: Fixtures;
  /** A visit of another patient at the other clinic (an id that belongs to someone else). */
  otherClinicsVisit: string;
  stop(): Promise<void>;
}

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

export async function buildMatrixWorld(t: TestDatabase): Promise<MatrixWorld> {
  const CLINIC = `matrix-${randomUUID().slice(0, 6)}`;
  const OTHER_CLINIC = `${CLINIC}-other`;
  const account = (role: Role, clinicId: string | null = null): TestAccount => {
    const id = randomUUID();
    return { id, email: `${role}-${id.slice(0, 8)}@matrix.example`, name: `${role} ${id.slice(0, 4)}`, role, clinicId };
  };
  const accounts: MatrixAccounts = {
    patient: account('patient'),
    otherPatient: account('patient'),
    staff: account('staff', CLINIC),
    manager: { ...account('staff', CLINIC), clinicManager: true },
    otherStaff: account('staff', OTHER_CLINIC),
    admin: account('admin'),
    auditor: account('auditor'),
  };
  await t.db.insert(users).values(Object.values(accounts).map((a) => ({ ...a, passwordHash: 'not-a-real-hash' })));
  // Imported only now: the app's store, vault and gateway read the environment set by the test.
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
  const otherClinicsVisit = `v-other-${randomUUID().slice(0, 8)}`;
  await recordArrival(deps, { visitId: otherClinicsVisit, clinicId: OTHER_CLINIC, patientId: otherClinicsPatient, staffId: accounts.otherStaff.id }, staffMeta(OTHER_CLINIC, accounts.otherStaff.id));
  const last = await requestDeposit(deps, { paymentId: ids.payment, reservationId: ids.reservation, clinicId: CLINIC, patientId, amountKrw: 10_000, orderName: 'Deposit' }, meta({ clinicId: CLINIC }));

  const worker = new ProjectionWorker({ store: deps.store, database: t, projections: allProjections, log: pino({ level: 'silent' }), decryptor: deps.privacy, statusIntervalMs: 200 });
  await worker.start();
  // Its first build makes every projection live (until then nothing counts as caught up).
  for (let waited = 0; (await t.sql`select count(*)::int as n from projection_registry where status = 'live'`)[0]!.n < allProjections.length; waited += 100) {
    if (waited > 30_000) throw new Error('the projections never went live');
    await new Promise((r) => setTimeout(r, 100));
  }
  if ((await waitForProjections(last.position!, { timeoutMs: 30_000, sql: t.sql })) !== 'caught-up') throw new Error('the read models did not catch up with the fixtures');

  const fx: Fixtures = {
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
  return { accounts, fx, otherClinicsVisit, stop: () => worker.stop() };
}

// ── What exists in the code ───────────────────────────────────────────────────────────────────────

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

/** Every server action: `file#export` of each function a 'use server' file under app/ or lib/ exports. */
export async function serverActionsInCode(): Promise<string[]> {
  const found: string[] = [];
  for (const file of [...files('app', source), ...files('lib', source)]) {
    if (FILE_LEVEL_USE_SERVER.test(readFileSync(path.join(ROOT, file), 'utf8'))) for (const name of await functionsOf(file)) found.push(`${file}#${name}`);
  }
  return found.sort();
}

/** What exists now: every page, route handler method, export of a 'use server' file, and lib/queries function. */
export async function entryPointsInCode(): Promise<string[]> {
  const found: string[] = files('app', (f) => /(^|\/)page\.(tsx|ts|jsx|js)$/.test(f));
  for (const file of files('app', (f) => /(^|\/)route\.(ts|js)$/.test(f))) {
    for (const name of await functionsOf(file)) if (HTTP_METHODS.includes(name)) found.push(`${file}#${name}`);
  }
  found.push(...(await serverActionsInCode()));
  for (const file of [...files('app', source), ...files('lib', source)]) {
    const text = readFileSync(path.join(ROOT, file), 'utf8');
    // A server action declared inside a function has no export to give a row: it must live in a 'use server' file.
    if (!FILE_LEVEL_USE_SERVER.test(text) && USE_SERVER_DIRECTIVE.test(text)) found.push(`${file}#(inline 'use server' function: move it to app/actions)`);
  }
  for (const file of files('lib/queries', (f) => /\.ts$/.test(f))) for (const name of await functionsOf(file)) found.push(`${file}#${name}`);
  return found.sort();
}
