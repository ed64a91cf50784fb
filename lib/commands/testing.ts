/** Test and benchmark helpers for the command side (no test code here; imported by specs and bench). */
import { BOTOX, OPENING_HOURS, POLICY, ULTHERA } from '../domain/clinic/fixtures';
import type { CancellationPolicy, TreatmentDetails } from '../domain/clinic';
import { listTreatment, registerClinic } from './clinic';
import type { CommandDeps } from './deps';
import { commandMetadata, type CommandMetadata } from './metadata';

/** A clock tests move by hand. */
export function manualClock(start: string | Date) {
  let now = new Date(start);
  const clock = () => new Date(now);
  return Object.assign(clock, {
    set(at: string | Date) {
      now = new Date(at);
    },
    advanceMinutes(minutes: number) {
      now = new Date(now.getTime() + minutes * 60_000);
    },
  });
}

export const staffActor = { id: 'staff-1', role: 'staff' };
export const patientActor = (patientId: string) => ({ id: patientId, role: 'patient' });
/** Test set-up acts as the system (like the seed): the policy step lets it do anything. */
export const setupActor = { id: 'system:test', role: 'system' };

/** Metadata of the test's set-up and of steps whose actor the test is not about (system actor). */
export function meta(overrides: Partial<Parameters<typeof commandMetadata>[0]> = {}): CommandMetadata {
  return commandMetadata({ actor: setupActor, clinicId: null, ip: '203.0.113.7', userAgent: 'vitest', ...overrides });
}

/** A staff member of `clinicId` (their clinic from the session, as userCommandMetadata sets it). */
export const staffMeta = (clinicId: string, staffId = staffActor.id) => meta({ actor: { id: staffId, role: 'staff' }, clinicId });
/** A manager of `clinicId`: staff whose session carries the clinic-manager flag (runs the clinic commands). */
export const managerMeta = (clinicId: string, staffId = 'manager-1') => meta({ actor: { id: staffId, role: 'staff' }, clinicId, clinicManager: true });
/** A patient acting on their own (at `clinicId`, recorded for the audit trail). */
export const patientMeta = (patientId: string, clinicId: string | null = null) => meta({ actor: patientActor(patientId), clinicId });

export const FREE_CONSULT: TreatmentDetails = {
  treatmentId: 'tx-consult',
  name: 'Skin consultation',
  category: 'consultation',
  priceKrw: 30_000,
  durationMinutes: 30,
  depositKrw: 0,
  bookingMode: 'instant',
  bookingKinds: ['consult-first'],
  consultDurationMinutes: 30,
};

/** Registers a clinic (Mon–Fri 10–13, 14–19; 30-minute slots) with Botox, Ulthera and a consultation. */
export async function registerTestClinic(
  deps: CommandDeps,
  clinicId: string,
  options: { slotCapacity?: number; policy?: CancellationPolicy; treatments?: TreatmentDetails[] } = {},
): Promise<void> {
  await registerClinic(
    deps,
    {
      clinicId,
      name: `Test clinic ${clinicId}`,
      openingHours: OPENING_HOURS,
      slotLengthMinutes: 30,
      slotCapacity: options.slotCapacity ?? 2,
      policy: options.policy ?? POLICY,
    },
    meta({ clinicId }),
  );
  for (const t of options.treatments ?? [BOTOX, ULTHERA, FREE_CONSULT]) {
    await listTreatment(deps, { clinicId, ...t }, meta({ clinicId }));
  }
}
