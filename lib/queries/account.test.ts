import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeContact, commandMetadata, erasePatientData, registerPatient, type CommandDeps } from '../commands';
import { createEventStore, type EventStore } from '../eventstore';
import { createPersonalDataVault } from '../privacy';
import { rebuildProjections } from '../projections/rebuild';
import { projectionByName } from '../projections/registry';
import { createTestDatabase } from '../testing/db';
import { eventually } from '../testing/eventually';
import { accountOf } from './account';

const t = await createTestDatabase();
let store: EventStore;
let deps: CommandDeps;
const ana = `p-ana-${randomBytes(3).toString('hex')}`;
const ben = `p-ben-${randomBytes(3).toString('hex')}`;
const as = (id: string) => commandMetadata({ actor: { id, role: 'patient' } });

async function project() {
  await rebuildProjections({ store, database: t, projections: [projectionByName('patients')!], decryptor: deps.privacy });
}

beforeAll(async () => {
  store = await createEventStore({ databaseUrl: t.url, hmacKey: 'account-query-test-key' });
  deps = { store, privacy: createPersonalDataVault(t.sql, randomBytes(32).toString('base64')) };
  await registerPatient(deps, { patientId: ana, name: '안아나', phone: '010-1111-2222', birthDate: '1990-01-02', email: 'ana@example.kr' }, as(ana));
  await registerPatient(deps, { patientId: ben, name: '배벤', phone: '010-3333-4444', birthDate: '1991-03-04', email: 'ben@example.kr' }, as(ben));
  await changeContact(deps, { patientId: ana, phone: '010-5555-6666' }, as(ana));
  await project();
});
afterAll(() => store?.close());

describe('accountOf', () => {
  it("reads the patient's own decrypted profile, latest contact included, and nobody else's", async () => {
    expect(await accountOf(t.db, ana)).toMatchObject({ patientId: ana, name: '안아나', phone: '010-5555-6666', email: 'ana@example.kr', birthDate: '1990-01-02', erased: false });
    expect((await accountOf(t.db, ben))?.name).toBe('배벤');
    expect(await accountOf(t.db, 'p-nobody')).toBeNull();
  });

  it('reads every personal field as erased once the patient erased their data, also after a rebuild from the log', async () => {
    await erasePatientData(deps, { patientId: ana, requestedBy: 'patient', reason: 'asked in the account page' }, as(ana));
    // A rebuild reads the log only up to the oldest transaction still running anywhere on the shared
    // server: rebuild until it has seen the erasure (with the key gone, the registration alone already
    // reads as erased, but without its time).
    await eventually(async () => {
      await project();
      expect((await accountOf(t.db, ana))?.erasedAt).toBeInstanceOf(Date);
    });
    const erased = await accountOf(t.db, ana);
    expect(erased).toMatchObject({ name: null, phone: null, email: null, birthDate: null, erased: true });
    expect((await accountOf(t.db, ben))?.name).toBe('배벤');
  });
});
