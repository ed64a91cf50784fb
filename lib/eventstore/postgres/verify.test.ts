/**
 * verify()'s whole-log walk across page and range boundaries: the walk reads pages of
 * `verifyPageSize` rows in two position ranges and no xid per row (the broken link's is looked up at
 * the end), so these check every event is counted once whatever the page size, and that an altered
 * event on either side of a page or range boundary is named with its full position.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../testing/db';
import { ev } from '../testing/contract';
import type { RecordedEvent } from '../types';
import { PostgresEventStore } from './store';

const HMAC_KEY = 'test-key-for-verify-pages';
const t: TestDatabase = await createTestDatabase({ max: 2 });
const STREAMS = 4;
const PER_STREAM = 5;

describe('PostgreSQL verify() pages', () => {
  let store: PostgresEventStore;
  let log: RecordedEvent[] = [];
  beforeAll(async () => {
    store = new PostgresEventStore({ databaseUrl: t.url, hmacKey: HMAC_KEY, maxConnections: 4, applicationName: 'verify-pages-test' });
    // One event at a time, round robin: the streams interleave, so each crosses pages and the range cut.
    for (let r = 0; r < PER_STREAM; r++) {
      for (let s = 0; s < STREAMS; s++) await store.append(`vp-${s}`, [ev(`E${r}`, { n: r, s, text: `ünïcode ${'x'.repeat(r * 7)}` })]);
    }
    log = [];
    for (let s = 0; s < STREAMS; s++) log.push(...(await store.readStream(`vp-${s}`)));
    log.sort((a, b) => (a.position.prepare < b.position.prepare ? -1 : 1));
  });
  afterAll(() => store.close());

  it.each([1, 2, 3, 7, 10, 1000])('checks every event exactly once with pages of %i', async (pageSize) => {
    store.verifyPageSize = pageSize;
    const progress: number[] = [];
    const result = await store.verify({ onProgress: (p) => progress.push(p.eventsChecked) });
    expect(result).toEqual({ ok: true, streamsChecked: STREAMS, eventsChecked: STREAMS * PER_STREAM, firstBroken: null });
    expect(Math.max(...progress)).toBe(STREAMS * PER_STREAM);
  });

  // 20 events in two ranges of 10; pages of 3: rows 2|3, 5|6 and 8|9 straddle page boundaries, 9|10 the range cut.
  it.each([0, 2, 3, 5, 6, 9, 10, 12, 19])('names the altered event at row %i of the log, with its position (pages of 3)', async (row) => {
    store.verifyPageSize = 3;
    const target = log[row]!;
    const setN = (n: number) =>
      t.sql.begin(async (tx) => {
        await tx`set local session_replication_role = replica`;
        await tx`update es_events set data = data || ${JSON.stringify({ n })}::jsonb where position = ${target.position.prepare.toString()}::bigint`;
      });
    await setN(99);
    try {
      const result = await store.verify();
      expect(result.ok).toBe(false);
      expect(result.firstBroken).toMatchObject({ streamId: target.streamId, revision: target.revision, eventId: target.eventId, problem: 'hash-mismatch' });
      // The position is the event's as the store reports it elsewhere: the xid looked up for the link.
      expect(result.firstBroken!.position).toEqual(target.position);
      expect(result.firstBroken!.expected).not.toEqual(result.firstBroken!.found);
    } finally {
      await setN(target.data.n as number);
    }
    expect((await store.verify()).ok).toBe(true);
  });

  it('names the gap, with its position, when the first event of a stream in the later range was removed', async () => {
    store.verifyPageSize = 3;
    // Row 10 opens the second range (rows 0–9 and 10–19); its stream goes on at row 14, checked by the stitching.
    const removed = log[10]!;
    const after = log.find((e) => e.streamId === removed.streamId && e.revision === removed.revision + 1)!;
    await t.sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`delete from es_events where position = ${removed.position.prepare.toString()}::bigint`;
    });
    const result = await store.verify();
    expect(result.firstBroken).toMatchObject({ streamId: removed.streamId, revision: after.revision, eventId: after.eventId, problem: 'revision-gap', expected: `revision ${removed.revision}` });
    expect(result.firstBroken!.position).toEqual(after.position);
  });
});
