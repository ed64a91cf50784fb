/**
 * Tamper evidence, shared by both backends (pure: no I/O).
 *
 * Every event carries in metadata.integrity an HMAC-SHA-256 over the canonical JSON of the fields
 * that matter (stream, revision, event id, type, schema version, data, the writer's metadata) and the
 * previous event's hash in the same stream. Changing, removing or reordering any event therefore breaks
 * the chain from there on, and because the hash is keyed, nobody without the key can recompute a
 * consistent chain after tampering. The store's own fields (position, recordedAt) are not covered:
 * they are assigned by the backend after the hash is computed; occurredAt (in metadata) is covered.
 */
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { BrokenLink, EventMetadata, IntegrityMetadata, JsonObject, JsonValue, Position, RecordedEvent } from './types';

export const HASH_ALGORITHM = 'HMAC-SHA-256/v1';

/** The JSON a value becomes once stored (undefined properties dropped, Dates as ISO strings...). */
export function toStoredJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Deterministic JSON: object keys sorted (by UTF-16 code units), no whitespace. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const out = JSON.stringify(value);
    if (out === undefined) throw new TypeError(`canonicalJson: ${typeof value} is not JSON`);
    return out;
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const keys = Object.keys(value)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

/**
 * canonicalJson(toStoredJson(value)) in one pass, without building the intermediate copy: JSON.stringify's
 * rules (toJSON, wrapper objects, undefined / functions / symbols dropped in objects and null in
 * arrays, non-finite numbers as null, BigInt refused) with the keys sorted. Used on the append path,
 * where the same string is both hashed and sent to the database.
 */
export function canonicalStoredJson(value: unknown): string {
  const out = serializeStored(value, '');
  if (out === undefined) throw new TypeError(`canonicalStoredJson: ${typeof value} is not JSON`);
  return out;
}

function serializeStored(input: unknown, key: string): string | undefined {
  let value = input;
  if ((typeof value === 'object' && value !== null) || typeof value === 'bigint') {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') value = toJSON.call(value, key);
  }
  if (typeof value === 'object' && value !== null) {
    if (value instanceof Number) value = Number(value);
    else if (value instanceof String) value = String(value);
    else if (value instanceof Boolean || value instanceof BigInt) value = value.valueOf();
  }
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'bigint':
      throw new TypeError('Do not know how to serialize a BigInt');
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let s = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) s += ',';
          s += serializeStored(value[i], String(i)) ?? 'null';
        }
        return `${s}]`;
      }
      const keys = Object.keys(value).sort();
      let s = '{';
      let first = true;
      for (const k of keys) {
        const v = serializeStored((value as Record<string, unknown>)[k], k);
        if (v === undefined) continue;
        s += `${first ? '' : ','}${JSON.stringify(k)}:${v}`;
        first = false;
      }
      return `${s}}`;
    }
    default:
      return undefined; // undefined, function, symbol
  }
}

export interface ChainInput {
  streamId: string;
  revision: number;
  eventId: string;
  type: string;
  schemaVersion: number;
  data: JsonObject;
  /** The writer's metadata, without `integrity`. */
  metadata: EventMetadata | Record<string, JsonValue>;
}

function stripIntegrity(metadata: ChainInput['metadata']): Record<string, unknown> {
  const { integrity: _integrity, ...rest } = metadata as Record<string, unknown>;
  return rest;
}

export function computeEventHash(key: string | Buffer, event: ChainInput, previousHash: string | null): string {
  const payload = canonicalJson({
    v: 1,
    previousHash,
    streamId: event.streamId,
    revision: event.revision,
    eventId: event.eventId.toLowerCase(),
    type: event.type,
    schemaVersion: event.schemaVersion,
    data: event.data,
    metadata: stripIntegrity(event.metadata),
  });
  return createHmac('sha256', key).update(payload, 'utf8').digest('base64url');
}

/** An event whose data and metadata (without integrity) are already canonical stored JSON. */
export interface ChainJsonInput {
  streamId: string;
  revision: number;
  /** Lower case. */
  eventId: string;
  type: string;
  schemaVersion: number;
  dataJson: string;
  metadataJson: string;
}

/**
 * computeEventHash for an event given as canonical JSON (canonicalStoredJson of its data and of its
 * metadata without integrity): the same bytes are hashed, assembled without re-serialising.
 */
export function computeEventHashFromJson(key: string | Buffer | KeyObject, event: ChainJsonInput, previousHash: string | null): string {
  // canonicalJson's key order: data, eventId, metadata, previousHash, revision, schemaVersion, streamId, type, v.
  const payload =
    `{"data":${event.dataJson},"eventId":${JSON.stringify(event.eventId)},"metadata":${event.metadataJson},` +
    `"previousHash":${JSON.stringify(previousHash)},"revision":${JSON.stringify(event.revision)},` +
    `"schemaVersion":${JSON.stringify(event.schemaVersion)},"streamId":${JSON.stringify(event.streamId)},` +
    `"type":${JSON.stringify(event.type)},"v":1}`;
  return createHmac('sha256', key).update(payload, 'utf8').digest('base64url');
}

/** The HMAC key as a KeyObject (a string key is taken as its UTF-8 bytes, as createHmac does). */
export function hmacKeyObject(key: string | Buffer): KeyObject {
  return createSecretKey(typeof key === 'string' ? Buffer.from(key, 'utf8') : key);
}

/**
 * A short public name of an HMAC key (a keyed hash of a fixed text: it reveals nothing of the key),
 * written into each event's integrity metadata as `kid`, so that after a key rotation the verifier,
 * holding the current key and the earlier ones, knows which key an event was chained with.
 * docs/security.md describes the rotation.
 */
const keyIds = new Map<string, string>();
export function hmacKeyId(key: string | Buffer | KeyObject): string {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.isBuffer(key) ? key : key.export();
  const cacheKey = bytes.toString('base64');
  let id = keyIds.get(cacheKey);
  if (!id) {
    id = createHmac('sha256', bytes).update('yeyak event hmac key id', 'utf8').digest('base64url').slice(0, 16);
    keyIds.set(cacheKey, id);
  }
  return id;
}

export function integrityFor(key: string | Buffer, event: ChainInput, previousHash: string | null): IntegrityMetadata {
  return { alg: HASH_ALGORITHM, kid: hmacKeyId(key), previousHash, hash: computeEventHash(key, event, previousHash) };
}

/** The key that writes (first) and the earlier ones a verifier still accepts, by key id. */
export type HmacKeys = string | Buffer | readonly (string | Buffer)[];

class Keyring {
  readonly byId = new Map<string, KeyObject>();
  readonly all: readonly KeyObject[];
  constructor(keys: HmacKeys) {
    const list = typeof keys === 'string' || Buffer.isBuffer(keys) ? [keys] : keys;
    // KeyObjects, prepared once: createHmac with a string key imports it again on every call.
    this.all = list.map(hmacKeyObject);
    list.forEach((key, i) => this.byId.set(hmacKeyId(key), this.all[i]!));
  }
}

/** One keyring per key set (a verifier is made per stream; a whole-log check makes thousands). */
const keyrings = new Map<string, Keyring>();
const keyringsByList = new WeakMap<readonly (string | Buffer)[], Keyring>();
function keyringFor(keys: HmacKeys): Keyring {
  if (typeof keys === 'string') {
    let ring = keyrings.get(keys);
    if (!ring) keyrings.set(keys, (ring = new Keyring(keys)));
    return ring;
  }
  if (Buffer.isBuffer(keys)) return new Keyring(keys);
  let ring = keyringsByList.get(keys);
  if (!ring) keyringsByList.set(keys, (ring = new Keyring(keys)));
  return ring;
}

/**
 * canonicalJson of a value parsed from stored JSON (no undefined, no toJSON, finite numbers), in one
 * loop without intermediate arrays: the verifier's hot path. `skip` leaves out one top-level key
 * (metadata's `integrity`). Byte-identical to canonicalJson on such values (unit tested).
 */
export function canonicalParsedJson(value: unknown, skip?: string): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let s = '[';
    for (let i = 0; i < value.length; i++) s += (i > 0 ? ',' : '') + (value[i] === undefined ? 'null' : canonicalParsedJson(value[i]));
    return `${s}]`;
  }
  const keys = Object.keys(value).sort();
  let s = '{';
  let first = true;
  for (const k of keys) {
    if (k === skip) continue;
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined) continue;
    s += `${first ? '' : ','}${JSON.stringify(k)}:${canonicalParsedJson(v)}`;
    first = false;
  }
  return `${s}}`;
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** What a verifier needs of a stored event. */
export type VerifiableEvent = Pick<RecordedEvent, 'streamId' | 'revision' | 'eventId' | 'type' | 'schemaVersion' | 'data'> & {
  metadata: Record<string, unknown>;
  position?: Position;
};

/**
 * Incremental verifier for one stream: feed its events in revision order, get the first broken link.
 * `expectedHead` (optional) is the hash the backend records as the stream's last one, which detects a
 * removed tail.
 */
export class StreamChainVerifier {
  private previousHash: string | null = null;
  private nextRevision = 0;
  count = 0;
  private readonly keys: Keyring;
  /**
   * `from`: continue a stream whose earlier events another verifier checked (a log walked in parts):
   * the revision and previous hash its next event must have.
   */
  constructor(
    keys: HmacKeys,
    readonly streamId: string,
    from?: { revision: number; previousHash: string | null },
  ) {
    this.keys = keyringFor(keys);
    if (from) {
      this.nextRevision = from.revision;
      this.previousHash = from.previousHash;
    }
  }

  /** Where the chain stands: the revision and hash of the last event checked. */
  get last(): { revision: number; hash: string | null } {
    return { revision: this.nextRevision - 1, hash: this.previousHash };
  }

  check(event: VerifiableEvent): BrokenLink | null {
    this.count++;
    const link = (problem: BrokenLink['problem'], expected: string, found: string): BrokenLink => ({
      streamId: event.streamId,
      revision: event.revision,
      eventId: event.eventId,
      position: event.position,
      problem,
      expected,
      found,
    });
    if (event.streamId !== this.streamId) return link('hash-mismatch', `stream ${this.streamId}`, `stream ${event.streamId}`);
    if (event.revision !== this.nextRevision) {
      return link('revision-gap', `revision ${this.nextRevision}`, `revision ${event.revision}`);
    }
    const integrity = event.metadata.integrity as Partial<IntegrityMetadata> | undefined;
    if (!integrity || typeof integrity.hash !== 'string') {
      return link('missing-integrity', 'metadata.integrity with a hash', JSON.stringify(integrity ?? null));
    }
    if ((integrity.previousHash ?? null) !== this.previousHash) {
      return link('previous-hash-mismatch', String(this.previousHash), String(integrity.previousHash ?? null));
    }
    // The same bytes computeEventHash hashes, serialised once for all the candidate keys.
    const input: ChainJsonInput = {
      streamId: event.streamId,
      revision: event.revision,
      eventId: event.eventId.toLowerCase(),
      type: event.type,
      schemaVersion: event.schemaVersion,
      dataJson: canonicalParsedJson(event.data),
      metadataJson: canonicalParsedJson(event.metadata, 'integrity'),
    };
    // The key named by the event's key id; events from before key ids: any of the keys held.
    let candidates: readonly KeyObject[];
    if (typeof integrity.kid === 'string') {
      const key = this.keys.byId.get(integrity.kid);
      if (!key) return link('hash-mismatch', `a key among ${[...this.keys.byId.keys()].join(', ')}`, `key id ${integrity.kid}`);
      candidates = [key];
    } else {
      candidates = this.keys.all;
    }
    let recomputed = '';
    let matched = false;
    for (const key of candidates) {
      recomputed = computeEventHashFromJson(key, input, this.previousHash);
      if (sameHash(recomputed, integrity.hash)) {
        matched = true;
        break;
      }
    }
    if (!matched) return link('hash-mismatch', recomputed, integrity.hash);
    this.previousHash = integrity.hash;
    this.nextRevision++;
    return null;
  }

  /** After the last event: does the backend's recorded head match where the chain ended? */
  checkHead(head: { revision: number; hash: string } | undefined): BrokenLink | null {
    if (!head) return null;
    if (head.revision === this.nextRevision - 1 && this.previousHash !== null && sameHash(head.hash, this.previousHash)) return null;
    return {
      streamId: this.streamId,
      revision: head.revision,
      eventId: '',
      position: undefined,
      problem: 'head-mismatch',
      expected: `head at revision ${head.revision} with hash ${head.hash}`,
      found: `chain ends at revision ${this.nextRevision - 1} with hash ${String(this.previousHash)}`,
    };
  }
}

/** Verifies a whole stream given in revision order. */
export function verifyStreamEvents(
  key: HmacKeys,
  streamId: string,
  events: Iterable<VerifiableEvent>,
  head?: { revision: number; hash: string },
): { broken: BrokenLink | null; count: number } {
  const verifier = new StreamChainVerifier(key, streamId);
  for (const event of events) {
    const broken = verifier.check(event);
    if (broken) return { broken, count: verifier.count };
  }
  return { broken: verifier.checkHead(head), count: verifier.count };
}
