/**
 * An immutable map from string keys with structural sharing, for the state of hot streams (a clinic
 * day's holds): `set` and `remove` return a new map that shares all but one bucket with the old one,
 * so an event costs O(size / BUCKETS + BUCKETS) instead of a copy of every entry. Insertion order is
 * kept as a plain object keeps it (a key set again keeps its place; one removed and set again goes
 * last), so a map turned into a record (`toRecord`) reads as the object an evolver spreading records
 * would have built. Pure: never mutated after it is made.
 */
const BUCKETS = 32;

interface Entry<V> {
  readonly key: string;
  readonly value: V;
  /** Insertion order. */
  readonly seq: number;
}

export interface SharedMap<V> {
  readonly size: number;
  /** BUCKETS buckets of entries (small arrays), by the key's hash. */
  readonly buckets: ReadonlyArray<ReadonlyArray<Entry<V>>>;
  readonly nextSeq: number;
}

const NO_ENTRIES: ReadonlyArray<never> = Object.freeze([]);
const EMPTY: SharedMap<never> = Object.freeze({ size: 0, buckets: Object.freeze(Array.from({ length: BUCKETS }, () => NO_ENTRIES)), nextSeq: 0 });

export function emptyMap<V>(): SharedMap<V> {
  return EMPTY;
}

function bucketOf(key: string): number {
  // FNV-1a over the UTF-16 code units.
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % BUCKETS;
}

export function mapGet<V>(map: SharedMap<V>, key: string): V | undefined {
  for (const e of map.buckets[bucketOf(key)]!) if (e.key === key) return e.value;
  return undefined;
}

export function mapSet<V>(map: SharedMap<V>, key: string, value: V): SharedMap<V> {
  const b = bucketOf(key);
  const bucket = map.buckets[b]!;
  const at = bucket.findIndex((e) => e.key === key);
  const buckets = map.buckets.slice();
  if (at >= 0) {
    const next = bucket.slice();
    next[at] = { key, value, seq: bucket[at]!.seq };
    buckets[b] = next;
    return { size: map.size, buckets, nextSeq: map.nextSeq };
  }
  buckets[b] = [...bucket, { key, value, seq: map.nextSeq }];
  return { size: map.size + 1, buckets, nextSeq: map.nextSeq + 1 };
}

export function mapRemove<V>(map: SharedMap<V>, key: string): SharedMap<V> {
  const b = bucketOf(key);
  const bucket = map.buckets[b]!;
  const at = bucket.findIndex((e) => e.key === key);
  if (at < 0) return map;
  const buckets = map.buckets.slice();
  buckets[b] = bucket.filter((_, i) => i !== at);
  return { size: map.size - 1, buckets, nextSeq: map.nextSeq };
}

/** Every value, in no particular order (for counting). */
export function* mapValues<V>(map: SharedMap<V>): Generator<V> {
  for (const bucket of map.buckets) for (const e of bucket) yield e.value;
}

/** The entries in insertion order. */
export function mapEntries<V>(map: SharedMap<V>): Array<[string, V]> {
  const all: Entry<V>[] = [];
  for (const bucket of map.buckets) for (const e of bucket) all.push(e);
  all.sort((a, b) => a.seq - b.seq);
  return all.map((e) => [e.key, e.value]);
}

/** A frozen plain record of the map, in insertion order. */
export function toRecord<V>(map: SharedMap<V>): Readonly<Record<string, V>> {
  return Object.freeze(Object.fromEntries(mapEntries(map)));
}

/** The map of a plain record (its own keys, in their order). */
export function fromRecord<V>(record: Readonly<Record<string, V>>): SharedMap<V> {
  let map = emptyMap<V>();
  for (const key of Object.keys(record)) map = mapSet(map, key, record[key]!);
  return map;
}
