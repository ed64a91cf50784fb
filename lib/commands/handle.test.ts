import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { clinic, DomainError, patient, streams } from '../domain';
import { AlreadyExistsError } from '../domain/shared/errors';
import { createEventStore, StreamNotFound, type EventStore } from '../eventstore';
import { createPersonalDataVault } from '../privacy/vault';
import { createTestDatabase } from '../testing/db';
import { registerClinic } from './clinic';
import type { CommandDeps } from './deps';
import { CommandIdReusedError, ConcurrencyConflict, InvalidCommandError, PlaintextPersonalDataError } from './errors';
import { handle, loadStream } from './handle';
import { requestOrigin } from '../runtime/request-origin';
import { commandMetadata, followUpMetadata } from './metadata';
import { registerPatient } from './patient';
import { manualClock, meta } from './testing';
import { OPENING_HOURS, POLICY } from '../domain/clinic/fixtures';

const t = await createTestDatabase();
const store = await createEventStore({ databaseUrl: t.url, hmacKey: 'test-key-at-least-16-bytes', maxConnections: 8 });
afterAll(() => store.close());
const clock = manualClock('2025-03-01T00:00:00Z');
const deps: CommandDeps = { store, clock };

const uid = () => randomBytes(5).toString('hex');
const register = (clinicId: string) => ({
  type: 'RegisterClinic' as const,
  clinicId,
  name: 'Handler test clinic',
  openingHours: OPENING_HOURS,
  slotLengthMinutes: 30,
  slotCapacity: 2,
  policy: POLICY,
});

async function streamLength(s: EventStore, streamId: string): Promise<number> {
  try {
    return (await s.readStream(streamId)).length;
  } catch (e) {
    if (e instanceof StreamNotFound) return 0;
    throw e;
  }
}

describe('handle (generic command handler)', () => {
  it('loads, decides, appends with the expected revision and returns the position and metadata', async () => {
    const id = `c-${uid()}`;
    const m = commandMetadata({ actor: { id: 'admin-1', role: 'admin' }, clinicId: id, ip: '198.51.100.1', userAgent: 'ua/1' });
    const result = await registerClinic(deps, register(id), m);
    expect(result.duplicate).toBe(false);
    expect(result.nextExpectedRevision).toBe(0);
    expect(result.position).not.toBeNull();
    expect(result.events.map((e) => e.type)).toEqual(['ClinicRegistered']);
    const [stored] = await store.readStream(streams.clinic(id));
    expect(stored!.position).toEqual(result.position);
    expect(stored!.metadata).toMatchObject({
      actor: { id: 'admin-1', role: 'admin' },
      commandId: m.commandId,
      commandType: 'RegisterClinic',
      correlationId: m.commandId,
      causationId: m.commandId,
      clinicId: id,
      ip: '198.51.100.1',
      userAgent: 'ua/1',
      occurredAt: '2025-03-01T00:00:00.000Z',
    });
  });

  it('the same command id twice returns the first result and appends nothing', async () => {
    const id = `c-${uid()}`;
    const m = meta();
    const first = await registerClinic(deps, register(id), m);
    // Even a command that the decider would refuse now (different content → clinic.already_exists)
    // is answered from the first run when its id was seen.
    const again = await registerClinic(deps, { ...register(id), name: 'Another name' }, m);
    expect(again.duplicate).toBe(true);
    expect(again.position).toEqual(first.position);
    expect(again.nextExpectedRevision).toBe(first.nextExpectedRevision);
    expect(again.events).toEqual(first.events);
    expect(await streamLength(store, streams.clinic(id))).toBe(1);
    // A new id with different content is a new command, refused by the domain.
    await expect(registerClinic(deps, { ...register(id), name: 'Another name' }, meta())).rejects.toBeInstanceOf(AlreadyExistsError);
  });

  it('concurrent duplicates append once: the loser retries, reloads and finds the winner', async () => {
    const id = `c-${uid()}`;
    await registerClinic(deps, register(id), meta());
    const m = meta();
    const callers = 12;
    // A real race: every caller's first read waits until all of them have read (so all decide on
    // revision 0 before anyone appends), as separate processes would; the per-process queue is off.
    let firstReads = 0;
    let allRead!: () => void;
    const barrier = new Promise<void>((resolve) => (allRead = resolve));
    const racing: EventStore = Object.create(store, {
      readStream: {
        value: async (...args: Parameters<EventStore['readStream']>) => {
          const events = await store.readStream(...args);
          if (firstReads < callers && ++firstReads === callers) allRead();
          await barrier;
          return events;
        },
      },
    });
    const results = await Promise.all(
      Array.from({ length: callers }, () =>
        handle({ store: racing, decider: clinic.clinicDecider, streamId: streams.clinic(id), command: { type: 'SetSlotConfiguration', slotLengthMinutes: 30, slotCapacity: 5 }, metadata: m, context: { now: clock() }, serialize: false, cache: false }),
      ),
    );
    expect(await streamLength(store, streams.clinic(id))).toBe(2);
    const winners = results.filter((r) => !r.duplicate);
    expect(winners).toHaveLength(1);
    expect(winners[0]!.attempts).toBe(1);
    // Every loser lost the append, reloaded and found the winner's event under its command id.
    const losers = results.filter((r) => r.duplicate);
    expect(losers).toHaveLength(callers - 1);
    expect(losers.every((r) => r.attempts === 2)).toBe(true);
    expect(new Set(results.map((r) => r.nextExpectedRevision))).toEqual(new Set([1]));
  });

  it('reusing a command id for another command on the same stream is refused', async () => {
    const id = `c-${uid()}`;
    const m = meta();
    await registerClinic(deps, register(id), m);
    await expect(
      handle({ store, decider: clinic.clinicDecider, streamId: streams.clinic(id), command: { type: 'SetSlotConfiguration', slotLengthMinutes: 30, slotCapacity: 5 }, metadata: m, context: { now: clock() } }),
    ).rejects.toBeInstanceOf(CommandIdReusedError);
  });

  it('domain refusals pass through untouched; invalid commands are InvalidCommandError', async () => {
    const id = `c-${uid()}`;
    const refused = await handle({
      store,
      decider: clinic.clinicDecider,
      streamId: streams.clinic(id),
      command: { type: 'ListTreatment', treatmentId: 'tx', name: 'x', category: 'c', priceKrw: 100, durationMinutes: 30, depositKrw: 0, bookingMode: 'instant', bookingKinds: ['pay-and-book'] },
      metadata: meta(),
      context: { now: clock() },
    }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DomainError);
    expect((refused as DomainError).code).toBe('clinic.not_found');
    const invalid = await registerClinic(deps, { ...register(id), slotCapacity: 0 }, meta()).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(InvalidCommandError);
    expect(await streamLength(store, streams.clinic(id))).toBe(0);
  });

  it('retries WrongExpectedVersion a bounded number of times, then ConcurrencyConflict', async () => {
    const id = `c-${uid()}`;
    await registerClinic(deps, register(id), meta());
    // A store where another writer always gets in between our read and our append.
    let appends = 0;
    const racing: EventStore = Object.create(store, {
      append: {
        value: async (streamId: string, events: Parameters<EventStore['append']>[1], options: Parameters<EventStore['append']>[2]) => {
          appends++;
          await store.append(streamId, [{ type: 'SlotConfigurationSet', schemaVersion: 1, data: { slotLengthMinutes: 30, slotCapacity: 3 + appends }, metadata: { actor: { id: 'other', role: 'staff' }, occurredAt: clock().toISOString() } }]);
          return store.append(streamId, events, options);
        },
      },
    });
    const error = await handle({
      store: racing,
      decider: clinic.clinicDecider,
      streamId: streams.clinic(id),
      command: { type: 'SetSlotConfiguration', slotLengthMinutes: 30, slotCapacity: 1 },
      metadata: meta(),
      context: { now: clock() },
      maxAttempts: 4,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConcurrencyConflict);
    expect(appends).toBe(4);
    const loaded = await loadStream(store, clinic.clinicDecider, streams.clinic(id));
    expect(loaded.state.status === 'registered' && loaded.state.slotCapacity).toBe(7); // only the other writer's changes
  });

  it('refuses to append personal data in plaintext; with the vault it is stored encrypted and read back decrypted', async () => {
    const patientId = `p-${uid()}`;
    const input = { patientId, name: '김지은', phone: '010-1234-5678', birthDate: '1991-04-12' };
    await expect(registerPatient(deps, input, meta())).rejects.toBeInstanceOf(PlaintextPersonalDataError);
    expect(await streamLength(store, streams.patient(patientId))).toBe(0);

    const vault = createPersonalDataVault(t.sql, randomBytes(32).toString('base64'));
    const withVault: CommandDeps = { ...deps, privacy: vault };
    const result = await registerPatient(withVault, input, meta());
    expect((result.events[0]!.data as { personal: unknown }).personal).toEqual({ kind: 'plain', value: { name: '김지은', phone: '010-1234-5678', birthDate: '1991-04-12' } });
    const [stored] = await store.readStream(streams.patient(patientId));
    expect((stored!.data as { personal: { kind: string } }).personal.kind).toBe('encrypted');
    expect(JSON.stringify(stored!.data)).not.toContain('010-1234-5678');
    const loaded = await loadStream(store, patient.patientDecider, streams.patient(patientId), vault);
    expect(patient.patientPersonal(loaded.state)).toEqual({ status: 'available', data: { name: '김지은', phone: '010-1234-5678', birthDate: '1991-04-12' } });
  });

  it('builds metadata from a request and derives follow-up metadata from an event', () => {
    // The web server appends the socket's address as the last hop (lib/runtime/request-origin.ts reads that one).
    const headers = new Headers({ 'x-forwarded-for': '198.51.100.4, 203.0.113.9', 'user-agent': 'Mozilla/5.0' });
    const m = commandMetadata({ actor: { id: 'u1', role: 'patient' }, ...requestOrigin(headers), commandId: 'cmd-1' });
    expect(m).toEqual({ actor: { id: 'u1', role: 'patient' }, clinicId: null, ip: '203.0.113.9', userAgent: 'Mozilla/5.0', commandId: 'cmd-1', correlationId: 'cmd-1', causationId: 'cmd-1' });
    const f = followUpMetadata({ eventId: 'ev-1', metadata: { actor: m.actor, occurredAt: 'x', correlationId: 'cmd-1', clinicId: 'c1', integrity: { alg: '', previousHash: null, hash: '' } } }, 'release-hold');
    expect(f).toMatchObject({ commandId: 'ev-1/release-hold', correlationId: 'cmd-1', causationId: 'ev-1', clinicId: 'c1', actor: { role: 'system' } });
  });
});
