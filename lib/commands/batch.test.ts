/**
 * Command batching on a hot stream (handle.ts): commands that queue on one stream while a batch is in
 * flight are decided one after another on one load and appended together with one expected revision,
 * each getting its own result or its own error. The hot stream here is a clinic day (holds), as in a
 * storm of bookings. Seen from the store: the appends counted, the events and their positions read back.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { atLocal, DomainError, schedule, streams, timeOfMinutes } from '../domain';
import { createEventStore, WrongExpectedVersion, type EventStore, type RecordedEvent } from '../eventstore';
import { createTestDatabase } from '../testing/db';
import { loadClinic, type CommandDeps } from './deps';
import { ConcurrencyConflict, ForbiddenError } from './errors';
import { handle, type CommandResult } from './handle';
import { derivedId, type CommandMetadata } from './metadata';
import { holdSlots, releaseHeld } from './schedule';
import { manualClock, meta, patientActor, registerTestClinic } from './testing';

const t = await createTestDatabase();
const HMAC = 'batch-test-hmac-key-16+';
const store = await createEventStore({ databaseUrl: t.url, hmacKey: HMAC, maxConnections: 8 });
/** Another process: its own store instance (its own connections, head cache and queues). */
const otherProcess = await createEventStore({ databaseUrl: t.url, hmacKey: HMAC, maxConnections: 4 });
afterAll(async () => {
  await otherProcess.close();
  await store.close();
});
const clock = manualClock('2025-03-01T00:00:00Z');
const uid = () => randomBytes(5).toString('hex');
const DAY = '2025-03-05'; // a Wednesday: open 10–13 and 14–19

/** The store seen by the commands, counting appends to each stream (and running `beforeAppend` first). */
function watchedStore(beforeAppend?: (streamId: string, call: number) => Promise<void>) {
  const appends: Array<{ streamId: string; events: number }> = [];
  const reads: string[] = [];
  const watched: EventStore = Object.create(store, {
    readStream: {
      value: (...args: Parameters<EventStore['readStream']>) => {
        reads.push(args[0]);
        return store.readStream(...args);
      },
    },
    append: {
      value: async (...args: Parameters<EventStore['append']>) => {
        appends.push({ streamId: args[0], events: args[1].length });
        await beforeAppend?.(args[0], appends.length);
        return store.append(...args);
      },
    },
  });
  return { watched, appends, reads };
}

/** A clinic (capacity 2 a slot) and a hold-placing function on its Wednesday. */
async function clinicDay(deps: CommandDeps) {
  const clinicId = `c-${uid()}`;
  await registerTestClinic({ store, clock }, clinicId, { slotCapacity: 2 });
  const clinic = await loadClinic({ store }, clinicId);
  const dayStream = streams.schedule(clinicId, DAY);
  const hold = (slotMinutes: number, m: CommandMetadata = meta({ clinicId }), on: CommandDeps = deps) =>
    holdSlots(on, clinic, { clinicId, day: DAY, holdId: derivedId('hold', m.commandId), reservationId: `r-${uid()}`, startsAt: atLocal(DAY, timeOfMinutes(slotMinutes)).toISOString(), durationMinutes: 30 }, m);
  return { clinicId, dayStream, hold };
}

const stored = (streamId: string) => store.readStream(streamId);
const byCommand = (events: RecordedEvent[], commandId: string) => events.filter((e) => e.metadata.commandId === commandId);

/** The result points at the command's own event as stored: its revision and position. */
function expectOwnEvent(result: CommandResult<{ type: string }, unknown>, events: RecordedEvent[], commandId: string) {
  const [own] = byCommand(events, commandId);
  expect(own).toBeDefined();
  expect(result.duplicate).toBe(false);
  expect(result.events.map((e) => e.type)).toEqual(['SlotHeld']);
  expect(result.nextExpectedRevision).toBe(own!.revision);
  expect(result.position).toEqual(own!.position);
}

describe('batching commands on a hot stream', () => {
  it('N concurrent commands on one clinic day: the first goes at once, the N − 1 queued behind it in one append, each with its own result', async () => {
    // given a clinic day and a store that counts appends
    const { watched, appends, reads } = watchedStore();
    const deps: CommandDeps = { store: watched, clock };
    const { clinicId, dayStream, hold } = await clinicDay(deps);
    const metas = Array.from({ length: 12 }, () => meta({ clinicId }));

    // when 12 holds arrive at once on 6 slots (two a slot: every slot filled)
    const results = await Promise.all(metas.map((m, i) => hold(600 + (i % 6) * 30, m)));

    // then two appends to the day: one for the first, one for the other 11
    expect(appends.filter((a) => a.streamId === dayStream).map((a) => a.events)).toEqual([1, 11]);
    const events = await stored(dayStream);
    expect(events.map((e) => e.revision)).toEqual([...Array(12).keys()]);
    // each command's own event (its metadata), revision and position; the batch shares one transaction
    results.forEach((r, i) => expectOwnEvent(r, events, metas[i]!.commandId));
    expect(new Set(results.map((r) => r.position!.prepare)).size).toBe(12);
    expect(new Set(events.slice(1).map((e) => e.position.commit)).size).toBe(1);
    // decided in arrival order, each against the state the ones before it left
    expect(results.map((r) => r.nextExpectedRevision)).toEqual([...Array(12).keys()]);
    expect(Object.keys((results[11]!.state as { holds: object }).holds)).toHaveLength(12);
    expect(Object.keys((results[5]!.state as { holds: object }).holds)).toHaveLength(6);
    expect(results.every((r) => r.attempts === 1)).toBe(true);
    // the batch was decided on the state the first one wrote: the day was read once, for the first
    expect(reads.filter((id) => id === dayStream)).toHaveLength(1);
  });

  it('a batch decided on this process’s last write that appends nothing is decided again on the day as read', async () => {
    // given a day whose 10:00 (capacity 2) this process filled, after which another process released a seat
    const { clinicId, dayStream, hold } = await clinicDay({ store, clock });
    const [a, b, c] = Array.from({ length: 3 }, () => meta({ clinicId }));
    let third: Promise<unknown> | undefined;
    let calls = 0;
    const watched: EventStore = Object.create(store, {
      append: {
        value: async (...args: Parameters<EventStore['append']>) => {
          const written = await store.append(...args);
          if (++calls === 2) {
            await releaseHeld({ store: otherProcess, clock }, { clinicId, day: DAY, holdId: derivedId('hold', a!.commandId), reason: 'cancelled' }, meta());
            third = hold(600, c, { store: watched, clock }); // queued while this batch is in flight
          }
          return written;
        },
      },
    });
    const deps: CommandDeps = { store: watched, clock };

    // when a third hold on 10:00 queues behind the second
    await Promise.all([hold(600, a, deps), hold(600, b, deps)]);
    const result = (await third) as CommandResult<{ type: string }, unknown>;

    // then it is not refused on the stale state (10:00 full) but held on the state as read (one seat free)
    const events = await stored(dayStream);
    expectOwnEvent(result, events, c!.commandId);
    expect(events.map((e) => e.type)).toEqual(['SlotHeld', 'SlotHeld', 'SlotReleased', 'SlotHeld']);
  });

  it('a refused command in the middle of a batch fails alone and appends nothing for itself', async () => {
    // given a day whose 10:00 slot (capacity 2) already has one hold in flight
    const { watched, appends } = watchedStore();
    const deps: CommandDeps = { store: watched, clock };
    const { clinicId, dayStream, hold } = await clinicDay(deps);
    const [first, second, refused, fourth] = Array.from({ length: 4 }, () => meta({ clinicId }));

    // when three more arrive: one takes the last seat, one finds 10:00 full, one books 10:30
    const outcomes = await Promise.allSettled([hold(600, first), hold(600, second), hold(600, refused), hold(630, fourth)]);

    // then only the third is refused, with the slot-full refusal
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    const error = (outcomes[2] as PromiseRejectedResult).reason;
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('schedule.slot_over_capacity');
    expect(appends.filter((a) => a.streamId === dayStream).map((a) => a.events)).toEqual([1, 2]);
    const events = await stored(dayStream);
    expect(events).toHaveLength(3);
    expect(byCommand(events, refused!.commandId)).toHaveLength(0);
    expectOwnEvent((outcomes[1] as PromiseFulfilledResult<CommandResult<{ type: string }, unknown>>).value, events, second!.commandId);
    expectOwnEvent((outcomes[3] as PromiseFulfilledResult<CommandResult<{ type: string }, unknown>>).value, events, fourth!.commandId);
  });

  it('the same command id twice in one batch: the second is a duplicate with the first one’s result', async () => {
    // given a day with a hold in flight
    const { watched, appends } = watchedStore();
    const deps: CommandDeps = { store: watched, clock };
    const { clinicId, dayStream, hold } = await clinicDay(deps);
    const [first, twice, other] = Array.from({ length: 3 }, () => meta({ clinicId }));

    // when a double submit (same command id, same hold) queues behind it with another command
    const [, once, again, last] = await Promise.all([hold(600, first), hold(660, twice), hold(660, twice), hold(690, other)]);

    // then the double submit appended once, and the repeat answers with the first run's result
    const events = await stored(dayStream);
    expect(byCommand(events, twice!.commandId)).toHaveLength(1);
    expectOwnEvent(once!, events, twice!.commandId);
    expect(again!.duplicate).toBe(true);
    expect(again!.events).toEqual(once!.events);
    expect(again!.position).toEqual(once!.position);
    expect(again!.nextExpectedRevision).toBe(once!.nextExpectedRevision);
    expectOwnEvent(last!, events, other!.commandId);
    expect(appends.filter((a) => a.streamId === dayStream).map((a) => a.events)).toEqual([1, 2]);
  });

  it('a command id reused by another actor in the same batch is ForbiddenError for that command only', async () => {
    // given a patient's hold queued behind another one
    const { watched } = watchedStore();
    const deps: CommandDeps = { store: watched, clock };
    const { clinicId, dayStream, hold } = await clinicDay(deps);
    const commandId = `cmd-${uid()}`;
    const mine = meta({ clinicId, actor: patientActor('p-1'), commandId });
    const copied = meta({ clinicId, actor: patientActor('p-2'), commandId });
    const other = meta({ clinicId });

    // when another patient replays the same command id in the same batch
    const outcomes = await Promise.allSettled([hold(600, meta({ clinicId })), hold(630, mine), hold(630, copied), hold(660, other)]);

    // then only the replay is refused; it learns nothing and appends nothing
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[2] as PromiseRejectedResult).reason).toBeInstanceOf(ForbiddenError);
    const events = await stored(dayStream);
    expect(events).toHaveLength(3);
    expect(byCommand(events, commandId).map((e) => e.metadata.actor)).toEqual([patientActor('p-1')]);
  });

  it('a conflicting append from another process mid-batch: the batch reloads, decides again and appends; nothing lost or doubled', async () => {
    // given a batch whose append is preceded by another process's hold on the same day
    let otherHold: Promise<unknown> | undefined;
    const otherMeta = meta();
    let hold!: Awaited<ReturnType<typeof clinicDay>>['hold'];
    const { watched, appends } = watchedStore(async (streamId, call) => {
      if (!streamId.startsWith('schedule-') || call !== 2) return;
      otherHold = hold(600, otherMeta, { store: otherProcess, clock });
      await otherHold;
    });
    const deps: CommandDeps = { store: watched, clock };
    const day = await clinicDay(deps);
    hold = day.hold;
    const metas = Array.from({ length: 8 }, () => meta({ clinicId: day.clinicId }));

    // when 8 holds arrive at once (10:00 gets three requests for two seats, the other process took one)
    const outcomes = await Promise.allSettled(metas.map((m, i) => hold(600 + (i % 4) * 30, m)));
    await otherHold;

    // then the batch appended twice (a WrongExpectedVersion, then on the fresh state), every command settled once
    expect(appends.filter((a) => a.streamId === day.dayStream).map((a) => a.events)).toEqual([1, 7, 6]);
    const events = await stored(day.dayStream);
    expect(events.map((e) => e.revision)).toEqual([...Array(8).keys()]);
    expect(byCommand(events, otherMeta.commandId)).toHaveLength(1);
    // the third request for 10:00 (index 4, decided again after the reload) finds the slot full
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(((outcomes[4] as PromiseRejectedResult).reason as DomainError).code).toBe('schedule.slot_over_capacity');
    for (const [i, o] of outcomes.entries()) {
      if (o.status === 'rejected') continue;
      expectOwnEvent(o.value, events, metas[i]!.commandId);
      expect(o.value.attempts).toBe(i === 0 ? 1 : 2);
    }
  });

  it('the retry is bounded per command: ConcurrencyConflict for each one whose budget ran out', async () => {
    // given a store where another process gets in before every batched append
    const deps: CommandDeps = { store: watchedStore(async (streamId, call) => {
      if (streamId.startsWith('schedule-') && call > 1) await hold(900 + call * 30, meta(), { store: otherProcess, clock });
    }).watched, clock, maxAttempts: 3 };
    const day = await clinicDay(deps);
    const hold = day.hold;
    const [first, second, third] = Array.from({ length: 3 }, () => meta({ clinicId: day.clinicId }));

    // when two holds queue behind a first one
    const outcomes = await Promise.allSettled([hold(600, first), hold(630, second), hold(660, third)]);

    // then the first (alone, nothing in between) succeeded; each of the others failed after its 3 attempts
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
    for (const o of outcomes.slice(1)) {
      const error = (o as PromiseRejectedResult).reason as ConcurrencyConflict;
      expect(error).toBeInstanceOf(ConcurrencyConflict);
      expect(error.attempts).toBe(3);
      expect(error.cause).toBeInstanceOf(WrongExpectedVersion);
    }
    const events = await stored(day.dayStream);
    expect(byCommand(events, second!.commandId)).toHaveLength(0);
    expect(byCommand(events, third!.commandId)).toHaveLength(0);
  });

  it('a store failure that is not a conflict fails every command of that batch with that error, and only those', async () => {
    // given a store whose second append to the day fails (a connection lost)
    const lost = new Error('connection lost');
    const { watched } = watchedStore(async (streamId, call) => {
      if (streamId.startsWith('schedule-') && call === 2) throw lost;
    });
    const deps: CommandDeps = { store: watched, clock };
    const { clinicId, dayStream, hold } = await clinicDay(deps);
    const metas = Array.from({ length: 4 }, () => meta({ clinicId }));

    // when three holds queue behind a first one
    const outcomes = await Promise.allSettled(metas.map((m, i) => hold(600 + i * 30, m)));

    // then the first is written; the three of the failed batch get that error and nothing of theirs is stored
    expect(outcomes[0]!.status).toBe('fulfilled');
    expect(outcomes.slice(1).map((o) => (o as PromiseRejectedResult).reason)).toEqual([lost, lost, lost]);
    expect(await stored(dayStream)).toHaveLength(1);
  });

  it('a command of another decider on the stream ends the batch: it goes alone, in arrival order', async () => {
    // given a day and a second decider of its events (another name: another folded state)
    const { watched, appends } = watchedStore();
    const deps: CommandDeps = { store: watched, clock };
    const { clinicId, dayStream, hold } = await clinicDay(deps);
    const renamed = { ...schedule.scheduleDecider, name: 'schedule-renamed' };
    const viaRenamed = () =>
      handle({ store: watched, decider: renamed, streamId: dayStream, command: { type: 'ExpireHolds' }, metadata: meta({ clinicId }), context: { now: clock(), clinic: null as never } });

    // when a hold, one of the other decider's commands and two more holds arrive at once
    await Promise.all([hold(600), hold(630), viaRenamed(), hold(660), hold(690)]);

    // then the holds before and after it are not batched across it
    expect(appends.filter((a) => a.streamId === dayStream).map((a) => a.events)).toEqual([1, 1, 2]);
    expect(await stored(dayStream)).toHaveLength(4);
  });

  it('unqueued commands (serialize: false) are not batched with the others', async () => {
    // given a day and holds sent unqueued (serialize: false) next to queued ones
    const { watched, appends } = watchedStore();
    const deps: CommandDeps = { store: watched, clock };
    const { clinicId, dayStream, hold } = await clinicDay(deps);
    const unqueued: CommandDeps = { ...deps, serialize: false };

    // when they arrive at once
    const results = await Promise.all([hold(600), hold(630), hold(660, meta({ clinicId }), unqueued), hold(690)]);

    // then the unqueued one went on its own (a race it may lose and retry), the queued ones batched
    expect(results.every((r) => !r.duplicate && r.events.length === 1)).toBe(true);
    const sizes = appends.filter((a) => a.streamId === dayStream).map((a) => a.events);
    expect(sizes.filter((n) => n === 2)).toHaveLength(1); // 10:30 and 11:30, queued behind 10:00
    expect(await stored(dayStream)).toHaveLength(4);
  });
});
