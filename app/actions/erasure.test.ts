/**
 * Erasure that leaves nothing readable (issue 10, item 7), end to end against a real database: a
 * patient registers, verifies, signs in (and mistypes a password; a stranger tries their address from
 * elsewhere), books with a note, pays the deposit, is checked in and discharged, and is looked at by
 * staff ("show contact", in the access log); then erases their data from their account page. Every
 * column of every table (enumerated from information_schema, including the events' data and
 * metadata), and every log line the worker and the app wrote, is then searched for each of the
 * patient's values: name, e-mail, phone, birth date, note, IP address and user agent. The same after a
 * rebuild of every projection from the log.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bookReservation, checkInReservation, confirmDeposit, depositPaymentId, discharge, loadStream, userCommandMetadata, type CommandDeps } from '@/lib/commands';
import { manualClock, registerTestClinic, staffMeta } from '@/lib/commands/testing';
import { users } from '@/lib/db/schema';
import { monday } from '@/lib/domain/clinic/fixtures';
import { payment, streams } from '@/lib/domain';
import type { ActivePayment } from '@/lib/domain/payment';
import { createEventStore, type EventStore } from '@/lib/eventstore';
import { requestRegistration, verifyEmail } from '@/lib/auth/registration';
import { signInWithPassword, throttleDelay, throttlePolicy } from '@/lib/auth/sign-in';
import type { EntityEvent } from '@/lib/queries/audit-entity';
import { createSandboxGateway } from '@/lib/payments/sandbox';
import { startProcessManagers, type ProcessManagers } from '@/lib/process-managers';
import { createPersonalDataVault } from '@/lib/privacy/vault';
import { rebuildProjections } from '@/lib/projections/rebuild';
import { allProjections } from '@/lib/projections/registry';
import { waitForProjections } from '@/lib/projections/wait';
import { ProjectionWorker } from '@/lib/projections/worker';
import { commandDepsFor } from '@/lib/runtime/command-deps';
import { createLogger } from '@/lib/runtime/logging';
import { createTestDatabase } from '@/lib/testing/db';
import { eventually } from '@/lib/testing/eventually';
import { outcome, signInAs, useTestEnvironment, type TestAccount } from '@/lib/testing/next-request';

// The client of each request (scripts/web-server.ts pins X-Forwarded-For to it): switched per step.
const client = vi.hoisted(() => ({ ip: '192.0.2.1', userAgent: 'vitest' }));
vi.mock('next/headers', async () => {
  const m = await import('@/lib/testing/next-request');
  return {
    ...m,
    headers: async () => {
      const h = new Headers([...(await m.headers()).entries()]);
      h.set('x-forwarded-for', client.ip);
      h.set('user-agent', client.userAgent);
      return h;
    },
  };
});
vi.mock('next/cache', () => import('@/lib/testing/next-request').then((m) => m.nextCache));
vi.mock('next-intl/server', () => import('@/lib/testing/next-request').then((m) => m.nextIntlServer()));

const t = await createTestDatabase();
useTestEnvironment(t.url);

const tag = randomBytes(3).toString('hex');
// Distinctive values: none of them can occur in a table by chance.
const person = {
  name: `엄지원 Umjiwon Erasetest${tag}`,
  email: `umji.erasetest${tag}@example.com`,
  phone: '010-7391-4682',
  birthDate: '1987-11-29',
  note: `Erasetest${tag} 라텍스 알레르기 latex allergy`,
  ip: '198.18.23.45',
  userAgent: `ErasureTestBrowser/9.7 (Umjiwon phone ${tag})`,
};
const traces: Record<string, string> = {
  name: person.name,
  'name (Korean)': '엄지원',
  email: person.email,
  'email (local part)': `umji.erasetest${tag}`,
  phone: person.phone,
  'phone (digits)': person.phone.replaceAll('-', ''),
  birthDate: person.birthDate,
  note: person.note,
  'note (Korean)': '라텍스 알레르기',
  ip: person.ip,
  userAgent: person.userAgent,
};
const STRANGER_IP = '203.0.113.99';
const STAFF_IP = '192.0.2.44';
const PASSWORD = 'erase-me-2026';

const CLINIC = `er-${tag}`;
const staff: TestAccount = { id: randomUUID(), email: `staff-${tag}@erasure.example`, name: `staff ${tag}`, role: 'staff', clinicId: CLINIC };
const auditor: TestAccount = { id: randomUUID(), email: `auditor-${tag}@erasure.example`, name: `auditor ${tag}`, role: 'auditor', clinicId: null };

/** Every log line the worker and the process managers wrote. */
const logLines: string[] = [];
const log = createLogger({ name: 'worker', level: 'debug' }, new Writable({ write: (chunk, _enc, done) => (logLines.push(String(chunk)), done()) }));
/** And what the app printed (server actions' unexpected errors go to console.error). */
const printed: string[] = [];

let store: EventStore;
let worker: ProjectionWorker;
let pm: ProcessManagers;
let deps: CommandDeps;
const sandbox = createSandboxGateway(t.sql);
const clock = manualClock('2025-03-02T00:00:00Z');
const masterKey = process.env.PERSONAL_DATA_MASTER_KEY!;

beforeAll(async () => {
  for (const method of ['error', 'warn', 'log', 'info'] as const) {
    const original = console[method].bind(console);
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      printed.push(args.map((a) => (a instanceof Error ? `${a.stack} ${JSON.stringify(a)}` : typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
      original(...args);
    });
  }
  await t.db.insert(users).values([staff, auditor].map((a) => ({ ...a, passwordHash: 'not-a-real-hash' })));
  store = await createEventStore({ databaseUrl: t.url, hmacKey: process.env.EVENT_HMAC_KEY!, maxConnections: 10 });
  deps = { ...commandDepsFor(t.sql, store, masterKey), payments: { gateway: sandbox, provider: 'sandbox' }, clock };
  worker = new ProjectionWorker({ store, database: t, projections: allProjections, log, decryptor: createPersonalDataVault(t.sql, masterKey), statusIntervalMs: 200 });
  await worker.start();
  pm = await startProcessManagers({
    store,
    sql: t.sql,
    payments: deps.payments!,
    privacy: deps.privacy,
    clock,
    timerIntervalMs: 0,
    paymentCheckDelayMs: 60_000,
    groupSettings: { checkpointAfterMs: 50, maxRetryCount: 2 },
    onError: (error) => log.warn({ err: error }, 'process manager step failed'),
  });
  await registerTestClinic(deps, CLINIC);
});
afterAll(async () => {
  await pm?.stop();
  await worker?.stop();
  await store?.close();
  vi.restoreAllMocks();
});

const form = (fields: Record<string, string>) => {
  const data = new FormData();
  for (const [k, v] of Object.entries(fields)) data.set(k, v);
  return data;
};
const patientOrigin = { ip: person.ip, userAgent: person.userAgent };
const like = (v: string) => `%${v.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * Every table.column of the database (every schema but the system's) that holds one of the traces:
 * text-like columns (text, varchar, json, jsonb, arrays, enums, inet) cast to text and searched
 * case-insensitively; bytea searched for the values' UTF-8 bytes.
 */
async function findTraces(): Promise<string[]> {
  const columns = await t.sql<{ table_schema: string; table_name: string; column_name: string; data_type: string }[]>`
    select c.table_schema, c.table_name, c.column_name, c.data_type
    from information_schema.columns c
    join information_schema.tables tb on tb.table_schema = c.table_schema and tb.table_name = c.table_name and tb.table_type = 'BASE TABLE'
    where c.table_schema not in ('pg_catalog', 'information_schema') and c.table_schema not like 'pg_toast%'
      and c.data_type in ('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY', 'bytea', 'USER-DEFINED', 'inet', 'cidr')
    order by 1, 2, 3`;
  expect(columns.map((c) => `${c.table_name}.${c.column_name}`)).toEqual(
    expect.arrayContaining(['es_events.data', 'es_events.metadata', 'users.email', 'security_events.ip', 'rm_audit_log.ip', 'access_log.user_agent']),
  );
  const found: string[] = [];
  const labels = Object.keys(traces);
  const values = Object.values(traces);
  for (const c of columns) {
    const rows =
      c.data_type === 'bytea'
        ? await t.sql.unsafe<{ i: number }[]>(
            `select i from unnest($1::text[]) with ordinality as v(value, i)
             where exists (select 1 from "${c.table_schema}"."${c.table_name}" where position(convert_to(v.value, 'UTF8') in "${c.column_name}") > 0)`,
            [values],
          )
        : await t.sql.unsafe<{ i: number }[]>(
            `select i from unnest($1::text[]) with ordinality as v(value, i)
             where exists (select 1 from "${c.table_schema}"."${c.table_name}" where "${c.column_name}"::text ilike v.value)`,
            [values.map(like)],
          );
    for (const { i } of rows) found.push(`${c.table_schema}.${c.table_name}.${c.column_name}: ${labels[Number(i) - 1]}`);
  }
  return found;
}

const linesHolding = (lines: readonly string[]) =>
  Object.entries(traces)
    .filter(([, v]) => lines.some((l) => l.toLowerCase().includes(v.toLowerCase())))
    .map(([label]) => label);

let patient: TestAccount;
let readHistory: () => Promise<readonly EntityEvent[]>;
let reservationId: string;

describe('erasing a patient who has registered, signed in, booked, paid, visited and been looked at', () => {
  it('first: the patient has left every kind of trace (the search finds them)', async () => {
    // Registration, verification, sign-ins: security events, the outbox, the account, the patient's events.
    const answer = await requestRegistration(
      t.db,
      deps,
      { name: person.name, email: person.email, password: PASSWORD, confirmPassword: PASSWORD, phone: person.phone, birthDate: person.birthDate, consent: 'on' },
      patientOrigin,
      { baseUrl: 'http://localhost:3000' },
    );
    expect(answer).toEqual({ status: 'sent' });
    const [account] = await t.sql<{ id: string }[]>`select id from users where email = ${person.email}`;
    patient = { id: account!.id, email: person.email, name: person.name, role: 'patient', clinicId: null };
    const [mail] = await t.sql<{ payload: { verifyUrl: string } }[]>`select payload from email_outbox where to_email = ${person.email} and template = 'verify-email'`;
    expect(await verifyEmail(t.db, new URL(mail!.payload.verifyUrl).searchParams.get('token')!, patientOrigin)).toBe(true);
    expect(await signInWithPassword(t.db, { email: person.email, password: 'a wrong one 1' }, patientOrigin)).toEqual({ ok: false, reason: 'invalid' });
    expect((await signInWithPassword(t.db, { email: person.email, password: PASSWORD }, patientOrigin)).ok).toBe(true);
    // A stranger guesses from elsewhere, until the pair (address, account) is throttled.
    for (let i = 0; i < throttlePolicy.perPair; i++) {
      expect(await signInWithPassword(t.db, { email: person.email, password: `guessed by a stranger ${i}` }, { ip: STRANGER_IP, userAgent: 'curl/8.0' })).toEqual({ ok: false, reason: 'invalid' });
    }
    expect(await throttleDelay(t.db, person.email, STRANGER_IP, new Date())).toBeGreaterThan(0);

    // Booking with a note (pay and book: the process manager asks for the deposit), then paying it.
    reservationId = `r-${tag}`;
    const as = (step: string) => userCommandMetadata({ id: patient.id, role: 'patient', clinicId: null }, patientOrigin, { clinicId: CLINIC, commandId: randomUUID(), correlationId: step === 'book' ? null : reservationId });
    await bookReservation(deps, { reservationId, clinicId: CLINIC, patientId: patient.id, treatmentId: 'tx-botox', kind: 'pay-and-book', startsAt: monday('11:00'), note: person.note }, as('book'));
    const paymentId = depositPaymentId(reservationId);
    await eventually(async () => expect(await t.sql`select 1 from payment_sandbox_orders where order_id = ${paymentId}`).toHaveLength(1), 30_000);
    const p = (await loadStream(store, payment.paymentDecider, streams.payment(paymentId))).state as ActivePayment;
    const auth = await sandbox.authorize({ orderId: paymentId, amount: p.amountKrw, cardNumber: '4242424242424242' });
    expect((await confirmDeposit(deps, { paymentKey: auth.paymentKey, orderId: paymentId, amount: p.amountKrw }, as('pay'))).outcome).toBe('captured');
    await eventually(async () => expect(await t.sql`select deposit_paid_krw from rm_reservations where id = ${reservationId}`).toEqual([{ deposit_paid_krw: 50_000 }]), 30_000);

    // The visit: checked in and discharged by the clinic's staff.
    const visitId = `v-${tag}`;
    await checkInReservation(deps, { reservationId, visitId }, staffMeta(CLINIC, staff.id));
    const { position } = await discharge(deps, { visitId }, staffMeta(CLINIC, staff.id));
    expect(await waitForProjections(position!, { sql: t.sql, timeoutMs: 30_000 })).toBe('caught-up');

    // Looked at: staff reveal the contact (the access log records it).
    Object.assign(client, { ip: STAFF_IP, userAgent: 'StaffDesk/1.0' });
    await signInAs(staff);
    const shown = await (await import('./staff-patient')).revealContactAction({}, form({ clinicId: CLINIC, patientId: patient.id }));
    expect(shown).toEqual({ ok: 'access.contactShown', values: { phone: person.phone, email: person.email } });
    expect(await t.sql`select account_id, ip from access_log where ${patient.id} = any(patient_ids)`).toEqual([{ account_id: staff.id, ip: STAFF_IP }]);

    // The patient's IP and user agent were never in an event or the audit log in plaintext (sealed
    // under their key; the entity page opens them); staff's are.
    // (Imported here: it loads Auth.js, which reads AUTH_SECRET on import, set by useTestEnvironment.)
    const { entityHistoryOf } = await import('@/lib/queries/audit-entity');
    const history = async () => (await entityHistoryOf({ store, db: t.db, vault: deps.privacy }, streams.reservation(reservationId)))!.events;
    expect((await history()).map((e) => [e.actorRole, e.origin, e.ip, e.userAgent])).toEqual(
      expect.arrayContaining([
        ['patient', 'available', person.ip, person.userAgent],
        ['staff', 'available', '203.0.113.7', 'vitest'],
      ]),
    );
    expect(await t.sql`select distinct ip from rm_audit_log where actor_id = ${patient.id}`).toEqual([{ ip: null }]);
    expect(await t.sql`select distinct ip from rm_audit_log where actor_id = ${staff.id}`).toEqual([{ ip: '203.0.113.7' }]);
    readHistory = history;

    // An auditor opening a stream where the page opens the patient's sealed origin: recorded as a read of their data.
    Object.assign(client, { ip: '192.0.2.45', userAgent: 'AuditorDesk/1.0' });
    await signInAs(auditor);
    const { auditEntity } = await import('@/lib/queries/audit-entity');
    const schedule = await auditEntity(streams.schedule(CLINIC, '2025-03-03'), null);
    expect(schedule!.events.filter((e) => e.actorRole === 'patient').map((e) => [e.origin, e.ip])).toContainEqual(['available', person.ip]);
    expect(await t.sql`select patient_ids from access_log where account_id = ${auditor.id} and resource = 'audit-entity'`).toEqual([{ patient_ids: [patient.id] }]);

    const before = await findTraces();
    expect(before.filter((f) => f.startsWith('public.es_events') || f.startsWith('public.rm_audit_log'))).toEqual([]);
    // What the search must see before erasure (so that it can fail): the account and the read models at least.
    expect(before).toEqual(expect.arrayContaining([`public.users.email: email`, `public.rm_patients.name: name`, `public.rm_reservations.note: note`]));
  }, 120_000);

  it('after erasure no table, read model, event or log line holds any of their values, also after a rebuild', async () => {
    Object.assign(client, patientOrigin);
    await signInAs(patient);
    const erased = await outcome(async () => (await import('./account')).eraseMyDataAction({}, form({ commandId: randomUUID(), confirm: 'on' })));
    expect(erased).toMatch(/^redirect .*\/signin$/);
    // Wait for the worker to apply the erasure (the action waited too, but with its own store).
    await eventually(async () => expect(await t.sql`select erased from rm_patients where id = ${patient.id}`).toEqual([{ erased: true }]), 30_000);
    await eventually(async () => expect(await t.sql`select note_erased from rm_reservations where id = ${reservationId}`).toEqual([{ note_erased: true }]), 30_000);

    expect(await findTraces()).toEqual([]);
    expect(linesHolding(logLines)).toEqual([]);
    expect(logLines.length).toBeGreaterThan(0);
    expect(linesHolding(printed)).toEqual([]);

    // The entity page: the patient's origin reads as erased, staff's is still there.
    const origins = (await readHistory()).map((e) => [e.actorRole, e.origin, e.ip, e.userAgent]);
    expect(origins).toContainEqual(['patient', 'erased', null, null]);
    expect(origins.filter(([role, origin]) => role === 'patient' && origin !== 'erased')).toEqual([]);
    expect(origins).toContainEqual(['staff', 'available', '203.0.113.7', 'vitest']);
    // Throttling still counts the stranger's guesses, now recorded under pseudonyms.
    expect(await t.sql`select count(*)::int as n from security_events where ip = ${STRANGER_IP}`).toEqual([{ n: 0 }]);
    expect(await throttleDelay(t.db, person.email, STRANGER_IP, new Date())).toBeGreaterThan(0);

    // A rebuild of every projection from the log brings nothing back.
    await rebuildProjections({ store, database: t, projections: allProjections, decryptor: createPersonalDataVault(t.sql, masterKey) });
    expect(await findTraces()).toEqual([]);

    // The account cannot be used any more (checked last: the attempt is itself recorded, as typed).
    expect((await signInWithPassword(t.db, { email: person.email, password: PASSWORD }, { ip: STRANGER_IP, userAgent: 'curl/8.0' })).ok).toBe(false);
  }, 120_000);
});
