import { sql } from 'drizzle-orm';
import { v7 as uuidv7 } from 'uuid';
import { hashPassword } from '../auth/password';
import { commandMetadata, derivedId, giveConsent, listTreatment, registerClinic, registerPatient, type CommandDeps, type CommandMetadata } from '../commands';
import type { Db } from './client';
import { demoAccounts, demoClinics, demoPassword } from './demo-data';
import { seedRuns, users } from './schema';

const seedName = 'demo-world-v2';
const seedActor = { id: 'system:seed', role: 'system' } as const;

/** Every seed command has a fixed id, so a seed interrupted half-way simply runs again. */
function seedCommand(...parts: string[]): CommandMetadata {
  return commandMetadata({ actor: seedActor, commandId: derivedId('seed', seedName, ...parts) });
}

/**
 * Seeds the demo world once through the same commands the app uses (clinics and treatments into
 * their event streams, patients with encrypted personal data), plus the sign-in accounts.
 * Returns false when it was already there. The catalogue pages show the clinics once the
 * projections have caught up (the worker does that; `npm start` and `npm test` wait for it).
 */
export async function seedDemoData(db: Db, deps: CommandDeps): Promise<boolean> {
  const [done] = await db.select().from(seedRuns).where(sql`${seedRuns.name} = ${seedName}`);
  if (done) return false;

  for (const { treatments, id: clinicId, nameEn, district, address, phone, ...clinic } of demoClinics) {
    await registerClinic(
      deps,
      {
        clinicId,
        name: clinic.name,
        openingHours: [...clinic.openingHours],
        slotLengthMinutes: clinic.slotMinutes,
        slotCapacity: clinic.slotCapacity,
        policy: clinic.policy,
        profile: { nameEn, district, address, phone },
      },
      { ...seedCommand(clinicId, 'register'), clinicId },
    );
    for (const { id: treatmentId, ...treatment } of treatments) {
      await listTreatment(deps, { clinicId, treatmentId, ...treatment }, { ...seedCommand(clinicId, treatmentId), clinicId });
    }
  }

  const passwordHash = await hashPassword(demoPassword);
  for (const account of demoAccounts) {
    await db
      .insert(users)
      .values({ id: uuidv7(), email: account.email, name: account.name, role: account.role, clinicId: account.clinicId ?? null, clinicManager: account.clinicManager ?? false, passwordHash })
      .onConflictDoNothing();
    if (!account.patient) continue;
    const [row] = await db.select({ id: users.id }).from(users).where(sql`lower(${users.email}) = ${account.email}`);
    const patientId = row!.id;
    await registerPatient(
      deps,
      { patientId, name: account.name, email: account.email, phone: account.patient.phone, birthDate: account.patient.birthDate, locale: 'ko' },
      seedCommand(account.email, 'register'),
    );
    await giveConsent(deps, { patientId, purpose: 'personal-data', version: '2026-01' }, seedCommand(account.email, 'consent'));
  }

  await db.insert(seedRuns).values({ name: seedName }).onConflictDoNothing();
  return true;
}
