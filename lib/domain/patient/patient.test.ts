import { describe, expect, it } from 'vitest';
import { AlreadyExistsError, NotFoundError } from '../shared/errors';
import { spec } from '../shared/testing';
import {
  ERASED,
  hasConsent,
  hasPlaintextPersonal,
  mapPersonal,
  mapPersonalAsync,
  patientDecider,
  patientEvent as ev,
  PatientErasedError,
  patientPersonal,
  upcastPatientEvent,
  type PatientEvent,
  type PersonalField,
} from './index';

const { given } = spec(patientDecider);
const ctx = { now: new Date('2025-03-01T00:00:00Z') };
const AT = '2025-03-01T00:00:00.000Z';

const registered = ev('PatientRegistered', {
  patientId: 'p1',
  locale: 'ko',
  personal: { kind: 'plain', value: { name: '김민지', phone: '010-1234-5678', birthDate: '1994-05-17' } },
});
const consent = ev('ConsentGiven', { patientId: 'p1', purpose: 'personal-data', version: '2025-01', at: AT });
const erased = ev('PatientDataErased', { patientId: 'p1', requestedBy: 'patient', reason: 'PIPA erasure request', at: AT });

/** A stand-in for the command layer's cipher (the real one is AES-256-GCM with the patient's key). */
const keys = new Map<string, string>([['patient-p1#1', 'k']]);
const encrypt = (f: PersonalField): PersonalField =>
  f.kind === 'plain'
    ? { kind: 'encrypted', alg: 'A256GCM', keyId: 'patient-p1#1', iv: 'AAAA', ct: Buffer.from(JSON.stringify(f.value)).toString('base64'), tag: 'BBBB' }
    : f;
const decrypt = (f: PersonalField): PersonalField =>
  f.kind !== 'encrypted' ? f : keys.has(f.keyId) ? { kind: 'plain', value: JSON.parse(Buffer.from(f.ct, 'base64').toString()) } : ERASED;

describe('patient', () => {
  it('registers a patient, personal data as a plain PersonalField for the command layer to encrypt', () => {
    given([])
      .when({ type: 'RegisterPatient', patientId: 'p1', name: '김민지', phone: '010-1234-5678', birthDate: '1994-05-17' }, ctx)
      .then([registered]);
    given([registered])
      .when({ type: 'RegisterPatient', patientId: 'p1', name: 'x', phone: '010-0000-0000', birthDate: '2000-01-01' }, ctx)
      .thenThrows(AlreadyExistsError, { code: 'patient.already_exists' });
  });

  it('changes contact details; the view merges them', () => {
    const changed = ev('ContactChanged', { patientId: 'p1', personal: { kind: 'plain', value: { phone: '010-9999-0000' } } });
    given([registered]).when({ type: 'ChangeContact', phone: '010-9999-0000' }, ctx).then([changed]);
    expect(patientPersonal(given([registered, changed]).state)).toEqual({
      status: 'available',
      data: { name: '김민지', phone: '010-9999-0000', birthDate: '1994-05-17' },
    });
    expect(() => patientDecider.commandSchema.parse({ type: 'ChangeContact' })).toThrow();
  });

  it('gives and withdraws consent (idempotently)', () => {
    given([registered]).when({ type: 'GiveConsent', purpose: 'personal-data', version: '2025-01' }, ctx).then([consent]);
    given([registered, consent]).when({ type: 'GiveConsent', purpose: 'personal-data', version: '2025-01' }, ctx).then([]);
    given([registered, consent])
      .when({ type: 'WithdrawConsent', purpose: 'personal-data' }, ctx)
      .thenState((s, evs) => {
        expect(evs).toEqual([ev('ConsentWithdrawn', { patientId: 'p1', purpose: 'personal-data', at: AT })]);
        expect(hasConsent(s, 'personal-data')).toBe(false);
      });
    given([registered]).when({ type: 'WithdrawConsent', purpose: 'marketing' }, ctx).then([]);
    expect(hasConsent(given([registered, consent]).state, 'personal-data')).toBe(true);
  });

  it('erases the data; afterwards it reads as erased and nothing else can change', () => {
    given([registered, consent])
      .when({ type: 'ErasePatientData', requestedBy: 'patient', reason: 'PIPA erasure request' }, ctx)
      .then([erased]);
    const after = given([registered, consent, erased]);
    expect(patientPersonal(after.state)).toEqual({ status: 'erased' });
    expect(hasConsent(after.state, 'personal-data')).toBe(false);
    after.when({ type: 'ChangeContact', phone: '010-1111-2222' }, ctx).thenThrows(PatientErasedError, { code: 'patient.erased' });
    after.when({ type: 'GiveConsent', purpose: 'marketing', version: '1' }, ctx).thenThrows(PatientErasedError);
    after.when({ type: 'ErasePatientData', requestedBy: 'admin', reason: 'again' }, ctx).then([]);
    given([]).when({ type: 'ErasePatientData', requestedBy: 'admin', reason: 'x' }, ctx).thenThrows(NotFoundError);
  });

  describe('encryption path (command layer, simulated)', () => {
    it('encrypts before append, decrypts after read; a shredded key reads as erased, never an error', () => {
      const stored = mapPersonal(registered, encrypt);
      expect(hasPlaintextPersonal(registered)).toBe(true);
      expect(hasPlaintextPersonal(stored)).toBe(false);
      expect(JSON.stringify(stored)).not.toContain('010-1234-5678');
      expect(hasPlaintextPersonal(consent)).toBe(false);
      expect(mapPersonal(consent, encrypt)).toBe(consent);

      const readBack = mapPersonal(upcastPatientEvent(JSON.parse(JSON.stringify(stored))), decrypt);
      expect(readBack).toEqual(registered);

      keys.delete('patient-p1#1'); // crypto-shredding after PatientDataErased
      const afterShred = [stored, consent, erased].map((e) => mapPersonal(upcastPatientEvent(e), decrypt)) as PatientEvent[];
      expect(afterShred[0]?.type === 'PatientRegistered' && afterShred[0].data.personal).toEqual(ERASED);
      const state = afterShred.reduce(patientDecider.evolve, patientDecider.initialState());
      expect(patientPersonal(state)).toEqual({ status: 'erased' });
      // Even a history without the erasure event (key lost) folds and reads as erased.
      expect(patientPersonal(afterShred.slice(0, 2).reduce(patientDecider.evolve, patientDecider.initialState()))).toEqual({ status: 'erased' });
    });

    it('a still-encrypted field reads as "encrypted", not as data', async () => {
      const stored = await mapPersonalAsync(registered, async (f) => encrypt(f));
      expect(patientPersonal(given([stored]).state)).toEqual({ status: 'encrypted' });
    });
  });

  describe('upcasting', () => {
    it('PatientRegistered v1 (plaintext top-level fields) reads as v2 with a plain PersonalField', () => {
      expect(
        upcastPatientEvent({
          type: 'PatientRegistered',
          schemaVersion: 1,
          data: { patientId: 'p1', name: '김민지', phone: '010-1234-5678', birthDate: '1994-05-17' },
        }),
      ).toEqual(registered);
    });
  });
});
