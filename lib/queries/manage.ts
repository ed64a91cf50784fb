/**
 * The clinic manager's pages (issue 9, item 5: running the clinic). Only a manager of the clinic
 * (staff of it with the manager flag an admin sets) gets in; other staff get 403 even with the URL.
 *
 * The forms show the clinic aggregate's own state (clinic-<id> folded, as the command handler loads
 * it), not a read model: a manager edits exactly the values the next command decides on, right after
 * saving, with no projection lag; the stream is short and cached per process.
 */
import { forbidden } from 'next/navigation';
import { requireUser } from '../auth/guard';
import type { SessionUser } from '../auth/roles';
import { loadClinic } from '../commands';
import { NotFoundError, type clinic as clinicDomain } from '../domain';
import { appCommandDeps } from '../runtime/command-deps';

/** The signed-in manager of `clinicId`: sign-in when signed out, 403 for anyone else (other staff included). */
export async function requireClinicManager(clinicId: string, callbackUrl = `/staff/${clinicId}/manage`): Promise<SessionUser> {
  const user = await requireUser({ roles: ['staff'], clinicId, callbackUrl });
  if (!user.isClinicManager) forbidden();
  return user;
}

export type ManagedTreatment = clinicDomain.Treatment;

export interface ManagedClinic {
  state: clinicDomain.RegisteredClinic;
  /** Listed treatments, by category then Korean name. */
  treatments: ManagedTreatment[];
}

const byCategoryThenName = (a: ManagedTreatment, b: ManagedTreatment) => a.category.localeCompare(b.category) || a.name.localeCompare(b.name, 'ko');

/** The clinic as its manager edits it; null when no such clinic is registered. */
export async function managedClinic(clinicId: string, callbackUrl?: string): Promise<ManagedClinic | null> {
  await requireClinicManager(clinicId, callbackUrl);
  try {
    const state = await loadClinic(await appCommandDeps(), clinicId);
    return { state, treatments: Object.values(state.treatments).filter((t) => t.listed).sort(byCategoryThenName) };
  } catch (error) {
    if (error instanceof NotFoundError) return null;
    throw error;
  }
}
