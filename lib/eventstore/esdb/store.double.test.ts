/**
 * The EventStoreDB backend against the server double (./testing/server-double.ts): the real client
 * code above a scripted gRPC server. Each test names the issue-12 item (number) or difference it pins
 * down, and failed before its fix; what only a real server can confirm is listed in docs/eventstore.md.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { DuplicateEventId, EventStoreClosed, EventStoreUnavailable, StreamNotFound } from '../errors';
import { ev, waitFor } from '../testing/contract';
import { newEventId } from '../envelope';
import type { GroupMessage, RecordedEvent } from '../types';
import { parkedStreamName } from './mapping';
import { EsdbEventStore } from './store';
import { EsdbServerDouble, type DoubleOptions } from './testing/server-double';

const KEY = 'unit-test-key-for-the-esdb-double';
let connection = 0;
const open: EsdbEventStore[] = [];

function setup(options: DoubleOptions = {}) {
  const server = new EsdbServerDouble(options);
  const errors: unknown[] = [];
  // A connection string of its own per test: stores with the same one share their client.
  const connectionString = `esdb://double-${++connection}:2113?tls=false`;
  const make = () => {
    const store = new EsdbEventStore({ connectionString, hmacKey: KEY, createClient: (name) => server.client(name), onError: (e) => errors.push(e), standbyRetryMs: 20 });
    open.push(store);
    return store;
  };
  return { server, store: make(), errors, make };
}

afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((s) => s.close()));
});

async function settleWithin<T>(p: Promise<T>, ms: number): Promise<T | 'still pending'> {
  return Promise.race([p, sleep(ms).then(() => 'still pending' as const)]);
}

describe('groups: park, checkpoint, list, stop', () => {
  /** A connected consumer on group `g` whose messages the test sends. */
  async function consumerOn(maxRetryCount: number, handler: (m: GroupMessage) => unknown) {
    const { server, store, errors } = setup();
    await store.groups.create('g', { filter: { streamPrefixes: ['s-'] }, maxRetryCount });
    await store.append('s-1', [ev('A'), ev('B'), ev('C')]);
    const consumer = store.groups.connect('g', handler as never);
    await waitFor(() => server.persistentCalls.length === 1, 2000, 'the consumer connected');
    const call = server.persistentCalls[0]!;
    await waitFor(() => consumer.active, 2000, 'confirmed');
    return { server, store, errors, consumer, call, records: server.streams.get('s-1')! };
  }

  it('item 1: the last allowed retry becomes a park with the handler reason (a nack or a throw)', async () => {
    const { call, records } = await consumerOn(2, async (m) => {
      if (m.event.type === 'A') return m.nack('retry', 'always fails');
      if (m.event.type === 'B') throw new Error('handler broke');
      return m.nack('retry', 'early');
    });
    call.send(records[0]!, 2); // A on its second retry: maxRetryCount 2 is used up
    call.send(records[1]!, 2);
    call.send(records[2]!, 1); // C still has a retry left
    await waitFor(() => call.nacks().length === 3, 2000, 'three nacks');
    expect(call.nacks()).toEqual([
      { action: 'park', reason: 'always fails', ids: [records[0]!.id] },
      { action: 'park', reason: 'handler broke', ids: [records[1]!.id] },
      { action: 'retry', reason: 'early', ids: [records[2]!.id] },
    ]);
  });

  it("item 1: listParked reads the reason the server keeps in the parked link's metadata", async () => {
    const { server, store } = setup();
    await store.groups.create('g');
    await store.append('s-1', [ev('A')]);
    const target = server.streams.get('s-1')![0]!;
    server.write(parkedStreamName('g'), [
      {
        id: newEventId(),
        type: '$>',
        contentType: 'application/octet-stream',
        data: Buffer.from(`0@s-1`),
        metadata: { Added: '2026-01-01T00:00:00Z', Reason: 'always fails', SubscriptionEventNumber: 0 },
      },
    ]);
    const parked = await store.groups.listParked('g');
    expect(parked).toHaveLength(1);
    expect(parked[0]).toMatchObject({ reason: 'always fails', event: { eventId: target.id } });
  });

  it("item 3: the checkpoint's lower bound is 1 event, so checkpointAfterMs alone decides", async () => {
    const { server, store } = setup();
    await store.groups.create('g', { checkpointAfterMs: 250 });
    const create = server.requests.find((r) => r.method === 'create')!.request as import('@eventstore/db-client/generated/persistent_pb').CreateReq;
    const settings = create.getOptions()!.getSettings()!;
    expect(settings.getCheckpointAfterMs()).toBe(250);
    expect(settings.getMinCheckpointCount()).toBe(1);
    await store.groups.update('g', { checkpointAfterMs: 500 });
    const update = server.requests.find((r) => r.method === 'update')!.request as import('@eventstore/db-client/generated/persistent_pb').UpdateReq;
    expect(update.getOptions()!.getSettings()!.getMinCheckpointCount()).toBe(1);
  });

  it('item 5: groups.list() on a server without any group is an empty list', async () => {
    const { store } = setup();
    expect(await store.groups.list()).toEqual([]);
  });

  it('item 7: stop() while the consumer is still being set up resolves', async () => {
    const { server, store } = setup({ latencyMs: 30 });
    await store.groups.create('g');
    const consumer = store.groups.connect('g', (m) => m.ack());
    await sleep(5); // still reading the group's configuration
    expect(await settleWithin(consumer.stop(), 2000)).toBeUndefined();
    await sleep(100);
    expect(server.persistentCalls.every((c) => c.call.finished)).toBe(true);
  });
});

describe('groups: smaller differences from the port', () => {
  it('startFrom: a group started from a position does not deliver the event at that position (exclusive)', async () => {
    const { server, store } = setup();
    await store.append('s-1', [ev('A'), ev('B'), ev('C')]);
    const stored = await store.readStream('s-1');
    await store.groups.create('g', { startFrom: stored[1]!.position });
    const seen: string[] = [];
    const consumer = store.groups.connect('g', async (m) => {
      seen.push(m.event.type);
      await m.ack();
    });
    await waitFor(() => consumer.active, 2000, 'active');
    const call = server.persistentCalls[0]!;
    const records = server.streams.get('s-1')!;
    call.send(records[1]!); // the server starts at its startFrom, inclusive
    call.send(records[2]!);
    await waitFor(() => call.acks().length === 2, 2000, 'both acked');
    expect(seen).toEqual(['C']);
    expect(call.acks()).toEqual([records[1]!.id, records[2]!.id]);
  });

  it("connection name: the consumer id is the connection's name, so the server reports it as the active consumer", async () => {
    const { server, store } = setup();
    await store.groups.create('g');
    const consumer = store.groups.connect('g', (m) => m.ack(), { consumerId: 'worker-7' });
    await waitFor(() => consumer.active, 2000, 'active');
    expect(server.persistentCalls[0]!.call.connectionName).toBe('worker-7');
  });

  it('replayed: an event redelivered from the parked stream is marked replayed', async () => {
    const { server, store } = setup();
    await store.groups.create('g');
    await store.append('s-1', [ev('A'), ev('B')]);
    const [a, b] = server.streams.get('s-1')!;
    const [link] = server.write(parkedStreamName('g'), [{ id: newEventId(), type: '$>', contentType: 'application/octet-stream', data: Buffer.from('0@s-1'), metadata: { Reason: 'x' } }]);
    const seen: string[] = [];
    const consumer = store.groups.connect('g', async (m) => {
      seen.push(`${m.event.type}:${m.replayed}`);
      await m.ack();
    });
    await waitFor(() => consumer.active, 2000, 'active');
    const call = server.persistentCalls[0]!;
    call.send(b!);
    call.send(a!, 0, link);
    await waitFor(() => seen.length === 2, 2000, 'both delivered');
    expect(seen).toEqual(['B:false', 'A:true']);
    expect(call.acks()).toEqual([b!.id, link!.id]); // a replayed message is acked by its link's id
  });
});

describe('groups: configuration and a closed store', () => {
  it('group configuration: a group whose configuration cannot be written is not left behind; delete removes the configuration', async () => {
    const { server, store } = setup();
    server.refuseAppendsTo.add('$$yeyak-eventstore-group-g');
    await expect(store.groups.create('g', { filter: { streamPrefixes: ['s-'] } })).rejects.toBeInstanceOf(EventStoreUnavailable);
    expect(server.groups.has('g')).toBe(false);
    server.refuseAppendsTo.clear();
    await store.groups.create('g', { filter: { streamPrefixes: ['s-'] }, maxInFlight: 3 });
    expect((await store.groups.info('g')).filter).toEqual({ streamPrefixes: ['s-'] });
    await store.groups.delete('g');
    const { metadata } = await store.client.getStreamMetadata<{ yeyakGroup?: unknown }>('yeyak-eventstore-group-g');
    expect(metadata?.yeyakGroup).toBeUndefined();
  });

  it('closed store: groups and connect refuse a closed store', async () => {
    const { store } = setup();
    await store.groups.create('g');
    await store.close();
    for (const call of [() => store.groups.create('h'), () => store.groups.update('g', {}), () => store.groups.delete('g'), () => store.groups.list(), () => store.groups.info('g'), () => store.groups.listParked('g'), () => store.groups.replayParked('g')]) {
      await expect(call()).rejects.toBeInstanceOf(EventStoreClosed);
    }
    expect(() => store.groups.connect('g', (m) => m.ack())).toThrow(EventStoreClosed);
  });
});

describe('catch-up subscriptions', () => {
  it('item 4: onCaughtUp fires after the handler has handled every stored event', async () => {
    const { store } = setup();
    for (let i = 0; i < 5; i++) await store.append('s-1', [ev('E', { i })]);
    const handled: number[] = [];
    let caughtUpAt = -1;
    const sub = store.subscribeToAll(
      async (e) => {
        await sleep(5);
        handled.push(e.data.i as number);
      },
      { onCaughtUp: () => (caughtUpAt = handled.length) },
    );
    await waitFor(() => caughtUpAt >= 0, 2000, 'caught up');
    expect(caughtUpAt).toBe(5);
    await sub.stop();
  });

  it('item 6: a lost connection is reported and the subscription resumes after the last delivered event', async () => {
    const { server, store, errors } = setup();
    await store.append('s-1', [ev('E', { i: 0 }), ev('E', { i: 1 })]);
    const received: RecordedEvent[] = [];
    const sub = store.subscribeToAll((e) => void received.push(e));
    await waitFor(() => received.length === 2, 2000, 'stored events');
    server.dropConnections();
    await waitFor(() => server.subscriptions.length === 2, 5000, 'resubscribed');
    expect(errors.some((e) => e instanceof EventStoreUnavailable)).toBe(true);
    const resumedFrom = server.subscriptions[1]!.from as { commit: bigint; prepare: bigint };
    expect(resumedFrom).toEqual({ commit: received[1]!.position.commit, prepare: received[1]!.position.prepare });
    await store.append('s-1', [ev('E', { i: 2 })]);
    await waitFor(() => received.length === 3, 2000, 'live event after the reconnect');
    expect(received.map((e) => e.data.i)).toEqual([0, 1, 2]);
    // The server cancelling the call (a restart) is a CancelledError: resumed as well.
    server.subscriptions[1]!.call.finish(1, 'Cancelled by the server');
    await waitFor(() => server.subscriptions.length === 3, 5000, 'resubscribed after a server cancel');
    await store.append('s-1', [ev('E', { i: 3 })]);
    await waitFor(() => received.length === 4, 2000, 'live event after the second reconnect');
    expect(received.map((e) => e.data.i)).toEqual([0, 1, 2, 3]);
    await sub.stop();
    // A handler error still ends it, with that error.
    const failing = store.subscribeToAll(() => {
      throw new Error('handler failed');
    });
    await expect(failing.done).rejects.toThrow('handler failed');
  });
});

describe('catch-up subscriptions from the end', () => {
  it("item 6: started from 'end' and cut before its first event, it still delivers what was appended meanwhile", async () => {
    const { server, store } = setup();
    await store.append('s-1', [ev('Old')]);
    const received: string[] = [];
    let caughtUp = 0;
    const sub = store.subscribeToAll((e) => void received.push(e.type), { fromPosition: 'end', onCaughtUp: () => caughtUp++ });
    await waitFor(() => caughtUp === 1, 2000, 'caught up');
    server.dropConnections();
    await sleep(20); // an append still on the dropped connection would fail (UNAVAILABLE), as it should
    await store.append('s-1', [ev('DuringTheOutage')]);
    await waitFor(() => received.length === 1, 5000, 'the event appended during the outage');
    expect(received).toEqual(['DuringTheOutage']);
    await sub.stop();
  });

  it('item 7: a catch-up subscription stopped at once (still pinning the end or subscribing) stops', async () => {
    const { store } = setup({ latencyMs: 30 });
    await store.append('s-1', [ev('A')]);
    for (const fromPosition of ['end', 'start'] as const) {
      const sub = store.subscribeToAll(() => {}, { fromPosition });
      expect(await settleWithin(sub.stop(), 2000)).toBeUndefined();
    }
  });
});

describe('appends', () => {
  it('item 2: an event id stored in another stream is refused with DuplicateEventId, nothing written', async () => {
    const { store } = setup();
    const id = newEventId();
    await store.append('s-1', [ev('A', {}, id)]);
    const error = await store.append('s-2', [ev('B'), ev('A', {}, id)]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DuplicateEventId);
    expect(error).toMatchObject({ streamId: 's-2', eventId: id });
    await expect(store.readStream('s-2')).rejects.toBeInstanceOf(StreamNotFound);
    // A repeat in its own stream is still the idempotent repeat.
    const again = await store.append('s-1', [ev('A', {}, id)]);
    expect(again.nextExpectedRevision).toBe(0);
  });

  it('item 8: a repeat of an `any` append is recognised however many events followed it', async () => {
    const { store } = setup();
    const batch = [ev('A', {}, newEventId()), ev('B', {}, newEventId())];
    const first = await store.append('s-1', batch);
    for (let i = 0; i < 3; i++) await store.append('s-1', Array.from({ length: 50 }, () => ev('N')));
    const again = await store.append('s-1', batch);
    expect(again).toEqual(first);
    expect((await store.readStream('s-1')).length).toBe(152);
    const exists = await store.append('s-1', batch, { expectedRevision: 'stream_exists' }).catch((e: unknown) => e);
    expect(exists).toBeInstanceOf(DuplicateEventId); // the original was at revision 0, not a stream_exists append
    expect((await store.readStream('s-1')).length).toBe(152);
  });

  it("item 9: closing one store does not reject another store's appends in flight", async () => {
    const { server, store: a, make } = setup({ latencyMs: 40 });
    const b = make();
    await a.append('s-a', [ev('A')]);
    await b.append('s-b', [ev('B')]);
    const inFlight = b.append('s-b', [ev('B2')]);
    await waitFor(() => server.sentAppends('s-b') === 2, 2000, "B's append sent, not answered yet");
    await a.close();
    await expect(inFlight).resolves.toMatchObject({ nextExpectedRevision: 1 });
    await expect(a.append('s-a', [ev('A2')])).rejects.toMatchObject({ code: 'EVENT_STORE_CLOSED' });
  });
});

describe('reads', () => {
  it("readAll cost: readAll asks the server for about maxCount events in pages, not for the whole log", async () => {
    const { server, store } = setup();
    // 1000 events, every tenth followed by a system event ($$ metadata) that readAll skips.
    for (let i = 0; i < 1000; i++) {
      server.write(`s-${i % 7}`, [{ id: newEventId(), type: 'E', data: { i }, metadata: {} }]);
      if (i % 10 === 0) server.write(`$$s-${i}`, [{ id: newEventId(), type: '$metadata', data: {} }]);
    }
    const read = () => server.callCounts.get('eventsRead') ?? 0;
    let before = read();
    expect((await store.readAll({ maxCount: 10 })).map((e) => e.data.i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(read() - before).toBeLessThan(40);
    const all = await store.readAll({ maxCount: 5000 });
    expect(all.map((e) => e.data.i)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    before = read();
    const page = await store.readAll({ fromPosition: all[500]!.position, maxCount: 300 });
    expect(page.map((e) => e.data.i)).toEqual(Array.from({ length: 300 }, (_, i) => 500 + i));
    expect(read() - before).toBeLessThan(400);
    const back = await store.readAll({ direction: 'backwards', maxCount: 250 });
    expect(back.map((e) => e.data.i)).toEqual(Array.from({ length: 250 }, (_, i) => 999 - i));
    const backFrom = await store.readAll({ direction: 'backwards', fromPosition: all[600]!.position, maxCount: 120 });
    expect(backFrom.map((e) => e.data.i)).toEqual(Array.from({ length: 120 }, (_, i) => 600 - i));
    const filtered = await store.readAll({ filter: { streamPrefixes: ['s-3'] }, maxCount: 20 });
    expect(filtered.map((e) => e.data.i)).toEqual(Array.from({ length: 20 }, (_, i) => 3 + 7 * i));
  });

  it('found with the double: a read left early (maxCount reached) does not keep close() from finishing', async () => {
    const { store } = setup();
    await store.append('s-1', [ev('A'), ev('B'), ev('C')]);
    expect((await store.readAll({ maxCount: 1 })).map((e) => e.type)).toEqual(['A']);
    expect((await store.verify()).ok).toBe(true);
    expect(await settleWithin(store.close(), 2000)).toBeUndefined();
  });
});
