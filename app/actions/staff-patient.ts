'use server';

/**
 * "Show contact" on staff's view of a patient (issue 9, item 6): reads the patient's phone and
 * e-mail only when asked, after writing the access-log entry (lib/queries/staff-patient.ts). The
 * patient comes from the URL the staff member is on; the clinic check is requireUser's (another
 * clinic's staff → 403, nothing recorded, nothing read) and the patient must be the clinic's (404).
 */
import { z } from 'zod';
import { clinic as clinicDomain } from '@/lib/domain';
import { revealPatientContact } from '@/lib/queries/staff-patient';
import { validatedActionWithUser, type FormState } from './validated';

// Ids as every other action reads them (a NUL or other stray character never reaches the database).
const schema = z.object({ clinicId: clinicDomain.Id, patientId: clinicDomain.Id });

export const revealContactAction = validatedActionWithUser({ schema, roles: ['staff'] }, async ({ clinicId, patientId }, { origin }): Promise<FormState> => {
  const contact = await revealPatientContact(clinicId, patientId, origin);
  if (contact.erased) return { ok: 'access.contactErased', values: { erased: 'true' } };
  // FormState carries strings only: the contact travels back in `values` (this action's form has no inputs of its own).
  return { ok: 'access.contactShown', values: { phone: contact.phone ?? '', email: contact.email ?? '' } };
});
