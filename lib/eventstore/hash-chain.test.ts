import { describe, expect, it } from 'vitest';
import { chainEncodedEvents, chainEvents, encodeEventsForAppend, metadataProblem, newEventId, prepareEvents } from './envelope';
import { InvalidEvent } from './errors';
import { canonicalJson, canonicalParsedJson, canonicalStoredJson, computeEventHash, hmacKeyId, hmacKeyObject, toStoredJson, verifyStreamEvents } from './hash-chain';
import { ev } from './testing/contract';

const KEY = 'unit-test-key-unit-test-key';

function stream(n: number) {
  const events = prepareEvents('visit-1', Array.from({ length: n }, (_, i) => ev('Step', { i })));
  return chainEvents(KEY, 'visit-1', events, 0, null).events.map((e, revision) => ({ ...e, streamId: 'visit-1', revision }));
}

describe('hash chain', () => {
  it('canonical JSON sorts keys at every level and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[1,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson({ k: '한국어' })).toBe('{"k":"한국어"}');
  });

  it('chains each event to the previous hash, keyed', () => {
    const events = stream(3);
    expect(events[0]!.metadata.integrity.previousHash).toBeNull();
    expect(events[1]!.metadata.integrity.previousHash).toBe(events[0]!.metadata.integrity.hash);
    expect(verifyStreamEvents(KEY, 'visit-1', events).broken).toBeNull();
    const otherKey = computeEventHash('another-key-another-key', events[0]!, null);
    expect(otherKey).not.toBe(events[0]!.metadata.integrity.hash);
  });

  it('reports the first broken link with what it expected and found', () => {
    const events = stream(4);
    const tampered = events.map((e, i) => (i === 2 ? { ...e, data: { i: 99 } } : e));
    const { broken } = verifyStreamEvents(KEY, 'visit-1', tampered);
    expect(broken).toMatchObject({ revision: 2, problem: 'hash-mismatch', found: events[2]!.metadata.integrity.hash });
    expect(broken!.expected).not.toBe(broken!.found);

    const removed = verifyStreamEvents(KEY, 'visit-1', [events[0]!, events[2]!]).broken;
    expect(removed).toMatchObject({ revision: 2, problem: 'revision-gap' });

    const relinked = events.map((e, i) => (i === 1 ? { ...e, metadata: { ...e.metadata, integrity: { ...e.metadata.integrity, previousHash: 'x' } } } : e));
    expect(verifyStreamEvents(KEY, 'visit-1', relinked).broken).toMatchObject({ revision: 1, problem: 'previous-hash-mismatch', expected: events[0]!.metadata.integrity.hash, found: 'x' });

    const truncated = verifyStreamEvents(KEY, 'visit-1', events.slice(0, 3), { revision: 3, hash: events[3]!.metadata.integrity.hash });
    expect(truncated.broken).toMatchObject({ problem: 'head-mismatch' });
  });
});

describe('append path encoding (one-pass canonical JSON)', () => {
  class WithToJson {
    constructor(readonly at: Date) {}
    toJSON(key: string) {
      return { key, at: this.at };
    }
  }
  const tricky: unknown[] = [
    { b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } },
    { date: new Date('2026-01-02T03:04:05.678Z'), nested: [new Date(0), undefined, () => 1, Symbol('s'), NaN, Infinity, -0, null] },
    { f: () => 1, s: Symbol('x'), u: undefined, n: -Infinity, neg: -0, big: 1e21, small: 5e-7, exp: 1.5e300 },
    { wrappers: [Object(1), Object('s'), Object(true)], obj: new WithToJson(new Date(5)), arr: [new WithToJson(new Date(6))] },
    { '10': 'a', '2': 'b', b: 'c', A: 'd', é: 'e', '한': 'f', '': 'g', 'a"b': 'h', '\u2028': 'i', lone: '\ud800x' },
    { map: new Map([[1, 2]]), set: new Set([1]), sparse: [1, , 3], typed: new Uint8Array([1, 2]) },
    { deep: { a: { b: { c: [[[{ y: 1, x: [] }]]] } } }, emptyObj: {}, emptyArr: [] },
  ];

  it('canonicalStoredJson = canonicalJson(toStoredJson(x))', () => {
    for (const value of tricky) expect(canonicalStoredJson(value)).toBe(canonicalJson(toStoredJson(value)));
    expect(() => canonicalStoredJson({ n: 1n })).toThrow(TypeError);
  });

  it("canonicalParsedJson (the verifier's) = canonicalJson on stored JSON, and leaves out the key it is told to", () => {
    for (const value of tricky) expect(canonicalParsedJson(toStoredJson(value))).toBe(canonicalJson(toStoredJson(value)));
    expect(canonicalParsedJson({ b: 1, integrity: { hash: 'x' }, a: { integrity: 2 } }, 'integrity')).toBe('{"a":{"integrity":2},"b":1}');
  });

  it('encodes, chains and hashes exactly as prepareEvents + chainEvents do', () => {
    const events = tricky.map((data, i) => {
      const e = ev(`T${i}`, data as never);
      return { ...e, eventId: newEventId().toUpperCase(), metadata: { ...e.metadata, when: new Date(1000 * i), skip: undefined, $ok: undefined } as never };
    }).map((e) => {
      const { $ok: _x, ...metadata } = e.metadata as Record<string, unknown>;
      return { ...e, metadata: metadata as never };
    });
    const reference = chainEvents(KEY, 'visit-2', prepareEvents('visit-2', events), 7, 'previous-hash');
    const encoded = chainEncodedEvents(hmacKeyObject(KEY), 'visit-2', encodeEventsForAppend('visit-2', events), 7, 'previous-hash');
    expect(encoded.lastHash).toBe(reference.lastHash);
    const written = JSON.parse(encoded.json) as Array<{ id: string; type: string; schemaVersion: number; data: unknown; metadata: unknown }>;
    expect(written).toEqual(reference.events.map((e) => ({ id: e.eventId, type: e.type, schemaVersion: e.schemaVersion, data: e.data, metadata: e.metadata })));
    const recorded = written.map((w, i) => ({ streamId: 'visit-2', revision: 7 + i, eventId: w.id, type: w.type, schemaVersion: w.schemaVersion, data: w.data as never, metadata: w.metadata as { integrity: { hash: string } } & Record<string, never> }));
    for (const [i, r] of recorded.entries()) {
      expect(computeEventHash(KEY, r, i === 0 ? 'previous-hash' : recorded[i - 1]!.metadata.integrity.hash)).toBe(r.metadata.integrity.hash);
    }
  });

  it('names the chaining key in each event (kid), and after a rotation verifies old and new events with the keys held', () => {
    const NEW_KEY = 'rotated-key-rotated-key-2027';
    const old = stream(2);
    expect(old[0]!.metadata.integrity.kid).toBe(hmacKeyId(KEY));
    expect(hmacKeyId(KEY)).not.toContain(KEY.slice(0, 8));
    // Events appended after the rotation are chained with the new key, onto the old chain.
    const appended = chainEvents(NEW_KEY, 'visit-1', prepareEvents('visit-1', [ev('Step', { i: 2 })]), 2, old[1]!.metadata.integrity.hash).events.map((e) => ({
      ...e,
      streamId: 'visit-1',
      revision: 2,
    }));
    expect(appended[0]!.metadata.integrity.kid).toBe(hmacKeyId(NEW_KEY));
    const all = [...old, ...appended];
    expect(verifyStreamEvents([NEW_KEY, KEY], 'visit-1', all).broken).toBeNull();
    // Without the old key, the first old event is reported, naming its key id.
    expect(verifyStreamEvents(NEW_KEY, 'visit-1', all).broken).toMatchObject({ revision: 0, problem: 'hash-mismatch', found: `key id ${hmacKeyId(KEY)}` });
    // The key id cannot be used to pass a forged event off under another key: the hash must still match that key.
    const forged = all.map((e, i) => (i === 2 ? { ...e, data: { i: 99 }, metadata: { ...e.metadata, integrity: { ...e.metadata.integrity, kid: hmacKeyId(KEY) } } } : e));
    expect(verifyStreamEvents([NEW_KEY, KEY], 'visit-1', forged).broken).toMatchObject({ revision: 2, problem: 'hash-mismatch' });
    // Events from before key ids (no kid) verify with any key held.
    const legacy = old.map((e) => ({ ...e, metadata: { ...e.metadata, integrity: { alg: e.metadata.integrity.alg, previousHash: e.metadata.integrity.previousHash, hash: e.metadata.integrity.hash } } }));
    expect(verifyStreamEvents([NEW_KEY, KEY], 'visit-1', legacy).broken).toBeNull();
  });

  it('checks metadata as before: actor {id, role} and occurredAt required, ids string or null, $ keys reserved', () => {
    const ok = ev('A').metadata;
    expect(metadataProblem(ok)).toBeNull();
    expect(metadataProblem({ ...ok, extra: { any: 1 }, commandId: null, ip: undefined })).toBeNull();
    for (const bad of [null, [], 'x', { ...ok, actor: undefined }, { ...ok, actor: { id: '', role: 'r' } }, { ...ok, actor: { id: 'i' } },
      { ...ok, occurredAt: '' }, { ...ok, occurredAt: 1 }, { ...ok, commandId: 1 }, { ...ok, userAgent: {} }]) {
      expect(metadataProblem(bad)).not.toBeNull();
    }
    expect(() => encodeEventsForAppend('s', [{ ...ev('A'), metadata: { ...ok, integrity: 1, $x: 1 } as never }])).toThrow(InvalidEvent);
    expect(() => prepareEvents('s', [{ ...ev('A'), metadata: { ...ok, $x: 1 } as never }])).toThrow(InvalidEvent);
  });
});
