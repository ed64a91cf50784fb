import { randomUUID } from 'node:crypto';
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../testing/db';
import { chainEvents, comparePositions, newEventId, prepareEvents } from '../envelope';
import { DuplicateEventId } from '../errors';
import { eventStoreContract, ev, waitFor } from '../testing/contract';
import type { EventStore, RecordedEvent } from '../types';
import { PostgresEventStore } from './store';

const HMAC_KEY = 'test-key-for-the-event-store-contract-suite';
const t: TestDatabase = await createTestDatabase({ max: 4 });
/** Left empty until its own test: one connection, so every statement runs in one backend and its plan cache. */
const fresh: TestDatabase = await createTestDatabase({ max: 1 });

function pgStore(): PostgresEventStore {
  const store = new PostgresEventStore({ databaseUrl: t.url, hmacKey: HMAC_KEY, maxConnections: 4, applicationName: 'eventstore-test' });
  store.groups.leaseMs = 1000;
  return store;
}

eventStoreContract('PostgreSQL', {
  create: async () => pgStore(),
  takeoverMs: 5000,
  // Lease 1 s + standby poll 0.5 s: a consumer that stopped renewing would lose the group within the watch.
  standbyWatchMs: 2000,
  tamper: async (_store: EventStore, streamId: string, revision: number) => {
    // As a superuser with the immutability triggers bypassed: the database cannot stop this, the chain shows it.
    await t.sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`update es_events set data = data || '{"amountKrw": 1}'::jsonb where stream_id = ${streamId} and revision = ${revision}`;
    });
    return revision;
  },
});

describe('PostgreSQL backend specifics', () => {
  let store: PostgresEventStore;
  beforeAll(() => {
    store = pgStore();
  });
  afterAll(() => store.close());

  /**
   * Runs the store's append statement inside a transaction we control, so a test can hold it open
   * (as a slow append would be) and commit it after later ones.
   */
  async function heldAppend(streamId: string, head: { revision: number; hash: string } | null, type: string) {
    const prepared = prepareEvents(streamId, [ev(type)]);
    const chained = chainEvents(HMAC_KEY, streamId, prepared, head ? head.revision + 1 : 0, head?.hash ?? null);
    const payload = chained.events.map((e) => ({ id: e.eventId, type: e.type, schemaVersion: e.schemaVersion, data: e.data, metadata: e.metadata }));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let written!: () => void;
    const wasWritten = new Promise<void>((r) => (written = r));
    const done = t.sql.begin(async (tx) => {
      const rows = await tx`select last_position::text, last_xid::text from es_append(${streamId}, ${head ? head.revision : -1}, ${chained.lastHash}, ${JSON.stringify(payload)}::jsonb)`;
      written();
      await released;
      return rows;
    });
    await wasWritten;
    return { commit: async () => (release(), await done), eventId: prepared[0]!.eventId };
  }

  it('the database rejects UPDATE, DELETE and TRUNCATE of events', async () => {
    await store.append('immutable-1', [ev('A')]);
    await expect(t.sql`update es_events set type = 'B' where stream_id = 'immutable-1'`).rejects.toThrow(/append-only/);
    await expect(t.sql`delete from es_events where stream_id = 'immutable-1'`).rejects.toThrow(/append-only/);
    await expect(t.sql`truncate es_events cascade`).rejects.toThrow(/append-only/);
    expect(await store.readStream('immutable-1')).toHaveLength(1);
  });

  it('never skips an event whose transaction commits after a later-numbered one', async () => {
    const received: RecordedEvent[] = [];
    const sub = store.subscribeToAll((e) => void received.push(e), { filter: { streamPrefixes: ['ooo-'] } });
    // T1 writes first (lower position) and stays open; T2 writes after it (higher position) and commits.
    const t1 = await heldAppend('ooo-slow', null, 'Slow');
    await store.append('ooo-fast', [ev('Fast')]);
    // A reader checkpointing the position alone would now see Fast, store its position and later skip Slow.
    const naive = await t.sql<{ position: string }[]>`select position::text from es_events where stream_id like 'ooo-%' order by position`;
    expect(naive).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 150));
    expect(received).toHaveLength(0); // Fast is held back behind the running T1, not delivered ahead of it.
    await t1.commit();
    await waitFor(() => received.length === 2, 5000, 'both events');
    expect(received.map((e) => e.type)).toEqual(['Slow', 'Fast']);
    expect(received[0]!.position.prepare).toBeLessThan(received[1]!.position.prepare);
    await sub.stop();
  });

  it("a transaction running in another database does not hold this database's readers back", async () => {
    // The server's snapshot horizon would (a long seeding elsewhere on a shared server held every
    // subscriber here back for minutes); only transactions of this database can write its events.
    const other = await createTestDatabase({ max: 1 });
    const received: RecordedEvent[] = [];
    const sub = store.subscribeToAll((e) => void received.push(e), { filter: { streamPrefixes: ['foreign-'] } });
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const isStarted = new Promise<void>((r) => (started = r));
    const foreign = other.sql.begin(async (tx) => {
      await tx`select pg_current_xact_id()`; // takes an xid, as a writing transaction has
      started();
      await released;
    });
    try {
      await isStarted;
      const [row] = await t.sql<{ held: boolean }[]>`select pg_snapshot_xmin(pg_current_snapshot()) < pg_current_xact_id() as held`;
      expect(row!.held).toBe(true);
      await store.append('foreign-1', [ev('A')]);
      await waitFor(() => received.length === 1, 5000, 'the event, while the other database\'s transaction runs');
      expect((await store.readAll({ filter: { streamPrefixes: ['foreign-'] } })).map((e) => e.type)).toEqual(['A']);
    } finally {
      release();
      await foreign;
      await sub.stop();
      await other.close();
    }
  });

  it('keeps per-stream revision order when an append waits for the previous one of its stream', async () => {
    const received: RecordedEvent[] = [];
    const sub = store.subscribeToAll((e) => void received.push(e), { filter: { streamPrefixes: ['order-'] } });
    // T1 creates the stream (revision 0) and stays open; a concurrent append to it must wait and end
    // up with revision 1 in a later transaction (its stream-row write fails once T1 commits, it re-reads).
    const t1 = await heldAppend('order-s', null, 'First');
    const second = store.append('order-s', [ev('Second')]);
    // Commit only once the second append is seen blocked on T1's lock, and for a while (a statement that
    // gave up at once and polled would not count), instead of after a guessed delay.
    await waitFor(
      async () => {
        const [row] = await t.sql<{ waiting: number }[]>`
          select count(*)::int as waiting from pg_stat_activity
          where datname = current_database() and application_name = 'eventstore-test' and wait_event_type = 'Lock'
            and clock_timestamp() - query_start > interval '50 milliseconds'`;
        return row!.waiting === 1;
      },
      5000,
      'the second append waiting on the lock',
    );
    await t1.commit();
    const r2 = await second;
    expect(r2.nextExpectedRevision).toBe(1);
    await waitFor(() => received.length === 2, 5000, 'both events');
    expect(received.map((e) => [e.type, e.revision])).toEqual([
      ['First', 0],
      ['Second', 1],
    ]);
    expect(comparePositions(received[0]!.position, received[1]!.position)).toBeLessThan(0);
    await sub.stop();
    expect((await store.verify({ streamId: 'order-s' })).ok).toBe(true);
  });

  it('under concurrent appends, xid order agrees with revision order in every stream', async () => {
    const stores = [store, pgStore(), pgStore()];
    await Promise.all(
      Array.from({ length: 12 }, async (_, w) => {
        for (let i = 0; i < 10; i++) await stores[w % 3]!.append(`xo-${i % 3}`, [ev('X', { w, i })]);
      }),
    );
    await Promise.all(stores.slice(1).map((s) => s.close()));
    const [row] = await t.sql<{ inversions: number; total: number }[]>`
      select count(*) filter (where revision <> expected)::int as inversions, count(*)::int as total from (
        select revision, row_number() over (partition by stream_id order by xid, position) - 1 as expected
        from es_events where stream_id like 'xo-%') x`;
    expect(row).toEqual({ inversions: 0, total: 120 });
  });

  it('appends made while another is running go together in one transaction, each with its own outcome', async () => {
    const single = new PostgresEventStore({ databaseUrl: t.url, hmacKey: HMAC_KEY, maxConnections: 4, maxBatchesInFlight: 1 });
    try {
      await single.append('gc-exact', [ev('A')]);
      const taken = (await single.append('gc-taken', [ev('T')])).position;
      const [takenEvent] = await single.readStream('gc-taken');
      // The first goes at once (nothing runs); the others arrive while it runs and form one batch.
      const first = single.append('gc-first', [ev('First')]);
      const rest = Promise.allSettled([
        single.append('gc-a', [ev('A1'), ev('A2')], { expectedRevision: 'no_stream' }),
        single.append('gc-exact', [ev('Stale')], { expectedRevision: 5 }),
        single.append('gc-b', [ev('B1')]),
        single.append('gc-dup', [ev('D', {}, takenEvent!.eventId)]),
        single.append('gc-a', [ev('A3')], { expectedRevision: 1 }),
        single.append('gc-bad', [ev('Bad', { text: 'nul \u0000 inside' })]),
        single.append('gc-exact', [ev('E1')], { expectedRevision: 0 }),
      ]);
      const firstResult = await first;
      const outcomes = await rest;
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
      const reasons = outcomes.map((o) => (o.status === 'rejected' ? (o.reason as Error).name : null));
      expect(reasons).toEqual([null, 'WrongExpectedVersion', null, 'DuplicateEventId', null, 'InvalidEvent', null]);
      const written = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      expect(written.map((r) => r.nextExpectedRevision)).toEqual([1, 0, 2, 1]);
      // The written ones after the refusals were retried alone (the bad one made the batch fail), so
      // only ordering is certain across them; each stream holds its appends in order, chained.
      for (const r of written) expect(comparePositions(r.position, firstResult.position)).toBeGreaterThan(0);
      expect(comparePositions(taken, firstResult.position)).toBeLessThan(0);
      expect((await single.readStream('gc-a')).map((e) => e.type)).toEqual(['A1', 'A2', 'A3']);
      expect((await single.readStream('gc-exact')).map((e) => e.type)).toEqual(['A', 'E1']);
      for (const id of ['gc-a', 'gc-b', 'gc-exact']) expect((await single.verify({ streamId: id })).ok).toBe(true);
      await expect(single.readStream('gc-dup')).rejects.toThrow(/not found/);
      await expect(single.readStream('gc-bad')).rejects.toThrow(/not found/);

      // Without a failing member the batch is one transaction: every append's events share its xid
      // (streams whose heads this process knows; another stream is locked and read first, in a
      // transaction of its own running beside it).
      await single.append('gc-c', [ev('C0')]);
      const hold = single.append('gc-hold', [ev('H')]);
      const together = await Promise.all([
        single.append('gc-c', [ev('C1')]),
        single.append('gc-d', [ev('D1')], { expectedRevision: 'no_stream' }),
        single.append('gc-c', [ev('C2')], { expectedRevision: 1 }),
        single.append('gc-exact', [ev('E2')], { expectedRevision: 1 }),
      ]);
      await hold;
      expect(new Set(together.map((r) => r.position.commit)).size).toBe(1);
      expect(together.map((r) => r.nextExpectedRevision)).toEqual([1, 0, 2, 2]);
      const prepares = together.map((r) => r.position.prepare);
      expect([...prepares].sort((a, b) => (a < b ? -1 : 1))).toEqual(prepares);
    } finally {
      await single.close();
    }
  });

  it('gives every written event its position, also to appends of one stream sharing a batch and to a repeat', async () => {
    const single = new PostgresEventStore({ databaseUrl: t.url, hmacKey: HMAC_KEY, maxConnections: 4, maxBatchesInFlight: 1 });
    try {
      const hold = single.append('pos-hold', [ev('H')]);
      // Both arrive while the first runs: one batch, one stream, two appends.
      const events = [ev('A0', {}, newEventId()), ev('A1', {}, newEventId()), ev('A2', {}, newEventId())];
      const [a, b] = await Promise.all([single.append('pos-a', events, { expectedRevision: 'no_stream' }), single.append('pos-a', [ev('B0'), ev('B1')], { expectedRevision: 2 })]);
      await hold;
      expect(a.position.commit).toBe(b.position.commit);
      const stored = (await single.readStream('pos-a')).map((e) => e.position);
      expect(a.positions).toEqual(stored.slice(0, 3));
      expect(b.positions).toEqual(stored.slice(3));
      expect(a.position).toEqual(stored[2]);
      expect(b.position).toEqual(stored[4]);
      const again = await single.append('pos-a', events, { expectedRevision: 'no_stream' });
      expect(again).toEqual(a);
    } finally {
      await single.close();
    }
  });

  it("'any' and 'stream_exists' appends never fail from contention: 64 writers on 8 streams in 4 processes, commits delayed up to 150 ms", async () => {
    // Every transaction writing a 'slow-' stream waits up to 150 ms at its commit (a deferred trigger,
    // once per transaction), holding its locks, as a loaded database would.
    await t.sql`
      create or replace function slow_commit() returns trigger language plpgsql as $$
      begin
        if new.stream_id like 'slow-%' and current_setting('yeyak.slowed', true) is distinct from 'yes' then
          perform set_config('yeyak.slowed', 'yes', true);
          perform pg_sleep(random() * 0.15);
        end if;
        return null;
      end $$`;
    await t.sql`create constraint trigger slow_commit after insert on es_events deferrable initially deferred for each row execute function slow_commit()`;
    const stores = [store, pgStore(), pgStore(), pgStore()];
    try {
      for (let i = 0; i < 8; i++) await store.append(`slow-${i}`, [ev('Start')]);
      const perWriter = 10;
      const failures: unknown[] = [];
      await Promise.all(
        Array.from({ length: 64 }, async (_, w) => {
          for (let i = 0; i < perWriter; i++) {
            const expectedRevision = i % 2 === 0 ? 'any' : 'stream_exists';
            await stores[w % 4]!.append(`slow-${(w + i) % 8}`, [ev('W', { w, i })], { expectedRevision }).catch((e: unknown) => failures.push(e));
          }
        }),
      );
      expect(failures).toEqual([]);
      const [row] = await t.sql<{ inversions: number; total: number }[]>`
        select count(*) filter (where revision <> expected)::int as inversions, count(*)::int as total from (
          select revision, row_number() over (partition by stream_id order by xid, position) - 1 as expected
          from es_events where stream_id like 'slow-%') x`;
      expect(row).toEqual({ inversions: 0, total: 8 + 64 * perWriter });
      for (let i = 0; i < 8; i++) expect((await store.verify({ streamId: `slow-${i}` })).ok).toBe(true);
    } finally {
      await t.sql`drop trigger if exists slow_commit on es_events`;
      await Promise.all(stores.slice(1).map((s) => s.close()));
    }
  }, 120_000);

  it('refuses an event id stored in another stream with DuplicateEventId', async () => {
    const [first] = await store.readStream('immutable-1');
    await expect(store.append('dup-elsewhere', [ev('A', {}, first!.eventId)])).rejects.toBeInstanceOf(DuplicateEventId);
  });

  it('detects a removed event and a tampered stream head', async () => {
    await store.append('gap-1', [ev('A'), ev('B'), ev('C')]);
    await t.sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`delete from es_events where stream_id = 'gap-1' and revision = 1`;
    });
    expect((await store.verify({ streamId: 'gap-1' })).firstBroken).toMatchObject({ problem: 'revision-gap', revision: 2, expected: 'revision 1' });

    await store.append('head-1', [ev('A'), ev('B')]);
    await t.sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`delete from es_events where stream_id = 'head-1' and revision = 1`;
    });
    expect((await store.verify({ streamId: 'head-1' })).firstBroken).toMatchObject({ problem: 'head-mismatch' });
  });

  it('marks replayed parked events and removes them from the parked table once acked', async () => {
    await store.groups.create('replay', { filter: { streamPrefixes: ['replay-'] }, maxRetryCount: 0 });
    await store.append('replay-1', [ev('A')]);
    const got: string[] = [];
    const consumer = store.groups.connect('replay', async (m) => {
      got.push(`${m.retryCount}:${m.replayed}`);
      await (m.replayed ? m.ack() : m.nack('retry', 'boom'));
    });
    await waitFor(async () => (await store.groups.info('replay')).parkedCount === 1, 5000, 'parked');
    const [parked] = await store.groups.listParked('replay');
    expect(parked).toMatchObject({ reason: expect.stringContaining('boom'), retryCount: 0, replayRequested: false });
    expect(await store.groups.replayParked('replay')).toBe(1);
    await waitFor(async () => (await store.groups.info('replay')).parkedCount === 0, 5000, 'replayed and acked');
    expect(got).toEqual(['0:false', '0:true']);
    await consumer.stop();
  });

  it('a park write that fails is not lost: the event is delivered again and parked, and the checkpoint waits for it', async () => {
    // The first insert into es_parked for this group raises (a sequence: not undone by the rollback).
    await t.sql`create sequence if not exists park_fail_once_seq`;
    await t.sql`
      create or replace function park_fail_once() returns trigger language plpgsql as $$
      begin
        if new.group_name = 'park-fail' and nextval('park_fail_once_seq') = 1 then
          raise exception 'simulated failure of the park write';
        end if;
        return new;
      end $$`;
    await t.sql`create trigger park_fail_once before insert on es_parked for each row execute function park_fail_once()`;
    try {
      await store.groups.create('park-fail', { filter: { streamPrefixes: ['parkfail-'] }, maxRetryCount: 0, checkpointAfterMs: 0 });
      await store.append('parkfail-1', [ev('Bad'), ev('Good')]);
      const got: string[] = [];
      const nackErrors: string[] = [];
      const consumer = store.groups.connect('park-fail', async (m) => {
        got.push(m.event.type);
        if (m.event.type === 'Good') return m.ack();
        await m.nack('park', 'cannot handle').catch((e: Error) => nackErrors.push(e.message));
      });
      await waitFor(async () => (await store.groups.info('park-fail')).parkedCount === 1, 5000, 'the event parked after the failed write');
      const [parked] = await store.groups.listParked('park-fail');
      expect(parked).toMatchObject({ reason: 'cannot handle', event: { type: 'Bad' } });
      expect(nackErrors).toEqual([expect.stringContaining('simulated failure of the park write')]);
      expect(got.filter((type) => type === 'Bad')).toEqual(['Bad', 'Bad']);
      // Both settled: the checkpoint reaches the last event (it would also have reached it, without parking, before the fix).
      const last = (await store.readStream('parkfail-1')).at(-1)!;
      await waitFor(async () => (await store.groups.info('park-fail')).checkpoint?.prepare === last.position.prepare, 5000, 'checkpoint');
      await consumer.stop();
    } finally {
      await t.sql`drop trigger if exists park_fail_once on es_parked`;
      await t.sql`drop function if exists park_fail_once()`;
    }
  });

  it('a consumer that lost its lease cannot move the checkpoint', async () => {
    await store.groups.create('fenced', { filter: { streamPrefixes: ['fence-'] }, checkpointAfterMs: 0 });
    await store.append('fence-1', [ev('A')]);
    const got: string[] = [];
    const consumer = store.groups.connect('fenced', async (m) => {
      got.push(m.event.type);
      // Someone else takes the lease while we hold the message.
      await t.sql`update es_groups set lease_owner = 'intruder', lease_epoch = lease_epoch + 1 where name = 'fenced'`;
      await m.ack();
    });
    await waitFor(() => got.length === 1, 5000, 'delivery');
    await new Promise((r) => setTimeout(r, 300));
    const [row] = await t.sql<{ checkpoint_position: string }[]>`select checkpoint_position::text from es_groups where name = 'fenced'`;
    expect(row!.checkpoint_position).toBe('0');
    expect(consumer.active).toBe(false);
    await consumer.abort();
  });
});

describe('the batch statements on a connection that first planned them on empty tables', () => {
  it('read es_events and es_streams by index probes only once the log has grown', async () => {
    const sql = fresh.sql;
    const event = (s: string, rev: number, id: string = randomUUID()) => ({ s, rev, id, type: 'T', schemaVersion: 1, data: {}, metadata: {} });
    const batch = async (streams: object[], events: object[]) =>
      (await sql<{ kind: string }[]>`select kind from es_append_batch(${JSON.stringify(streams)}::jsonb, ${JSON.stringify(events)}::jsonb)`).map((r) => r.kind);
    // PL/pgSQL keeps each statement's plan for the connection's life (after five runs a generic one,
    // until an ANALYZE): these plans are made while the tables are empty, as in a new database.
    for (let i = 0; i < 10; i++) {
      expect(await batch([{ s: `p-${i}`, h: -1, r: 0, l: 'x' }], [event(`p-${i}`, 0)])).toEqual(['ok']);
      expect(await batch([{ s: `p-${i}`, h: 0, r: 1, l: 'x' }], [event(`p-${i}`, 1)])).toEqual(['ok']);
      expect(await batch([{ s: `p-${i}`, h: 0, r: 1, l: 'x' }], [event(`p-${i}`, 1)])).toEqual(['moved']);
      await sql`select * from es_lock_heads(${[`p-${i}`, 'none']}::text[])`;
    }
    // The log grows, with no ANALYZE in between (a new database's first minute; a benchmark's run).
    await sql`do $$ begin for i in 1..300 loop
      perform es_append('grown-' || i, -1, 'x', (select jsonb_agg(jsonb_build_object('id', gen_random_uuid(), 'type', 'T', 'schemaVersion', 1, 'data', '{}'::jsonb, 'metadata', '{}'::jsonb)) from generate_series(1, 10)));
    end loop; end $$`;
    const [stored] = await sql<{ id: string }[]>`select event_id::text as id from es_events where stream_id = 'grown-7'`;
    const seqScans = await sql.begin(async (tx) => {
      // This transaction's own counts (pg_stat_xact_*), before and after.
      const count = async () =>
        (await tx<{ n: number }[]>`select coalesce(sum(seq_scan), 0)::int as n from pg_stat_xact_user_tables where relname in ('es_events', 'es_streams')`)[0]!.n;
      const before = await count();
      const kinds = async (streams: object[], events: object[]) =>
        (await tx<{ kind: string }[]>`select kind from es_append_batch(${JSON.stringify(streams)}::jsonb, ${JSON.stringify(events)}::jsonb)`).map((r) => r.kind).sort();
      expect(await kinds([{ s: 'g-new', h: -1, r: 0, l: 'x' }, { s: 'grown-8', h: 9, r: 10, l: 'x' }], [event('g-new', 0), event('grown-8', 10)])).toEqual(['ok', 'ok']);
      expect(await kinds([{ s: 'grown-9', h: 3, r: 4, l: 'x' }], [event('grown-9', 4)])).toEqual(['moved']);
      expect(await kinds([{ s: 'g-dup', h: -1, r: 0, l: 'x' }], [event('g-dup', 0, stored!.id)])).toEqual(['duplicate']);
      expect(await tx`select * from es_lock_heads(${['grown-1', 'grown-2', 'none']}::text[])`).toHaveLength(2);
      return (await count()) - before;
    });
    expect(seqScans).toBe(0);
  });
});
