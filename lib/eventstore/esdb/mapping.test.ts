import { convertToCommandError, UnsupportedError, WrongExpectedVersionError } from '@eventstore/db-client';
import { Metadata } from '@grpc/grpc-js';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { chainEvents, prepareEvents } from '../envelope';
import { EventStoreUnavailable, GroupAlreadyExists, GroupNotFound, StreamNotFound, WrongExpectedVersion } from '../errors';
import { verifyStreamEvents } from '../hash-chain';
import { ev } from '../testing/contract';
import type { RecordedEvent } from '../types';
import {
  expectedForHead,
  fromEsdbCurrent,
  fromEsdbGroupInfo,
  fromResolvedEvent,
  mapEsdbError,
  parkedStreamName,
  revisionToNumber,
  toEsdbFilter,
  toEsdbGroupSettings,
  toEventData,
  toReadPosition,
} from './mapping';

const KEY = 'unit-test-key-unit-test-key';

function chained(streamId = 'reservation-1') {
  return chainEvents(KEY, streamId, prepareEvents(streamId, [ev('ReservationRequested', { slot: '10:00' }), ev('ReservationConfirmed')]), 0, null).events;
}

/** What the client hands back for an event we wrote (as read from $all). */
function asResolved(data: ReturnType<typeof toEventData>, streamId: string, revision: bigint, position = { commit: 100n, prepare: 90n }) {
  return {
    event: {
      streamId,
      id: data.id,
      isJson: true as const,
      revision,
      type: data.type,
      created: new Date('2025-01-01T00:00:00Z'),
      data: data.data,
      metadata: data.metadata,
      position,
    },
    commitPosition: position.commit,
  };
}

describe('EventStoreDB mapping (no server)', () => {
  it('round-trips the envelope: ids, type, schema version, data, metadata with the hash chain', () => {
    const events = chained();
    const data = events.map(toEventData);
    expect(data[0]).toMatchObject({ id: events[0]!.eventId, contentType: 'application/json', type: 'ReservationRequested' });
    expect(data[0]!.metadata).toMatchObject({ $schemaVersion: 1, $correlationId: 'corr-1', integrity: { hash: events[0]!.metadata.integrity.hash } });
    const back = data.map((d, i) => fromResolvedEvent(asResolved(d, 'reservation-1', BigInt(i)) as never)!);
    expect(back[0]).toMatchObject({ eventId: events[0]!.eventId, type: 'ReservationRequested', schemaVersion: 1, streamId: 'reservation-1', revision: 0, data: { slot: '10:00' } });
    expect(Object.keys(back[0]!.metadata).some((k) => k.startsWith('$'))).toBe(false);
    expect(back[0]!.position).toEqual({ commit: 100n, prepare: 90n });
    expect(verifyStreamEvents(KEY, 'reservation-1', back).broken).toBeNull();
  });

  it('drops system events, links and non-JSON events', () => {
    const [d] = chained().map(toEventData);
    expect(fromResolvedEvent(asResolved(d!, '$stats-127.0.0.1:2113', 0n) as never)).toBeNull();
    expect(fromResolvedEvent(asResolved({ ...d!, type: '$metadata' }, 'reservation-1', 0n) as never)).toBeNull();
    expect(fromResolvedEvent({ link: asResolved(d!, 'x', 0n).event } as never)).toBeNull();
    expect(fromResolvedEvent({ event: { ...asResolved(d!, 'x', 0n).event, isJson: false } } as never)).toBeNull();
  });

  it('maps positions and revisions', () => {
    const [d] = chained().map(toEventData);
    const withoutPosition = { event: { ...asResolved(d!, 's', 3n).event, position: undefined }, commitPosition: 555n };
    // No guess from the link's commit position (prepare = commit was a made-up position).
    expect(() => fromResolvedEvent(withoutPosition as never)).toThrow(EventStoreUnavailable);
    expect(toReadPosition('start')).toBe('start');
    expect(toReadPosition({ commit: 5n, prepare: 4n })).toEqual({ commit: 5n, prepare: 4n });
    expect(expectedForHead(null)).toBe('no_stream');
    expect(expectedForHead(7)).toBe(7n);
    expect(fromEsdbCurrent('no_stream')).toBe('no_stream');
    expect(fromEsdbCurrent(4n)).toBe(4);
    expect(() => revisionToNumber(2n ** 60n)).toThrow(RangeError);
  });

  it('maps client errors to the port errors', () => {
    const wev = new WrongExpectedVersionError(undefined, { streamName: 'reservation-1', expected: 3n, current: 5n });
    const mapped = mapEsdbError(wev, { streamId: 'reservation-1', expected: 3 });
    expect(mapped).toBeInstanceOf(WrongExpectedVersion);
    expect(mapped).toMatchObject({ streamId: 'reservation-1', expected: 3, actual: 5 });
    const noStream = mapEsdbError(new WrongExpectedVersionError(undefined, { streamName: 's', expected: 0n, current: 'no_stream' }), { expected: 0 });
    expect(noStream).toMatchObject({ actual: 'no_stream' });
    expect(mapEsdbError({ type: 'stream-not-found', streamName: 's' })).toBeInstanceOf(StreamNotFound);
    expect(mapEsdbError({ type: 'persistent-subscription-does-not-exist', groupName: 'g' })).toBeInstanceOf(GroupNotFound);
    expect(mapEsdbError({ type: 'persistent-subscription-exists', groupName: 'g' })).toBeInstanceOf(GroupAlreadyExists);
    expect(mapEsdbError({ type: 'unavailable', message: 'down' })).toBeInstanceOf(EventStoreUnavailable);
    const other = new Error('other');
    expect(mapEsdbError(other)).toBe(other);
  });

  it('an event without a log position is refused, not placed at {0, 0}', () => {
    // What the client makes of a server message whose positions are unset (proto3 default "0").
    const require = createRequire(import.meta.url);
    const streamsPb = require('@eventstore/db-client/generated/streams_pb');
    const sharedPb = require('@eventstore/db-client/generated/shared_pb');
    const { convertGrpcEvent } = require('@eventstore/db-client/dist/utils/convertGrpcEvent');
    const [data] = chained();
    const record = new streamsPb.ReadResp.ReadEvent.RecordedEvent();
    const id = new sharedPb.UUID();
    id.setString(data!.eventId);
    record.setId(id);
    const identifier = new sharedPb.StreamIdentifier();
    identifier.setStreamName(Buffer.from('reservation-1'));
    record.setStreamIdentifier(identifier);
    record.setStreamRevision('0');
    record.getMetadataMap().set('type', data!.type);
    record.getMetadataMap().set('content-type', 'application/json');
    record.setData(Buffer.from(JSON.stringify(data!.data)));
    record.setCustomMetadata(Buffer.from(JSON.stringify(toEventData(data!).metadata)));
    const event = new streamsPb.ReadResp.ReadEvent();
    event.setEvent(record);
    const resolved = convertGrpcEvent(event);
    expect(resolved.event.position).toEqual({ commit: 0n, prepare: 0n });
    expect(() => fromResolvedEvent(resolved)).toThrow(EventStoreUnavailable);
    record.setCommitPosition('120');
    record.setPreparePosition('110');
    expect(fromResolvedEvent(convertGrpcEvent(event))!.position).toEqual({ commit: 120n, prepare: 110n });
  });

  it('maps the remaining client errors, as the client converts them from gRPC errors', () => {
    const grpc = (code: number, details: string, metadata: Record<string, string> = {}) => {
      const md = new Metadata();
      for (const [k, v] of Object.entries(metadata)) md.set(k, v);
      return convertToCommandError(Object.assign(new Error(`${code} ${details}`), { code, details, metadata: md }));
    };
    const deleted = mapEsdbError(grpc(9, 'deleted', { exception: 'stream-deleted', 'stream-name': 's-1' }), { streamId: 's-1' });
    expect(deleted).toBeInstanceOf(StreamNotFound);
    expect(deleted).toMatchObject({ streamId: 's-1' });
    for (const error of [
      grpc(9, 'failed', { exception: 'persistent-subscription-failed', 'group-name': 'g' }),
      grpc(9, 'dropped', { exception: 'persistent-subscription-dropped', 'group-name': 'g' }),
      grpc(1, 'Cancelled by the server'),
      grpc(5, 'method not found'),
      grpc(2, 'something broke'),
      new UnsupportedError('subscribeToPersistentSubscriptionToAll', '21.10'),
    ]) {
      const mapped = mapEsdbError(error);
      expect(mapped, String((error as { type?: string }).type)).toBeInstanceOf(EventStoreUnavailable);
      expect((mapped as Error).cause).toBe(error);
    }
  });

  it('builds filters: server side on one criterion, client side on both and never system events', () => {
    const both = toEsdbFilter({ streamPrefixes: ['reservation-'], eventTypes: ['ReservationConfirmed'] });
    expect(both.server).toMatchObject({ filterOn: 'streamName', prefixes: ['reservation-'] });
    const e = (streamId: string, type: string) => ({ streamId, type }) as RecordedEvent;
    expect(both.matches(e('reservation-1', 'ReservationConfirmed'))).toBe(true);
    expect(both.matches(e('reservation-1', 'ReservationRequested'))).toBe(false);
    expect(both.matches(e('visit-1', 'ReservationConfirmed'))).toBe(false);
    const types = toEsdbFilter({ eventTypes: ['A.b', 'C'] });
    expect(types.server).toMatchObject({ filterOn: 'eventType', regex: '^(?:A\\.b|C)$' });
    const none = toEsdbFilter(undefined);
    expect(none.server).toMatchObject({ filterOn: 'eventType' });
    expect(none.matches(e('$stats', 'x'))).toBe(false);
    expect(none.matches(e('clinic-1', 'ClinicRegistered'))).toBe(true);
  });

  it('maps group settings both ways (one consumer at a time)', () => {
    const settings = toEsdbGroupSettings({ maxRetryCount: 3, messageTimeoutMs: 5000, checkpointAfterMs: 200, maxInFlight: 4 }, { commit: 9n, prepare: 9n });
    expect(settings).toMatchObject({ maxRetryCount: 3, messageTimeout: 5000, checkPointAfter: 200, maxSubscriberCount: 1, startFrom: { commit: 9n, prepare: 9n } });
    const info = fromEsdbGroupInfo(
      {
        eventSource: '$all',
        groupName: 'projections',
        status: 'Live',
        settings,
        stats: { parkedMessageCount: 2n, lastCheckpointedEventPosition: { commit: 50n, prepare: 50n } },
        connections: [{ connectionName: 'worker-1', from: '10.0.0.1:1234' }],
      } as never,
      { filter: { streamPrefixes: ['reservation-'] }, maxInFlight: 4 },
      { maxRetryCount: 10, messageTimeoutMs: 30_000, checkpointAfterMs: 1000, maxInFlight: 10 },
    );
    expect(info).toEqual({
      name: 'projections',
      filter: { streamPrefixes: ['reservation-'] },
      settings: { maxRetryCount: 3, messageTimeoutMs: 5000, checkpointAfterMs: 200, maxInFlight: 4 },
      checkpoint: { commit: 50n, prepare: 50n },
      activeConsumer: { id: 'worker-1' },
      parkedCount: 2,
    });
    expect(parkedStreamName('projections')).toBe('$persistentsubscription-$all::projections-parked');
  });
});
