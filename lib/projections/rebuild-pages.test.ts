/**
 * The rebuild's pages (row-store.ts: rows kept across pages, written once per page, new rows by COPY,
 * revision tables COPYed at the end) build exactly what the live path builds applying the events one
 * at a time: every read-model table, row by row, revision tables included. Page sizes: 1, 7 (page
 * boundaries inside one append's events: a patient's registration and consent, a payment's three
 * events) and one page for everything; and a memory budget so small that the store lets go of its
 * rows and reads them back from the shadow tables.
 */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEventStore, type EventStore, type RecordedEvent } from '../eventstore';
import { createPersonalDataVault, type PersonalDataVault } from '../privacy/vault';
import { createTestDatabase, type TestDatabase } from '../testing/db';
import { applyLiveBatch, ensureRegistry } from './engine';
import { rebuildProjections } from './rebuild';
import { allProjections } from './registry';
import { decodeEvents } from './runner';
import { appendOne, erasure, generateHistory, snapshotReadModels } from './testing';

let t: TestDatabase;
let store: EventStore;
let vault: PersonalDataVault;
let log: RecordedEvent[];
/** What the live path built, one event per batch. */
let live: Record<string, string>;

beforeAll(async () => {
  t = await createTestDatabase();
  store = await createEventStore({ databaseUrl: t.url, hmacKey: 'rebuild-pages-test-hmac-key' });
  vault = createPersonalDataVault(t.sql, randomBytes(32).toString('base64'));
  const history = generateHistory({ events: 200, seed: 43 });
  for (const a of history) await appendOne(store, a, vault.encryptEvent);
  // An erasure: the reservations' PatientDataErased reads its table directly (rows of earlier pages).
  const erased = history.find((a) => a.stream.startsWith('patient-'))!.stream.slice('patient-'.length);
  await appendOne(store, erasure(erased));
  log = await store.readAll({ maxCount: 100_000 });
  // The live path: every projection live, then each event in a batch of its own.
  await ensureRegistry(t, allProjections);
  for (const p of allProjections) await t.sql`update projection_registry set status = 'live', version = ${p.version} where name = ${p.name}`;
  for (const event of log) {
    const result = await applyLiveBatch(t, allProjections, await decodeEvents([event], vault));
    expect(result.outcomes, `${event.type} ${event.streamId}@${event.revision}`).toEqual([{ kind: 'applied' }]);
  }
  live = await snapshotReadModels(t.sql);
}, 180_000);

describe('rebuild pages', () => {
  it('the history has appends whose events a 7-event page splits', () => {
    const split = log.some((e, i) => i % 7 === 6 && log[i + 1]?.streamId === e.streamId && log[i + 1]!.revision === e.revision + 1);
    expect(split).toBe(true);
  });

  for (const { pageSize, retainedRows, why } of [
    { pageSize: 7, retainedRows: undefined, why: 'pages of 7 events' },
    { pageSize: 5000, retainedRows: undefined, why: 'one page for the whole log' },
    { pageSize: 13, retainedRows: 40, why: 'a budget of 40 retained rows (the least recently used read back from the shadow tables)' },
    { pageSize: 29, retainedRows: 0, why: 'no row retained (every row written before read back)' },
    { pageSize: 1, retainedRows: undefined, why: 'pages of one event' },
  ]) {
    it(`equals the live path, table by table, with ${why}`, { timeout: 180_000 }, async () => {
      const result = await rebuildProjections({ store, database: t, projections: allProjections, decryptor: vault, pageSize, retainedRows });
      expect(result.events).toBe(log.length);
      const rebuilt = await snapshotReadModels(t.sql);
      expect(Object.keys(rebuilt)).toEqual(Object.keys(live));
      for (const table of Object.keys(live)) {
        const want = JSON.parse(live[table]!) as unknown[];
        const got = JSON.parse(rebuilt[table]!) as unknown[];
        expect(got.length, `${table}: rows`).toBe(want.length);
        expect(got, table).toEqual(want);
      }
    });
  }
});
