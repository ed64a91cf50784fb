/**
 * Rebuilds next to the live worker: one while events keep being appended (nothing may be lost at the
 * switch: what the live worker applied to the old tables after the copy must be in the new ones), and
 * one that fails (the live tables stay, the shadow tables are dropped, the error is recorded for the
 * admin page).
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { comparePositions, createEventStore, type EventStore, type Position } from '../eventstore';
import { createPersonalDataVault, type PersonalDataVault } from '../privacy/vault';
import { createTestDatabase, storedEvents, type TestDatabase } from '../testing/db';
import { auditLogProjection } from './read-models/audit-log';
import { rebuildProjections, RebuildFailed, SHADOW_SCHEMA } from './rebuild';
import { allProjections } from './registry';
import { appendOne, generateHistory, snapshotReadModels } from './testing';
import type { Projection } from './types';
import { waitForProjections } from './wait';
import { ProjectionWorker } from './worker';

let t: TestDatabase;
let store: EventStore;
let vault: PersonalDataVault;
let worker: ProjectionWorker;
let last: Position | undefined;
const history = generateHistory({ events: 3000, seed: 31 });
let next = 0;
const appendNext = async () => {
  last = (await appendOne(store, history[next++]!, vault.encryptEvent)).position;
};
const auditRows = async () => ((await t.sql`select count(*)::int as n from rm_audit_log`) as unknown as [{ n: number }])[0].n;

beforeAll(async () => {
  t = await createTestDatabase();
  store = await createEventStore({ databaseUrl: t.url, hmacKey: 'rebuild-test-hmac-key-0123' });
  vault = createPersonalDataVault(t.sql, randomBytes(32).toString('base64'));
  while (next < 1200) await appendNext();
  worker = new ProjectionWorker({ store, database: t, projections: allProjections, log: pino({ level: 'silent' }), decryptor: vault, statusIntervalMs: 200 });
  await worker.start();
  expect(await waitForProjections(last!, { sql: t.sql, timeoutMs: 60_000 })).toBe('caught-up');
});
afterAll(async () => {
  await worker?.stop();
  await store?.close();
});

describe('rebuilds beside the live worker', () => {
  it('a rebuild while events are appended loses nothing at the switch', { timeout: 120_000 }, async () => {
    // Appends go on throughout. And, for certain: right after the copy's last page was read, five
    // more are appended and the live worker applies them to the old tables; only the switch's final
    // read (under the apply lock) can bring them into the new tables.
    let rebuilding = true;
    let appendedDuring = 0;
    const appender = (async () => {
      while (rebuilding && next < history.length - 50) {
        await appendNext();
        appendedDuring++;
        await sleep(5);
      }
    })();
    const afterCopy: string[] = [];
    const watched: EventStore = Object.create(store, {
      readAll: {
        value: async (options: Parameters<EventStore['readAll']>[0]) => {
          const page = await store.readAll(options);
          if (afterCopy.length === 0 && options?.maxCount !== undefined && page.length < options.maxCount) {
            for (let i = 0; i < 5; i++) {
              const append = history[next++]!;
              const written = await appendOne(store, append, vault.encryptEvent);
              if (comparePositions(written.position, last!) > 0) last = written.position;
              const [event] = await store.readStream(append.stream, { fromRevision: written.nextExpectedRevision });
              afterCopy.push(event!.eventId);
            }
            expect(await waitForProjections(last!, { sql: t.sql, timeoutMs: 30_000 })).toBe('caught-up');
          }
          return page;
        },
      },
    });
    const result = await rebuildProjections({ store: watched, database: t, projections: allProjections, decryptor: vault, pageSize: 150 }).finally(
      () => (rebuilding = false),
    );
    await appender;
    // A few more after the switch: the live worker goes on in the new tables.
    for (let i = 0; i < 20; i++) await appendNext();
    expect(afterCopy).toHaveLength(5);
    expect(result.events).toBeGreaterThan(1200);
    expect(await waitForProjections(last!, { sql: t.sql, timeoutMs: 20_000 })).toBe('caught-up');

    // One audit row per stored event: none lost (those five included), none twice.
    expect(await t.sql`select event_id::text from rm_audit_log where event_id::text in ${t.sql(afterCopy)}`).toHaveLength(5);
    expect(await auditRows()).toBe((await storedEvents(t.sql)).count);
    // And the live tables are exactly what a quiet rebuild from the log gives.
    const live = await snapshotReadModels(t.sql);
    await rebuildProjections({ store, database: t, projections: allProjections, decryptor: vault });
    const rebuilt = await snapshotReadModels(t.sql);
    for (const table of Object.keys(rebuilt)) expect(live[table], table).toEqual(rebuilt[table]);
    expect(appendedDuring).toBeGreaterThan(0);
  });

  it('a rebuild that fails keeps the live tables, drops the shadow tables and records the error', { timeout: 90_000 }, async () => {
    // A poison event: the live audit log takes it, the rebuilt one (a broken handler) does not.
    const poisonStream = `poison-${randomBytes(4).toString('hex')}`;
    const poison = await appendOne(store, { stream: poisonStream, events: [{ type: 'Poison', schemaVersion: 1, data: { note: 'x' } }] });
    last = poison.position;
    expect(await waitForProjections(last, { sql: t.sql, timeoutMs: 30_000 })).toBe('caught-up');
    const broken: Projection = {
      ...auditLogProjection,
      async handle(tx, events) {
        if (events.some((e) => e.recorded.streamId === poisonStream)) throw new Error('the handler cannot take this event');
        return auditLogProjection.handle(tx, events);
      },
    };
    const before = await snapshotReadModels(t.sql, [auditLogProjection]);
    const [registryBefore] = await t.sql`select status, version, checkpoint_commit::text, checkpoint_prepare::text from projection_registry where name = 'audit-log'`;

    const failure = await rebuildProjections({ store, database: t, projections: [broken], pageSize: 500 }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(RebuildFailed);
    const [{ eventId }] = (await t.sql`select event_id::text as "eventId" from es_events where stream_id = ${poisonStream}`) as unknown as [{ eventId: string }];
    expect((failure as RebuildFailed).event.eventId).toBe(eventId);

    // The live tables and their registry row are untouched; no shadow schema is left behind.
    expect(await snapshotReadModels(t.sql, [auditLogProjection])).toEqual(before);
    expect(await t.sql`select status, version, checkpoint_commit::text, checkpoint_prepare::text from projection_registry where name = 'audit-log'`).toEqual([registryBefore]);
    expect(await t.sql`select 1 from pg_namespace where nspname = ${SHADOW_SCHEMA}`).toEqual([]);
    // The error, naming the event, is where the admin page reads it (lib/queries/projections: rebuild.error).
    const [row] = await t.sql<{ rebuild_error: string | null; rebuild_finished_at: Date | null }[]>`
      select rebuild_error, rebuild_finished_at from projection_registry where name = 'audit-log'`;
    expect(row!.rebuild_error).toContain(eventId);
    expect(row!.rebuild_error).toContain('the handler cannot take this event');
    expect(row!.rebuild_finished_at).not.toBeNull();

    // The live worker goes on in the live tables.
    await appendNext();
    expect(await waitForProjections(last!, { sql: t.sql, timeoutMs: 30_000 })).toBe('caught-up');
    expect(await auditRows()).toBe((await storedEvents(t.sql)).count);
  });
});
