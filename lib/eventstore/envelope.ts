/** Envelope checks and helpers shared by both backends (pure). */
import { v7 as uuidv7, validate as uuidValidate, version as uuidVersion } from 'uuid';
import { InvalidEvent } from './errors';
import type { KeyObject } from 'node:crypto';
import { canonicalStoredJson, computeEventHashFromJson, HASH_ALGORITHM, hmacKeyId, integrityFor, toStoredJson } from './hash-chain';
import type { CurrentRevision, EventFilter, EventMetadata, ExpectedRevision, GroupSettings, JsonObject, NewEvent, Position, RecordedMetadata } from './types';

const NULLISH_STRING_METADATA = ['commandId', 'correlationId', 'causationId', 'clinicId', 'ip', 'userAgent'] as const;

function isPlainObjectLike(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof Map) && !(v instanceof Set) && !(v instanceof Promise);
}

/**
 * The metadata every event needs (a hand-written check: it runs on every append, and a schema
 * library cost several microseconds per event): actor {id, role} and occurredAt as non-empty
 * strings, the usual ids as strings or null; further keys are kept as they are. Returns the problem,
 * or null.
 */
export function metadataProblem(metadata: unknown): string | null {
  if (!isPlainObjectLike(metadata)) return 'must be an object';
  const actor = metadata.actor;
  if (!isPlainObjectLike(actor)) return 'actor must be an object {id, role}';
  if (typeof actor.id !== 'string' || actor.id.length === 0) return 'actor.id must be a non-empty string';
  if (typeof actor.role !== 'string' || actor.role.length === 0) return 'actor.role must be a non-empty string';
  if (typeof metadata.occurredAt !== 'string' || metadata.occurredAt.length === 0) return 'occurredAt must be a non-empty string';
  for (const k of NULLISH_STRING_METADATA) {
    const v = metadata[k];
    if (v !== undefined && v !== null && typeof v !== 'string') return `${k} must be a string or null`;
  }
  return null;
}

/** An event checked and normalised for writing: id set, JSON as it will be stored. */
export interface PreparedEvent {
  eventId: string;
  type: string;
  schemaVersion: number;
  data: JsonObject;
  metadata: EventMetadata;
}

export function newEventId(): string {
  return uuidv7();
}

export function isUuidV7(id: string): boolean {
  return uuidValidate(id) && uuidVersion(id) === 7;
}

export function validateStreamId(streamId: string): void {
  if (typeof streamId !== 'string' || streamId.length === 0 || streamId.length > 512) {
    throw new InvalidEvent(`Invalid stream id ${JSON.stringify(streamId)}`);
  }
  if (streamId.startsWith('$')) throw new InvalidEvent(`Stream ids starting with $ are reserved: ${streamId}`);
}

export function validateExpectedRevision(expected: ExpectedRevision): void {
  if (expected === 'any' || expected === 'no_stream' || expected === 'stream_exists') return;
  if (typeof expected !== 'number' || !Number.isSafeInteger(expected) || expected < 0) {
    throw new InvalidEvent(`Invalid expectedRevision ${String(expected)}`);
  }
}

/** Checks one event of an append (shared by prepareEvents and encodeEventsForAppend); returns its id. */
function checkEvent(event: NewEvent, i: number, seen: Set<string>): string {
  if (!event || typeof event.type !== 'string' || event.type.length === 0) throw new InvalidEvent(`Event ${i} has no type`);
  if (event.type.startsWith('$')) throw new InvalidEvent(`Event types starting with $ are reserved: ${event.type}`);
  if (!Number.isInteger(event.schemaVersion) || event.schemaVersion < 1) {
    throw new InvalidEvent(`Event ${i} (${event.type}) needs an integer schemaVersion >= 1`);
  }
  if (!event.data || typeof event.data !== 'object' || Array.isArray(event.data)) {
    throw new InvalidEvent(`Event ${i} (${event.type}) data must be a JSON object`);
  }
  const problem = metadataProblem(event.metadata);
  if (problem) throw new InvalidEvent(`Event ${i} (${event.type}) metadata: ${problem}`);
  for (const k in event.metadata) {
    if (k.startsWith('$') && Object.prototype.hasOwnProperty.call(event.metadata, k)) {
      throw new InvalidEvent(`Event ${i} (${event.type}) metadata key ${k} is reserved`);
    }
  }
  const eventId = (event.eventId ?? newEventId()).toLowerCase();
  if (!isUuidV7(eventId)) throw new InvalidEvent(`Event ${i} (${event.type}) id ${eventId} is not a UUID v7`);
  if (seen.has(eventId)) throw new InvalidEvent(`Event id ${eventId} appears twice in one append`);
  seen.add(eventId);
  return eventId;
}

/** Checks an append's events (stream id, event ids, types, metadata) and builds each one's stored form. */
function mapCheckedEvents<T>(streamId: string, events: NewEvent[], build: (event: NewEvent, eventId: string, metadata: EventMetadata) => T): T[] {
  validateStreamId(streamId);
  if (!Array.isArray(events) || events.length === 0) throw new InvalidEvent('append needs at least one event');
  const seen = new Set<string>();
  return events.map((event, i) => {
    const eventId = checkEvent(event, i, seen);
    // The store computes integrity itself; whatever the writer put there is dropped.
    const { integrity: _ignored, ...metadata } = event.metadata as EventMetadata & { integrity?: unknown };
    return build(event, eventId, metadata as EventMetadata);
  });
}

export function prepareEvents(streamId: string, events: NewEvent[]): PreparedEvent[] {
  return mapCheckedEvents(streamId, events, (event, eventId, metadata) => ({
    eventId,
    type: event.type,
    schemaVersion: event.schemaVersion,
    data: toStoredJson(event.data),
    metadata: toStoredJson(metadata) as EventMetadata,
  }));
}

/** An event checked for appending, its data and metadata (without integrity) as canonical stored JSON. */
export interface EncodedEvent {
  eventId: string;
  type: string;
  schemaVersion: number;
  dataJson: string;
  metadataJson: string;
}

/**
 * prepareEvents for a backend that sends JSON text (PostgreSQL): the same checks, and data and
 * metadata serialised once, canonically (canonicalStoredJson), so that the string that is hashed is
 * also the one written; no intermediate copies.
 */
export function encodeEventsForAppend(streamId: string, events: NewEvent[]): EncodedEvent[] {
  return mapCheckedEvents(streamId, events, (event, eventId, metadata) => ({
    eventId,
    type: event.type,
    schemaVersion: event.schemaVersion,
    dataJson: canonicalStoredJson(event.data),
    metadataJson: canonicalStoredJson(metadata),
  }));
}

/**
 * Chains encoded events written after `previousHash` at revision `firstRevision` and returns the
 * JSON array es_append takes ({id, type, schemaVersion, data, metadata with integrity}) and the last hash.
 */
export function chainEncodedEvents(
  key: string | Buffer | KeyObject,
  streamId: string,
  events: EncodedEvent[],
  firstRevision: number,
  previousHash: string | null,
  /** Further fields for event i, a JSON fragment ending with a comma (the batch statement's stream, revision, append number). */
  fields?: (index: number) => string,
): { json: string; lastHash: string } {
  let prev = previousHash;
  let json = '[';
  const kid = JSON.stringify(hmacKeyId(key));
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const hash = computeEventHashFromJson(key, { ...e, streamId, revision: firstRevision + i }, prev);
    const integrity = `{"alg":${JSON.stringify(HASH_ALGORITHM)},"kid":${kid},"previousHash":${JSON.stringify(prev)},"hash":${JSON.stringify(hash)}}`;
    const metadata = e.metadataJson === '{}' ? `{"integrity":${integrity}}` : `${e.metadataJson.slice(0, -1)},"integrity":${integrity}}`;
    json += `${i > 0 ? ',' : ''}{${fields ? fields(i) : ''}"id":${JSON.stringify(e.eventId)},"type":${JSON.stringify(e.type)},"schemaVersion":${JSON.stringify(e.schemaVersion)},"data":${e.dataJson},"metadata":${metadata}}`;
    prev = hash;
  }
  return { json: `${json}]`, lastHash: prev! };
}

/** Adds the hash chain to prepared events written after `previousHash` at revision `firstRevision`. */
export function chainEvents(
  key: string | Buffer,
  streamId: string,
  events: PreparedEvent[],
  firstRevision: number,
  previousHash: string | null,
): { events: Array<PreparedEvent & { metadata: RecordedMetadata }>; lastHash: string } {
  let prev = previousHash;
  const out = events.map((event, i) => {
    const integrity = integrityFor(key, { ...event, streamId, revision: firstRevision + i }, prev);
    prev = integrity.hash;
    return { ...event, metadata: { ...event.metadata, integrity } as RecordedMetadata };
  });
  return { events: out, lastHash: prev! };
}

// --- positions --------------------------------------------------------------------------------

export const START_POSITION: Position = Object.freeze({ commit: 0n, prepare: 0n });

export function comparePositions(a: Position, b: Position): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}

/** "commit/prepare", for storing a position as text (JSON, URLs, forms). */
export function encodePosition(p: Position): string {
  return `${p.commit}/${p.prepare}`;
}

export function decodePosition(s: string): Position {
  const m = /^(\d+)\/(\d+)$/.exec(s);
  if (!m) throw new InvalidEvent(`Not an encoded position: ${s}`);
  return { commit: BigInt(m[1]!), prepare: BigInt(m[2]!) };
}

// --- filters ----------------------------------------------------------------------------------

export function normalizeFilter(filter: EventFilter | undefined): EventFilter {
  const out: EventFilter = {};
  if (filter?.streamPrefixes && filter.streamPrefixes.length > 0) out.streamPrefixes = [...filter.streamPrefixes];
  if (filter?.eventTypes && filter.eventTypes.length > 0) out.eventTypes = [...filter.eventTypes];
  return out;
}

export function matchesFilter(filter: EventFilter | undefined, streamId: string, type: string): boolean {
  if (streamId.startsWith('$') || type.startsWith('$')) return false;
  if (filter?.streamPrefixes?.length && !filter.streamPrefixes.some((p) => streamId.startsWith(p))) return false;
  if (filter?.eventTypes?.length && !filter.eventTypes.includes(type)) return false;
  return true;
}

// --- expectations and group settings ---------------------------------------------------------

export function satisfies(expected: ExpectedRevision, actual: CurrentRevision): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return actual === 'no_stream';
  if (expected === 'stream_exists') return actual !== 'no_stream';
  return actual === expected;
}


export const DEFAULT_GROUP_SETTINGS: GroupSettings = {
  maxRetryCount: 10,
  messageTimeoutMs: 30_000,
  maxInFlight: 10,
  checkpointAfterMs: 1000,
};

export function resolveSettings(base: Partial<GroupSettings>, update: Partial<GroupSettings> = {}): GroupSettings {
  const s = { ...DEFAULT_GROUP_SETTINGS, ...stripUndefined(base), ...stripUndefined(update) };
  if (!Number.isInteger(s.maxRetryCount) || s.maxRetryCount < 0) throw new InvalidEvent('maxRetryCount must be an integer >= 0');
  if (!(s.messageTimeoutMs > 0)) throw new InvalidEvent('messageTimeoutMs must be > 0');
  if (!Number.isInteger(s.maxInFlight) || s.maxInFlight < 1) throw new InvalidEvent('maxInFlight must be an integer >= 1');
  if (!(s.checkpointAfterMs >= 0)) throw new InvalidEvent('checkpointAfterMs must be >= 0');
  return s;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

