/**
 * The verifier against a database superuser (issue 10 items 3 and 4). Each case tampers with a log
 * the way a superuser can — triggers bypassed (session_replication_role = replica), head rows
 * rewritten to match — and checks what the chains alone see and what a seal taken before sees.
 * docs/eventstore.md "What is detected" is this table.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEventStore, type EventStore, type NewEvent } from '../eventstore';
import { createTestDatabase, storedEvents, type TestDatabase } from '../testing/db';
import { eventually } from '../testing/eventually';
import { recordPersonalDataAccess } from '../privacy/access-log';
import { accessChainKeysFromEnv, verifyAccessLog } from './access-chain';
import { runIntegrityCheck, type CheckReport } from './check';
import { checkSealFile, sealPrivateKey, type SealFile } from './seal';
import { issueSeal, type SealKeys } from './sealing';

const hmacKey = randomBytes(32).toString('base64');
const signing = sealPrivateKey(randomBytes(32).toString('base64'));
const keys: SealKeys = { signing, trusted: [signing] };

let t: TestDatabase;
let store: EventStore;

const event = (n: number): NewEvent => ({
  type: 'TestHappened',
  schemaVersion: 1,
  data: { n },
  metadata: { actor: { id: 'tester', role: 'system' }, occurredAt: new Date(0).toISOString(), clinicId: 'clinic-a' },
});

beforeEach(async () => {
  t = await createTestDatabase();
  store = await createEventStore({ databaseUrl: t.url, hmacKey });
  // Three streams of three events, appended one event at a time (each its own transaction).
  for (let n = 0; n < 3; n++) for (const s of ['a', 'b', 'c']) await store.append(`test-${s}`, [event(n)]);
  for (let i = 0; i < 4; i++) {
    await recordPersonalDataAccess({ user: { id: randomUUID(), role: 'staff', clinicId: 'clinic-a' }, action: 'view', resource: `r-${i}`, patientIds: [`p-${i}`], origin: { ip: '203.0.113.1', userAgent: 'vitest' } }, t.db);
  }
});
afterEach(async () => {
  await store.close();
});

const deps = () => ({ store, sql: t.sql, accessKeys: accessChainKeysFromEnv(), sealKeys: keys });
const checkAll = (sealFile?: SealFile): Promise<CheckReport> => runIntegrityCheck(deps(), { kind: 'all' }, { sealFile });
/** As a superuser: with triggers off for this session (what `ALTER TABLE … DISABLE TRIGGER` does for everyone). */
const asSuperuser = (statements: string) => t.sql.unsafe(`set session_replication_role = replica; ${statements}; set session_replication_role = origin;`);
async function readable(): Promise<void> {
  const { count } = await storedEvents(t.sql);
  await eventually(async () => expect((await store.readAll({ maxCount: 1000 })).length).toBe(count));
}
/**
 * Seals once every stored event is readable: readAll (and so a seal) reads only up to the oldest
 * transaction still running anywhere on the shared test server.
 */
async function seal(): Promise<SealFile> {
  await readable();
  return (await issueSeal({ store, sql: t.sql, keys, segmentSize: 4 }, 'test')).file;
}

describe('an untouched log', () => {
  it('passes its chains and every seal; events appended since a seal are counted as added since', async () => {
    const file = await seal();
    expect(checkSealFile(file, keys.trusted)).toEqual({ ok: true, keyId: file.seal.keyId });
    expect(file.seal.events.count).toBe(9);
    expect(file.seal.accessLog.count).toBe(4);
    await store.append('test-d', [event(0), event(1)]);
    await readable();
    const report = await checkAll(file);
    expect(report.ok).toBe(true);
    expect(report.events).toMatchObject({ ok: true, eventsChecked: 11, streamsChecked: 4 });
    expect(report.accessLog).toMatchObject({ ok: true, rowsChecked: 4, unchainedRows: 0 });
    expect(report.seal?.events).toMatchObject({ ok: true, sealedCount: 9, foundCount: 9, addedSince: 2 });
    // A later seal extends this one: the same segments, then the new events.
    const next = await seal();
    expect(next.seal.events.count).toBe(11);
    expect(next.seal.events.segments.slice(0, 2)).toEqual(file.seal.events.segments.slice(0, 2));
    expect((await checkAll(next)).ok).toBe(true);
  });

  it('refuses a seal whose signature does not hold or whose key is not trusted', async () => {
    const file = await seal();
    const forged = { ...file, seal: { ...file.seal, events: { ...file.seal.events, count: 8 } } };
    expect((await checkAll(forged)).seal?.check).toMatchObject({ ok: false, problem: 'bad-signature' });
    const stranger = sealPrivateKey(randomBytes(32).toString('base64'));
    const other = await issueSeal({ store, sql: t.sql, keys: { signing: stranger, trusted: [stranger] } }, 'test');
    const report = await checkAll(other.file);
    expect(report.ok).toBe(false);
    expect(report.seal?.check).toMatchObject({ ok: false, problem: 'unknown-key' });
  });

  it('chains concurrent access-log inserts one after another', async () => {
    const user = { id: randomUUID(), role: 'auditor' as const, clinicId: null };
    await Promise.all(Array.from({ length: 20 }, (_, i) => recordPersonalDataAccess({ user, action: 'view', resource: `c-${i}`, origin: { ip: null, userAgent: null } }, t.db)));
    expect(await verifyAccessLog(t.sql, accessChainKeysFromEnv())).toMatchObject({ ok: true, rowsChecked: 24 });
  });
});

describe('tampering as a superuser', () => {
  it('an altered event: named by the chains, with or without a seal', async () => {
    const file = await seal();
    const [target] = await t.sql<{ event_id: string }[]>`select event_id::text from es_events where stream_id = 'test-b' and revision = 1`;
    await asSuperuser(`update es_events set data = '{"n": 99}' where stream_id = 'test-b' and revision = 1`);
    for (const report of [await checkAll(), await checkAll(file)]) {
      expect(report.ok).toBe(false);
      expect(report.events.firstBroken).toMatchObject({ streamId: 'test-b', revision: 1, eventId: target!.event_id, problem: 'hash-mismatch' });
    }
  });

  it('a deleted middle event: named by the chains (the next event of its stream), also across the ranges the log is walked in', async () => {
    for (const stream of ['test-a', 'test-b']) {
      const [next] = await t.sql<{ event_id: string }[]>`select event_id::text from es_events where stream_id = ${stream} and revision = 2`;
      await asSuperuser(`delete from es_events where stream_id = '${stream}' and revision = 1`);
      expect((await checkAll()).events.firstBroken).toMatchObject({ streamId: 'test-a', revision: 2, problem: 'revision-gap', expected: 'revision 1', found: 'revision 2' });
      expect((await runIntegrityCheck(deps(), { kind: 'stream', streamId: stream })).events.firstBroken).toMatchObject({ eventId: next!.event_id, problem: 'revision-gap' });
    }
  });

  it('a deleted tail with its head row rewritten: not seen by the chains, seen by a seal', async () => {
    const file = await seal();
    await asSuperuser(`
      delete from es_events where stream_id = 'test-c' and revision = 2;
      update es_streams set revision = 1, last_hash = (select metadata->'integrity'->>'hash' from es_events where stream_id = 'test-c' and revision = 1) where stream_id = 'test-c'`);
    const without = await checkAll();
    expect(without.ok).toBe(true);
    const report = await checkAll(file);
    expect(report.ok).toBe(false);
    expect(report.seal?.events?.problems).toEqual([expect.objectContaining({ log: 'events', kind: 'missing', sealedCount: 1, foundCount: 0 })]);
  });

  it('a whole stream deleted with its head row: not seen by the chains, seen by a seal', async () => {
    const file = await seal();
    await asSuperuser(`delete from es_events where stream_id = 'test-a'; delete from es_streams where stream_id = 'test-a'`);
    expect((await checkAll()).ok).toBe(true);
    const report = await checkAll(file);
    expect(report.ok).toBe(false);
    const missing = report.seal!.events!.problems.filter((p) => p.kind === 'missing');
    expect(missing.reduce((n, p) => n + p.sealedCount - p.foundCount, 0)).toBe(3);
  });

  it('two events of different streams swapped in log order: not seen by the chains, seen by a seal as reordered', async () => {
    const file = await seal();
    // The first two events (test-a#0, test-b#0), each its own transaction: swap their transaction ids.
    await asSuperuser(`
      with p as (select array_agg(xid order by position) as x from (select xid, position from es_events order by position limit 2) s)
      update es_events e set xid = case when e.position = (select min(position) from es_events) then p.x[2] else p.x[1] end
      from p where e.position in (select position from es_events order by position limit 2)`);
    expect((await checkAll()).ok).toBe(true);
    const report = await checkAll(file);
    expect(report.seal?.events?.problems).toEqual([expect.objectContaining({ kind: 'reordered', sealedCount: 4, foundCount: 4 })]);
  });

  it('an altered access-log row: named by its chain, with or without a seal', async () => {
    const file = await seal();
    const [row] = await t.sql<{ id: string }[]>`select id::text from access_log order by id offset 1 limit 1`;
    await asSuperuser(`update access_log set resource = 'nothing to see' where id = ${Number(row!.id)}`);
    const without = await checkAll();
    expect(without.accessLog?.firstBroken).toMatchObject({ id: Number(row!.id), problem: 'hash-mismatch' });
    // The seal fixes each row's hash, the chain fixes the row to its hash: the seal's own comparison passes.
    const report = await checkAll(file);
    expect(report.ok).toBe(false);
    expect(report.accessLog?.firstBroken).toMatchObject({ id: Number(row!.id), problem: 'hash-mismatch' });
    expect(report.seal?.accessLog?.ok).toBe(true);
  });

  it('a deleted access-log row: named by its chain; a deleted tail with the head rewritten: only by a seal', async () => {
    const file = await seal();
    const ids = (await t.sql<{ id: string }[]>`select id::text from access_log order by id`).map((r) => Number(r.id));
    await asSuperuser(`delete from access_log where id = ${ids[1]}`);
    expect((await checkAll()).accessLog?.firstBroken).toMatchObject({ id: ids[2], problem: 'previous-hash-mismatch' });
    expect((await checkAll(file)).seal?.accessLog?.problems).toEqual([expect.objectContaining({ kind: 'missing', foundCount: 3 })]);

    // Put it right for the second case: a fresh database, the last row deleted and the head moved back.
    t = await createTestDatabase();
    await store.close();
    store = await createEventStore({ databaseUrl: t.url, hmacKey });
    for (let i = 0; i < 3; i++) await recordPersonalDataAccess({ user: { id: randomUUID(), role: 'admin', clinicId: null }, action: 'view', resource: `x-${i}`, origin: { ip: null, userAgent: null } }, t.db);
    const sealed = await seal();
    const rows = await t.sql<{ id: string; hash: string }[]>`select id::text, hash from access_log order by id`;
    await asSuperuser(`delete from access_log where id = ${Number(rows[2]!.id)}; update access_log_head set last_id = ${Number(rows[1]!.id)}, last_hash = '${rows[1]!.hash}'`);
    expect((await checkAll()).accessLog).toMatchObject({ ok: true, rowsChecked: 2 });
    const report = await checkAll(sealed);
    expect(report.ok).toBe(false);
    expect(report.seal?.accessLog?.problems).toEqual([expect.objectContaining({ kind: 'missing', sealedCount: 3, foundCount: 2 })]);
  });

  it('a deleted access-log tail without rewriting the head: named by the head row', async () => {
    const rows = await t.sql<{ id: string }[]>`select id::text from access_log order by id`;
    await asSuperuser(`delete from access_log where id = ${Number(rows[3]!.id)}`);
    expect((await checkAll()).accessLog?.firstBroken).toMatchObject({ id: Number(rows[3]!.id), problem: 'head-mismatch' });
  });
});

describe('scopes', () => {
  it('one stream, and one clinic (its streams as the audit log knows them: a deleted one is missing)', async () => {
    expect((await runIntegrityCheck(deps(), { kind: 'stream', streamId: 'test-a' })).events).toMatchObject({ ok: true, eventsChecked: 3, streamsChecked: 1 });
    expect((await runIntegrityCheck(deps(), { kind: 'stream', streamId: 'test-zz' })).events.firstBroken).toMatchObject({ problem: 'missing-stream' });
    await t.sql`insert into rm_audit_subjects (stream_id, clinic_id) values ('test-a', 'clinic-a'), ('test-b', 'clinic-a'), ('test-gone', 'clinic-a'), ('test-c', 'clinic-b')`;
    const report = await runIntegrityCheck(deps(), { kind: 'clinic', clinicId: 'clinic-a' });
    expect(report.events).toMatchObject({ ok: false, eventsChecked: 6, streamsChecked: 2, firstBroken: { streamId: 'test-gone', problem: 'missing-stream' } });
  });

  it('reports progress and stops when aborted', async () => {
    const seen: number[] = [];
    await runIntegrityCheck(deps(), { kind: 'all' }, { onProgress: (p) => seen.push(p.eventsChecked) });
    expect(seen.at(-1)).toBeGreaterThan(0);
    const controller = new AbortController();
    controller.abort(new Error('stopped'));
    await expect(runIntegrityCheck(deps(), { kind: 'all' }, { signal: controller.signal })).rejects.toThrow('stopped');
  });
});
