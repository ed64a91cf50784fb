/**
 * erasePatientData end to end: the command records PatientDataErased and deletes the patient's key;
 * the live worker (its own vault, as in a deployment) drops the personal data from every read model;
 * the event log keeps only ciphertext nobody can read any more; a rebuild brings nothing back.
 */
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monday } from '../domain/clinic/fixtures';
import { streams } from '../domain';
import { bookReservation, changeContact, commandMetadata, erasePatientData, giveConsent, registerPatient, type CommandDeps } from '../commands';
import { manualClock, patientActor, patientMeta, registerTestClinic } from '../commands/testing';
import { createEventStore, type EventStore, type Position } from '../eventstore';
import { rebuildProjections } from '../projections/rebuild';
import { allProjections } from '../projections/registry';
import { snapshotReadModels } from '../projections/testing';
import { waitForProjections } from '../projections/wait';
import { ProjectionWorker } from '../projections/worker';
import { createTestDatabase, type TestDatabase } from '../testing/db';
import { createPersonalDataVault, type PersonalDataVault } from './vault';

const masterKey = randomBytes(32).toString('base64');
let t: TestDatabase;
let store: EventStore;
let vault: PersonalDataVault; // the web app's
let workerVault: PersonalDataVault; // the worker's: another process, its own key cache
let worker: ProjectionWorker;
let deps: CommandDeps;

beforeAll(async () => {
  t = await createTestDatabase();
  store = await createEventStore({ databaseUrl: t.url, hmacKey: 'erasure-test-hmac-key-0123' });
  vault = createPersonalDataVault(t.sql, masterKey);
  workerVault = createPersonalDataVault(t.sql, masterKey);
  deps = { store, clock: manualClock('2025-03-02T00:00:00Z'), privacy: vault };
  worker = new ProjectionWorker({ store, database: t, projections: allProjections, log: pino({ level: 'silent' }), decryptor: workerVault, statusIntervalMs: 200 });
  await worker.start();
});
afterAll(async () => {
  await worker?.stop();
  await store?.close();
});

const person = {
  name: '정하늘 Jung Haneul',
  phone: '010-9876-5432',
  newPhone: '010-1357-2468',
  email: 'haneul.jung@example.com',
  birthDate: '1993-08-17',
  note: '페니실린 알레르기 (penicillin allergy)',
};
const traces = [person.name, '정하늘', person.phone, person.newPhone, person.email, person.birthDate, person.note, '페니실린'];
const tablesHolding = (snapshot: Record<string, string>) =>
  Object.entries(snapshot)
    .filter(([, rows]) => traces.some((v) => rows.includes(v)))
    .map(([table]) => table);

describe('erasePatientData end to end', () => {
  it('records the erasure, deletes the key, and no read model (live or rebuilt) or event keeps anything readable', async () => {
    const patientId = `p-${randomBytes(5).toString('hex')}`;
    const clinicId = `c-${randomBytes(5).toString('hex')}`;
    await registerTestClinic(deps, clinicId);
    await registerPatient(deps, { patientId, name: person.name, phone: person.phone, email: person.email, birthDate: person.birthDate, locale: 'ko' }, patientMeta(patientId));
    await giveConsent(deps, { patientId, purpose: 'personal-data', version: 'v1' }, patientMeta(patientId));
    await changeContact(deps, { patientId, phone: person.newPhone }, patientMeta(patientId));
    let last: Position | null = (
      await bookReservation(
        deps,
        { reservationId: `r-${randomBytes(5).toString('hex')}`, clinicId, patientId, treatmentId: 'tx-consult', kind: 'consult-first', startsAt: monday('11:00'), note: person.note },
        commandMetadata({ actor: patientActor(patientId), clinicId }),
      )
    ).position;
    expect(await waitForProjections(last!, { sql: t.sql, timeoutMs: 30_000 })).toBe('caught-up');
    // Before: the read models show the patient's data (decrypted by the worker).
    expect(await t.sql`select name, phone, email, erased from rm_patients where id = ${patientId}`).toEqual([
      { name: person.name, phone: person.newPhone, email: person.email, erased: false },
    ]);
    expect(tablesHolding(await snapshotReadModels(t.sql))).toEqual(expect.arrayContaining(['rm_patients', 'rm_reservations']));
    expect(await vault.hasKey(patientId)).toBe(true);

    const erased = await erasePatientData(deps, { patientId, requestedBy: 'patient', reason: 'I asked to be forgotten' }, patientMeta(patientId));
    last = erased.position;

    // The event, as the patient's own act.
    const events = await store.readStream(streams.patient(patientId));
    expect(events.at(-1)).toMatchObject({
      type: 'PatientDataErased',
      data: { patientId, requestedBy: 'patient', reason: 'I asked to be forgotten' },
      metadata: { actor: { id: patientId, role: 'patient' } },
    });
    // The key is gone, for this process and any other (a fresh vault reads the table).
    expect(await vault.hasKey(patientId)).toBe(false);
    expect(await t.sql`select 1 from personal_data_keys where patient_id = ${patientId}`).toEqual([]);
    const fresh = createPersonalDataVault(t.sql, masterKey);
    for (const e of events.filter((x) => x.type === 'PatientRegistered' || x.type === 'ContactChanged')) {
      const read = await fresh.decryptEvent({ type: e.type, data: e.data });
      expect((read.data as { personal: { kind: string } }).personal.kind).toBe('erased');
    }
    // The log never held plaintext (only ciphertext, now unreadable).
    const [{ log }] = (await t.sql`select string_agg(data::text || metadata::text, ' ') as log from es_events`) as unknown as [{ log: string }];
    for (const v of traces) expect(log.includes(v), v).toBe(false);

    // Every read model drops the data once the worker has applied the erasure.
    expect(await waitForProjections(last!, { sql: t.sql, timeoutMs: 30_000 })).toBe('caught-up');
    expect(await t.sql`select name, phone, email, birth_date, erased from rm_patients where id = ${patientId}`).toEqual([
      { name: null, phone: null, email: null, birth_date: null, erased: true },
    ]);
    expect(await t.sql`select note, note_erased from rm_reservations where patient_id = ${patientId}`).toEqual([{ note: null, note_erased: true }]);
    expect(tablesHolding(await snapshotReadModels(t.sql))).toEqual([]);

    // A rebuild from the log (by the worker's vault, whose cache had the key) brings nothing back.
    await rebuildProjections({ store, database: t, projections: allProjections, decryptor: workerVault });
    expect(tablesHolding(await snapshotReadModels(t.sql))).toEqual([]);
    expect((await t.sql`select erased from rm_patients where id = ${patientId}`)[0]).toEqual({ erased: true });
  });
});
