/**
 * The per-process stream cache (handle.ts) keeps folded streams so the next load reads only the new
 * events. Streams with personal data must never be kept: no decrypted data stays in memory, and an
 * erasure (the key deleted) must take effect on the next load. Seen from the store: a cached stream
 * is read from a revision onwards, an uncached one from its start.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { clinic, patient, schedule, streams } from '../domain';
import { createEventStore, type EventStore } from '../eventstore';
import { createPersonalDataVault } from '../privacy/vault';
import { createTestDatabase } from '../testing/db';
import type { CommandDeps } from './deps';
import { loadStream } from './handle';
import { setSlotConfiguration } from './clinic';
import { changeContact, giveConsent, registerPatient } from './patient';
import { bookReservation } from './reservation';
import { manualClock, meta, patientMeta, registerTestClinic } from './testing';

const t = await createTestDatabase();
const store = await createEventStore({ databaseUrl: t.url, hmacKey: 'stream-cache-test-hmac-key' });
afterAll(() => store.close());
const vault = createPersonalDataVault(t.sql, randomBytes(32).toString('base64'));

/** The store, recording each readStream: which stream, from which revision (undefined: from the start). */
const reads: Array<{ streamId: string; fromRevision: number | undefined }> = [];
const watched: EventStore = Object.create(store, {
  readStream: {
    value: (streamId: string, options?: { fromRevision?: number }) => {
      reads.push({ streamId, fromRevision: options?.fromRevision });
      return store.readStream(streamId, options as never);
    },
  },
});
const deps: CommandDeps = { store: watched, clock: manualClock('2025-03-01T00:00:00Z'), privacy: vault };
const uid = () => randomBytes(5).toString('hex');
const readsOf = (streamId: string) => reads.filter((r) => r.streamId === streamId).map((r) => r.fromRevision);

describe('the stream cache', () => {
  it('keeps a stream without personal data: the next load reads only what is new', async () => {
    const clinicId = `c-${uid()}`;
    await registerTestClinic(deps, clinicId); // registers, then lists three treatments: each loads the stream
    await loadStream(watched, clinic.clinicDecider, streams.clinic(clinicId), vault);
    // Registering finds no stream; the first treatment reads it all (and caches it); each later load
    // reads only from the revision after the cached ones.
    expect(readsOf(streams.clinic(clinicId))).toEqual([undefined, undefined, 1, 2, 3]);
  });

  it('never keeps a patient stream (personal data): every load reads it from the start, and sees an erasure at once', async () => {
    const patientId = `p-${uid()}`;
    const m = patientMeta(patientId);
    await registerPatient(deps, { patientId, name: '김환자', phone: '010-1111-2222', birthDate: '1990-01-01', email: 'kim@example.com', locale: 'ko' }, m);
    await giveConsent(deps, { patientId, purpose: 'personal-data', version: 'v1' }, patientMeta(patientId));
    await changeContact(deps, { patientId, phone: '010-3333-4444' }, patientMeta(patientId));
    const loaded = await loadStream(watched, patient.patientDecider, streams.patient(patientId), vault);
    expect(JSON.stringify(loaded.state)).toContain('010-3333-4444'); // decrypted for the decider…
    expect(readsOf(streams.patient(patientId))).toEqual([undefined, undefined, undefined, undefined]); // …and never kept

    // The key deleted (crypto-shredding): the next load cannot show the data any more.
    await vault.erase(patientId);
    const after = await loadStream(watched, patient.patientDecider, streams.patient(patientId), vault);
    expect(JSON.stringify(after.state)).not.toContain('010-3333-4444');
    expect(JSON.stringify(after.state)).not.toContain('김환자');
  });

  it('a system actor’s load of the patient stream is not cached either', async () => {
    const patientId = `p-${uid()}`;
    await registerPatient(deps, { patientId, name: '이환자', phone: '010-5555-6666', birthDate: '1991-02-03', locale: 'ko' }, meta());
    await loadStream(watched, patient.patientDecider, streams.patient(patientId), vault);
    await loadStream(watched, patient.patientDecider, streams.patient(patientId), vault);
    expect(readsOf(streams.patient(patientId))).toEqual([undefined, undefined, undefined]);
  });

  it('concurrent loads of a stream share the next read, and each sees what was written before it started', async () => {
    // given a clinic, and a load of it whose read is in flight (held back, as a slow answer would be)
    const clinicId = `c-${uid()}`;
    await registerTestClinic({ store, clock: deps.clock }, clinicId, { slotCapacity: 2 });
    const clinicStream = streams.clinic(clinicId);
    let release!: () => void;
    const answer = new Promise<void>((resolve) => (release = resolve));
    let slowReads = 0;
    const slow: EventStore = Object.create(store, {
      readStream: {
        value: async (streamId: string, options?: { fromRevision?: number }) => {
          const events = await store.readStream(streamId, options as never);
          if (streamId === clinicStream && ++slowReads === 1) await answer;
          return events;
        },
      },
    });
    const inFlight = loadStream(slow, clinic.clinicDecider, clinicStream);

    // when the clinic changes, and then eight loads start
    await setSlotConfiguration({ store, clock: deps.clock }, { clinicId, slotLengthMinutes: 30, slotCapacity: 5 }, meta({ clinicId }));
    const later = Array.from({ length: 8 }, () => loadStream(slow, clinic.clinicDecider, clinicStream));
    release();

    // then the read in flight did not see the change, every later load does, and the eight cost one read
    const capacity = (l: Awaited<typeof inFlight>) => (l.state.status === 'registered' ? l.state.slotCapacity : null);
    expect(capacity(await inFlight)).toBe(2);
    expect((await Promise.all(later)).map(capacity)).toEqual(Array(8).fill(5));
    expect(slowReads).toBe(2);
  });

  it('a booking reads the clinic once, not the new reservation, and its clinic day once: the confirmation, and the next booking of the day, decide on the head the hold wrote', async () => {
    // given a clinic (its stream cached by the set-up's own commands)
    const clinicId = `c-${uid()}`;
    await registerTestClinic(deps, clinicId, { slotCapacity: 2 });
    const clinicReads = readsOf(streams.clinic(clinicId)).length;
    const book = (reservationId: string, patientId: string, startsAt: string) =>
      bookReservation(deps, { reservationId, clinicId, patientId, treatmentId: 'tx-consult', kind: 'consult-first', startsAt }, patientMeta(patientId, clinicId));

    // when a patient books Monday 10:00, and another patient then books Monday 10:30
    const first = await book(`r-${uid()}`, `p-${uid()}`, '2025-03-03T10:00:00+09:00');
    const second = await book(`r-${uid()}`, `p-${uid()}`, '2025-03-03T10:30:00+09:00');

    // then both are booked and confirmed; each read the clinic once; neither read its reservation's stream;
    // and the day was read once, by the first hold (the confirmations and the second hold decided on the head)
    expect([first.reservation.state.status, second.reservation.state.status]).toEqual(['confirmed', 'confirmed']);
    expect(readsOf(streams.clinic(clinicId)).length - clinicReads).toBe(2);
    expect(readsOf(streams.reservation(first.reservationId))).toEqual([]);
    expect(readsOf(streams.reservation(second.reservationId))).toEqual([]);
    expect(readsOf(streams.schedule(clinicId, '2025-03-03'))).toEqual([undefined]);
    const day = await loadStream(store, schedule.scheduleDecider, streams.schedule(clinicId, '2025-03-03'), undefined, { cache: false });
    expect(Object.values(day.state.holds).map((h) => [h.startsAt, h.confirmed])).toEqual([
      ['2025-03-03T01:00:00.000Z', true],
      ['2025-03-03T01:30:00.000Z', true],
    ]);
  });
});
