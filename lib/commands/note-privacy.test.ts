/**
 * The reservation's free-text note is the patient's personal data (issue 8): encrypted under their
 * key in the log, decrypted into the reservation read model, and unreadable (read model: erased)
 * once the patient is erased. Real event store, vault, projection worker.
 */
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { reservation, streams } from '../domain';
import { monday } from '../domain/clinic/fixtures';
import { createEventStore } from '../eventstore';
import { createPersonalDataVault } from '../privacy/vault';
import { allProjections } from '../projections/registry';
import { waitForProjections } from '../projections/wait';
import { ProjectionWorker } from '../projections/worker';
import { createTestDatabase } from '../testing/db';
import type { CommandDeps } from './deps';
import { PlaintextPersonalDataError } from './errors';
import { loadStream } from './handle';
import { erasePatientData, registerPatient } from './patient';
import { bookReservation } from './reservation';
import { manualClock, patientMeta, registerTestClinic } from './testing';

const t = await createTestDatabase();
const store = await createEventStore({ databaseUrl: t.url, hmacKey: 'test-key-at-least-16-bytes', maxConnections: 8 });
const vault = createPersonalDataVault(t.sql, randomBytes(32).toString('base64'));
const worker = new ProjectionWorker({ store, database: t, projections: allProjections, log: pino({ level: 'silent' }), decryptor: vault, statusIntervalMs: 200 });
afterAll(async () => {
  await worker.stop().catch(() => {});
  await store.close();
});
const clock = manualClock('2025-03-02T00:00:00Z');
const deps: CommandDeps = { store, clock, privacy: vault };
const uid = () => randomBytes(5).toString('hex');
const NOTE = '아토피 피부염이 있어요. 지난달 레이저 후 색소침착 (pigmentation after laser)';

describe("a reservation's note is the patient's encrypted personal data", () => {
  it('given a patient books with a note, then the log never holds it in plaintext, the read model shows it, and after erasure the log is unreadable and the read model says erased', async () => {
    const clinicId = `c-${uid()}`;
    const patientId = `p-${uid()}`;
    const reservationId = `r-${uid()}`;
    await registerTestClinic(deps, clinicId);
    await registerPatient(deps, { patientId, name: '김지은', phone: '010-1234-5678', birthDate: '1991-04-12', email: 'jieun@example.com' }, patientMeta(patientId));
    const booked = await bookReservation(
      deps,
      { reservationId, clinicId, patientId, treatmentId: 'tx-consult', kind: 'consult-first', startsAt: monday('11:00'), note: NOTE },
      patientMeta(patientId, clinicId),
    );

    const raw = await t.sql`select data::text as data from es_events where stream_id = ${streams.reservation(reservationId)}`;
    expect(raw.length).toBeGreaterThan(0);
    for (const row of raw) expect(row.data).not.toContain('아토피');
    expect(JSON.parse(raw[0]!.data as string)).toMatchObject({ personal: { kind: 'encrypted' } });

    await worker.start();
    expect(await waitForProjections(booked.position!, { sql: t.sql, timeoutMs: 30_000 })).toBe('caught-up');
    const [before] = await t.sql`select note, note_erased from rm_reservations where id = ${reservationId}`;
    expect(before).toEqual({ note: NOTE, note_erased: false });

    const erased = await erasePatientData(deps, { patientId, requestedBy: 'patient', reason: 'please forget me' }, patientMeta(patientId));
    expect(await waitForProjections(erased.position!, { sql: t.sql, timeoutMs: 30_000 })).toBe('caught-up');
    const [after] = await t.sql`select note, note_erased, status from rm_reservations where id = ${reservationId}`;
    expect(after).toEqual({ note: null, note_erased: true, status: 'confirmed' });
    const loaded = await loadStream(store, reservation.reservationDecider, streams.reservation(reservationId), vault);
    const requested = loaded.events[0]!.data as { personal?: { kind: string } };
    expect(requested.personal).toEqual({ kind: 'erased' });
  });

  it('given no vault, when a patient books with a note, then the append is refused rather than storing it in plaintext', async () => {
    const clinicId = `c-${uid()}`;
    const patientId = `p-${uid()}`;
    await registerTestClinic(deps, clinicId);
    await expect(
      bookReservation(
        { store, clock },
        { reservationId: `r-${uid()}`, clinicId, patientId, treatmentId: 'tx-consult', kind: 'consult-first', startsAt: monday('14:00'), note: NOTE },
        patientMeta(patientId, clinicId),
      ),
    ).rejects.toBeInstanceOf(PlaintextPersonalDataError);
  });
});
