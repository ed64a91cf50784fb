/**
 * Pure mapping between the port and @eventstore/db-client (no server needed; unit tested).
 *
 * - Envelope: type and data as they are; metadata is ours plus `$schemaVersion` and, for EventStoreDB's
 *   own correlation projections, `$correlationId` / `$causationId`. `$` keys are the store's and are
 *   removed again when reading (they are not part of the hash chain).
 * - Positions: EventStoreDB's {commit, prepare} log positions, unchanged.
 * - Revisions: bigint on the wire, number in the port (exact below 2^53).
 * - System events ($-prefixed stream or type, links, non-JSON) never reach the port.
 * - Errors: by the client's `type` field (robust to bundling), to the port's error classes.
 */
import {
  eventTypeFilter,
  excludeSystemEvents,
  persistentSubscriptionToAllSettingsFromDefaults,
  streamNameFilter,
  type AllStreamResolvedEvent,
  type AppendExpectedRevision,
  type CurrentRevision as EsdbCurrentRevision,
  type EventData,
  type Filter,
  type PersistentSubscriptionToAllInfo,
  type PersistentSubscriptionToAllSettings,
  type Position as EsdbPosition,
  type ResolvedEvent,
} from '@eventstore/db-client';
import { EventStoreUnavailable, GroupAlreadyExists, GroupNotFound, InvalidEvent, StreamNotFound, WrongExpectedVersion } from '../errors';
import { matchesFilter } from '../envelope';
import type {
  CurrentRevision,
  EventFilter,
  ExpectedRevision,
  GroupInfo,
  GroupSettings,
  JsonObject,
  Position,
  RecordedEvent,
  RecordedMetadata,
} from '../types';

export interface ChainedEvent {
  eventId: string;
  type: string;
  schemaVersion: number;
  data: JsonObject;
  metadata: RecordedMetadata;
}

export function toEventData(event: ChainedEvent): EventData {
  const metadata: Record<string, unknown> = { ...event.metadata, $schemaVersion: event.schemaVersion };
  if (event.metadata.correlationId) metadata.$correlationId = event.metadata.correlationId;
  if (event.metadata.causationId) metadata.$causationId = event.metadata.causationId;
  return { id: event.eventId, contentType: 'application/json', type: event.type, data: event.data, metadata } as EventData;
}

export function revisionToNumber(revision: bigint): number {
  if (revision > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`Revision ${revision} exceeds 2^53`);
  return Number(revision);
}

export function isSystemName(name: string): boolean {
  return name.startsWith('$');
}

type AnyResolved = ResolvedEvent | AllStreamResolvedEvent;

/** A resolved event from any read or subscription, or null when it is not one of ours. */
export function fromResolvedEvent(resolved: AnyResolved): RecordedEvent | null {
  const e = resolved.event;
  if (!e || !e.isJson) return null;
  if (isSystemName(e.streamId) || isSystemName(e.type)) return null;
  const raw = (e.metadata ?? {}) as Record<string, unknown>;
  const metadata: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) if (!k.startsWith('$')) metadata[k] = v;
  const schemaVersion = typeof raw.$schemaVersion === 'number' ? raw.$schemaVersion : 1;
  // The client turns unset positions into {0, 0} (proto3 defaults), the position of the log's first
  // record, which is never one of ours: that is "no position", refused rather than guessed.
  if (!e.position || (e.position.commit === 0n && e.position.prepare === 0n)) {
    throw new EventStoreUnavailable(`Event ${e.id} of ${e.streamId} came without a log position`);
  }
  const position: Position = { commit: e.position.commit, prepare: e.position.prepare };
  return {
    eventId: e.id,
    type: e.type,
    schemaVersion,
    data: e.data as JsonObject,
    metadata: metadata as RecordedMetadata,
    streamId: e.streamId,
    revision: revisionToNumber(e.revision),
    position,
    recordedAt: e.created,
  };
}

/** The expected revision to send for an append chained to `head` (exact: the chain never forks). */
export function expectedForHead(head: number | null): AppendExpectedRevision {
  return head === null ? 'no_stream' : BigInt(head);
}

export function toEsdbExpected(expected: ExpectedRevision): AppendExpectedRevision {
  return typeof expected === 'number' ? BigInt(expected) : expected;
}

export function fromEsdbCurrent(current: EsdbCurrentRevision | undefined): CurrentRevision {
  if (current === undefined || current === 'no_stream') return 'no_stream';
  return revisionToNumber(current);
}

export function toEsdbPosition(p: Position): EsdbPosition {
  return { commit: p.commit, prepare: p.prepare };
}

export function toReadPosition(p: Position | 'start' | 'end'): 'start' | 'end' | EsdbPosition {
  return p === 'start' || p === 'end' ? p : toEsdbPosition(p);
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A server-side filter (EventStoreDB filters on stream names or event types, not both) plus the
 * predicate the client applies anyway (both criteria, and no system events).
 */
export function toEsdbFilter(filter: EventFilter | undefined): { server: Filter; matches: (e: RecordedEvent) => boolean } {
  const matches = (e: RecordedEvent) => matchesFilter(filter, e.streamId, e.type);
  if (filter?.streamPrefixes?.length) return { server: streamNameFilter({ prefixes: [...filter.streamPrefixes] }), matches };
  if (filter?.eventTypes?.length) {
    return { server: eventTypeFilter({ regex: `^(?:${filter.eventTypes.map(escapeRegex).join('|')})$` }), matches };
  }
  return { server: excludeSystemEvents(), matches };
}

/** Group settings → EventStoreDB persistent subscription settings (one consumer at a time). */
export function toEsdbGroupSettings(settings: GroupSettings, startFrom: Position | 'start' | 'end' = 'start'): PersistentSubscriptionToAllSettings {
  return persistentSubscriptionToAllSettingsFromDefaults({
    startFrom: toReadPosition(startFrom),
    maxRetryCount: settings.maxRetryCount,
    messageTimeout: settings.messageTimeoutMs,
    checkPointAfter: settings.checkpointAfterMs,
    // The server writes a checkpoint when checkPointAfter has passed AND at least this many events were
    // settled (the client's default is 10: with fewer events the checkpoint would never move). 1 gives
    // the port's meaning: every checkpointAfterMs while events are acked. It lands on the server's own
    // timer, not on a consumer's stop().
    checkPointLowerBound: 1,
    // Standby semantics: the server refuses a second consumer, which retries until the first is gone.
    maxSubscriberCount: 1,
    consumerStrategyName: 'DispatchToSingle',
    resolveLinkTos: false,
  });
}

export function fromEsdbGroupInfo(
  info: PersistentSubscriptionToAllInfo,
  stored: { filter: EventFilter; maxInFlight: number } | null,
  defaults: GroupSettings,
): GroupInfo {
  const checkpoint = info.stats?.lastCheckpointedEventPosition;
  const connection = info.connections?.[0];
  return {
    name: info.groupName,
    filter: stored?.filter ?? {},
    settings: {
      maxRetryCount: info.settings.maxRetryCount,
      messageTimeoutMs: info.settings.messageTimeout,
      checkpointAfterMs: info.settings.checkPointAfter,
      maxInFlight: stored?.maxInFlight ?? defaults.maxInFlight,
    },
    checkpoint: checkpoint ? { commit: checkpoint.commit, prepare: checkpoint.prepare } : undefined,
    activeConsumer: connection ? { id: connection.connectionName || connection.from } : null,
    parkedCount: revisionToNumber(info.stats?.parkedMessageCount ?? 0n),
  };
}

export function parkedStreamName(group: string): string {
  return `$persistentsubscription-$all::${group}-parked`;
}

/** The stream whose metadata claims an event id for the stream it was appended to (see store.ts). */
export function eventIdClaimStream(eventId: string): string {
  return `yeyak-eventid-${eventId}`;
}

export function groupConfigStream(group: string): string {
  return `yeyak-eventstore-group-${group}`;
}

interface ClientErrorLike {
  type?: string;
  message?: string;
  streamName?: string;
  groupName?: string;
  expectedVersion?: AppendExpectedRevision;
  actualVersion?: EsdbCurrentRevision;
}

/** The port's error for a client error (by its `type`), or the error itself. */
export function mapEsdbError(error: unknown, context: { streamId?: string; expected?: ExpectedRevision; group?: string } = {}): unknown {
  const e = error as ClientErrorLike;
  switch (e?.type) {
    case 'wrong-expected-version':
      return new WrongExpectedVersion(e.streamName ?? context.streamId ?? '', context.expected ?? fromEsdbExpected(e.expectedVersion), fromEsdbCurrent(e.actualVersion), { cause: error });
    case 'stream-not-found':
    case 'no-stream':
    // The port has no deletion: a deleted (or tombstoned) stream is one that is not there.
    case 'stream-deleted':
      return new StreamNotFound(e.streamName || context.streamId || '');
    case 'persistent-subscription-does-not-exist':
      return new GroupNotFound(e.groupName || context.group || '');
    case 'persistent-subscription-exists':
      return new GroupAlreadyExists(e.groupName || context.group || '');
    case 'invalid-argument':
    case 'maximum-append-size-exceeded':
      return new InvalidEvent(e.message ?? 'invalid argument', { cause: error });
    case 'unavailable':
    case 'deadline-exceeded':
    case 'timeout':
    case 'not-leader':
    case 'access-denied':
    // A subscription the server ended (the consumer reconnects), a call cancelled by the server
    // (restart), an unknown method or failure, a server too old for the call.
    case 'persistent-subscription-failed':
    case 'persistent-subscription-dropped':
    case 'cancelled':
    case 'not-found':
    case 'unknown':
    case 'unsupported':
      return new EventStoreUnavailable(e.message || String(e.type), { cause: error });
    default:
      return error;
  }
}

function fromEsdbExpected(expected: AppendExpectedRevision | undefined): ExpectedRevision {
  if (expected === undefined) return 'any';
  return typeof expected === 'bigint' ? revisionToNumber(expected) : expected;
}

export function isMaxSubscribersReached(error: unknown): boolean {
  return (error as ClientErrorLike)?.type === 'maximum-subscribers-reached';
}
