import { describe, expect, it } from 'vitest';
import { diffStates, flattenState, personalShape } from './state-diff';

const encrypted = (ct: string) => ({ kind: 'encrypted', alg: 'A256GCM', keyId: 'patient-p1#1', iv: 'aXY=', ct, tag: 'dGFn' });

describe('flattenState', () => {
  it('names every leaf by its path, nested objects with dots and array items by index', () => {
    const flat = flattenState({ status: 'requested', policy: { freeCancellationHours: 48, noShowForfeitsDeposit: true }, paymentIds: ['pay-1', 'pay-2'], visitId: null });
    expect([...flat.entries()]).toEqual([
      ['status', { kind: 'value', value: 'requested' }],
      ['policy.freeCancellationHours', { kind: 'value', value: 48 }],
      ['policy.noShowForfeitsDeposit', { kind: 'value', value: true }],
      ['paymentIds[0]', { kind: 'value', value: 'pay-1' }],
      ['paymentIds[1]', { kind: 'value', value: 'pay-2' }],
      ['visitId', { kind: 'value', value: null }],
    ]);
  });

  it('keeps empty containers as leaves and leaves undefined fields out', () => {
    expect([...flattenState({ paymentIds: [], consents: {}, staffId: undefined }).entries()]).toEqual([
      ['paymentIds', { kind: 'empty', container: 'array' }],
      ['consents', { kind: 'empty', container: 'object' }],
    ]);
  });

  it('hides personal data: an envelope is one leaf naming its shape, never its ciphertext or plaintext', () => {
    const flat = flattenState({ personal: [encrypted('c2VjcmV0'), { kind: 'plain', value: { name: '김민지', phone: '010-2345-6789' } }, { kind: 'erased' }] });
    expect([...flat.entries()]).toEqual([
      ['personal[0]', { kind: 'personal', shape: 'encrypted' }],
      ['personal[1]', { kind: 'personal', shape: 'plain' }],
      ['personal[2]', { kind: 'personal', shape: 'erased' }],
    ]);
    const text = JSON.stringify([...flat.values()]);
    expect(text).not.toContain('c2VjcmV0');
    expect(text).not.toContain('김민지');
    expect(text).not.toContain('010-2345-6789');
  });

  it('does not take an ordinary field called kind for personal data', () => {
    expect(personalShape({ kind: 'pay-and-book' })).toBeNull();
    expect(personalShape({ kind: 'erased', reason: 'x' })).toBeNull();
    expect(flattenState({ kind: 'consult-first' }).get('kind')).toEqual({ kind: 'value', value: 'consult-first' });
  });
});

describe('diffStates', () => {
  it('lists only the changed paths with their values before and after', () => {
    const before = { status: 'confirmed', depositPaidKrw: 50_000, feesDueKrw: 0, startsAt: '2025-03-03T02:00:00.000Z' };
    const after = { status: 'cancelled', depositPaidKrw: 50_000, feesDueKrw: 20_000, startsAt: '2025-03-03T02:00:00.000Z' };
    expect(diffStates(before, after)).toEqual([
      { path: 'status', before: { kind: 'value', value: 'confirmed' }, after: { kind: 'value', value: 'cancelled' } },
      { path: 'feesDueKrw', before: { kind: 'value', value: 0 }, after: { kind: 'value', value: 20_000 } },
    ]);
  });

  it('shows added paths (from the initial state) and removed ones', () => {
    expect(diffStates({ status: 'none' }, { status: 'requested', paymentIds: [] })).toEqual([
      { path: 'status', before: { kind: 'value', value: 'none' }, after: { kind: 'value', value: 'requested' } },
      { path: 'paymentIds', after: { kind: 'empty', container: 'array' } },
    ]);
    expect(diffStates({ consents: { marketing: { version: 'v1', at: 'x' } } }, { consents: {} })).toEqual([
      { path: 'consents', after: { kind: 'empty', container: 'object' } },
      { path: 'consents.marketing.version', before: { kind: 'value', value: 'v1' } },
      { path: 'consents.marketing.at', before: { kind: 'value', value: 'x' } },
    ]);
    expect(diffStates({ paymentIds: [] }, { paymentIds: ['pay-1'] })).toEqual([
      { path: 'paymentIds[0]', after: { kind: 'value', value: 'pay-1' } },
      { path: 'paymentIds', before: { kind: 'empty', container: 'array' } },
    ]);
  });

  it('tells a number from the same text, and null from absent', () => {
    expect(diffStates({ a: 1 }, { a: '1' })).toHaveLength(1);
    expect(diffStates({ a: null }, {})).toEqual([{ path: 'a', before: { kind: 'value', value: null } }]);
  });

  it('sees a replaced encrypted field as a change without showing either ciphertext', () => {
    const changes = diffStates({ personal: [encrypted('b2xk')] }, { personal: [encrypted('bmV3')] });
    expect(changes).toEqual([{ path: 'personal[0]', before: { kind: 'personal', shape: 'encrypted' }, after: { kind: 'personal', shape: 'encrypted' } }]);
    expect(JSON.stringify(changes)).not.toMatch(/b2xk|bmV3/);
    expect(diffStates({ personal: [encrypted('b2xk')] }, { personal: [encrypted('b2xk')] })).toEqual([]);
    expect(diffStates({ personal: [encrypted('b2xk')] }, { personal: [{ kind: 'erased' }] })).toEqual([
      { path: 'personal[0]', before: { kind: 'personal', shape: 'encrypted' }, after: { kind: 'personal', shape: 'erased' } },
    ]);
  });

  it('is empty for equal states', () => {
    const s = { status: 'captured', refunds: [{ refundId: 'r1', amountKrw: 30_000 }] };
    expect(diffStates(s, structuredClone(s))).toEqual([]);
  });
});
