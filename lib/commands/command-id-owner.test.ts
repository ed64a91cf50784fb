/**
 * A command id belongs to the actor who first sent it. Found by the booking e2e test: patient B
 * posting patient A's booking form (A's command id) got A's hold back as an idempotent duplicate,
 * was refused on A's reservation, and the refusal's clean-up then released A's seat.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { monday } from '../domain/clinic/fixtures';
import { createEventStore } from '../eventstore';
import { createTestDatabase, storedEvents } from '../testing/db';
import { bookReservation } from './reservation';
import type { CommandDeps } from './deps';
import { ForbiddenError } from './errors';
import { manualClock, patientMeta, registerTestClinic } from './testing';

const t = await createTestDatabase();
const store = await createEventStore({ databaseUrl: t.url, hmacKey: 'test-key-at-least-16-bytes', maxConnections: 4 });
afterAll(() => store.close());
const deps: CommandDeps = { store, clock: manualClock('2025-03-02T00:00:00Z') };
const uid = () => randomBytes(5).toString('hex');

describe('a replayed command id of another user', () => {
  it('given patient A booked with a command id, when patient B sends the same command id, then B is refused and A keeps the seat', async () => {
    const clinicId = `c-${uid()}`;
    await registerTestClinic(deps, clinicId);
    const commandId = `cmd-${uid()}`;
    const booking = { reservationId: `r-${uid()}`, clinicId, treatmentId: 'tx-consult', kind: 'consult-first' as const, startsAt: monday('11:00') };
    await bookReservation(deps, { ...booking, patientId: 'p-a' }, { ...patientMeta('p-a', clinicId), commandId, correlationId: commandId, causationId: commandId });
    const before = await storedEvents(t.sql);

    await expect(
      bookReservation(deps, { ...booking, patientId: 'p-b' }, { ...patientMeta('p-b', clinicId), commandId, correlationId: commandId, causationId: commandId }),
    ).rejects.toBeInstanceOf(ForbiddenError);

    expect(await storedEvents(t.sql)).toEqual(before);
    expect((await storedEvents(t.sql, { type: 'SlotReleased' })).count).toBe(0);
  });

  it('given A sent a command id, when A sends it again, then A gets the first result (idempotency still holds for its owner)', async () => {
    const clinicId = `c-${uid()}`;
    await registerTestClinic(deps, clinicId);
    const commandId = `cmd-${uid()}`;
    const input = { reservationId: `r-${uid()}`, clinicId, patientId: 'p-a', treatmentId: 'tx-consult', kind: 'consult-first' as const, startsAt: monday('12:00') };
    const m = { ...patientMeta('p-a', clinicId), commandId, correlationId: commandId, causationId: commandId };
    await bookReservation(deps, input, m);
    const again = await bookReservation(deps, input, m);
    expect(again.duplicate).toBe(true);
  });
});
