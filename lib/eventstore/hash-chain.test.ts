import { describe, expect, it } from 'vitest';
import { chainEvents, prepareEvents } from './envelope';
import { canonicalJson, computeEventHash, verifyStreamEvents } from './hash-chain';
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
