import { v7 as uuidv7 } from 'uuid';
import { hashPassword } from '../auth/password';
import type { Db } from './client';
import { demoAccounts, demoClinics, demoPassword } from './demo-data';
import { clinics, seedRuns, treatments, users } from './schema';

const seedName = 'demo-world-v1';

/** Seeds the demo world once; returns false when it was already there. Atomic: all or nothing. */
export async function seedDemoData(db: Db): Promise<boolean> {
  const passwordHash = await hashPassword(demoPassword);
  return db.transaction(async (tx) => {
    const claimed = await tx.insert(seedRuns).values({ name: seedName }).onConflictDoNothing().returning();
    if (claimed.length === 0) return false;
    for (const { treatments: list, ...clinic } of demoClinics) {
      await tx.insert(clinics).values({ ...clinic, openingHours: { ...clinic.openingHours } });
      await tx.insert(treatments).values(list.map((t) => ({ ...t, clinicId: clinic.id })));
    }
    await tx.insert(users).values(demoAccounts.map((a) => ({ id: uuidv7(), email: a.email, name: a.name, role: a.role, clinicId: a.clinicId ?? null, passwordHash })));
    return true;
  });
}
