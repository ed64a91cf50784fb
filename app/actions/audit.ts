'use server';

/**
 * "Show name" on the audit trail (issue 10 item 1): the trail lists patients by pseudonymous id; the
 * name is read only when asked, after the read is recorded in the access log (lib/queries/audit.ts).
 */
import { z } from 'zod';
import { revealAuditPatientName } from '@/lib/queries/audit';
import { validatedActionWithUser, type FormState } from './validated';

const schema = z.object({ patientId: z.string().trim().min(1).max(100) });

export const revealPatientNameAction = validatedActionWithUser({ schema, roles: ['auditor', 'staff'], callbackUrl: '/audit' }, async ({ patientId }, { origin }): Promise<FormState> => {
  const patient = await revealAuditPatientName(patientId, origin);
  if (patient.erased || patient.name === null) return { ok: 'audit.nameErased', values: { patientId } };
  return { ok: 'audit.nameShown', values: { patientId, name: patient.name } };
});
