'use server';

/**
 * The front desk and the treatment floor (issue 9, items 1–2). Every action is staff-only
 * (validatedActionWithUser, roles ['staff']); the command layer checks that the reservation or visit
 * belongs to the acting staff member's own clinic (meta.clinicId comes from the session, never from the
 * form), so another clinic's ids get ForbiddenError → 403 with nothing appended. The command id is
 * rendered into each form: a double click is one command. Ids of new entities are derived from it,
 * so a retried submit creates nothing twice.
 */
import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import {
  addTreatment,
  checkInReservation,
  confirmReservation,
  derivedId,
  discharge,
  recordArrival,
  rejectReservation,
  revertStage,
  startConsultation,
  startProcedure,
  startRecovery,
} from '@/lib/commands';
import type { Position } from '@/lib/eventstore';
import { clinic as clinicDomain } from '@/lib/domain';
import { waitForReadModels } from '@/lib/queries/freshness';
import { walkInPatient } from '@/lib/queries/staff';
import { appCommandDeps } from '@/lib/runtime/command-deps';
import { validatedActionWithUser, type FormState } from './validated';

const base = { clinicId: clinicDomain.Id, commandId: z.uuid() };
const reason = z.string({ error: 'reasonRequired' }).trim().min(1, { error: 'reasonRequired' }).max(1000, { error: 'tooLong' });

const todayPath = (clinicId: string) => `/staff/${clinicId}`;
const boardPath = (clinicId: string) => `/staff/${clinicId}/board`;

/** Read-your-writes, then the pages are rendered again; 'still processing' when the worker lags. */
async function settle(position: Position | null | undefined, clinicId: string, ok: string): Promise<FormState> {
  const fresh = await waitForReadModels(position);
  revalidatePath(todayPath(clinicId));
  revalidatePath(boardPath(clinicId));
  return fresh === 'caught-up' ? { ok } : { ok, formError: 'projections.stillProcessing' };
}

export const confirmReservationAction = validatedActionWithUser(
  { schema: z.object({ ...base, reservationId: clinicDomain.Id }), roles: ['staff'] },
  async (data, { user, meta }) => {
    const result = await confirmReservation(await appCommandDeps(), { reservationId: data.reservationId, staffId: user.id }, meta({ commandId: data.commandId }));
    return settle(result.position, data.clinicId, 'staffToday.confirmed');
  },
);

export const rejectReservationAction = validatedActionWithUser(
  { schema: z.object({ ...base, reservationId: clinicDomain.Id, reason }), roles: ['staff'] },
  async (data, { user, meta }) => {
    const result = await rejectReservation(
      await appCommandDeps(),
      { reservationId: data.reservationId, staffId: user.id, reason: data.reason },
      meta({ commandId: data.commandId }),
    );
    return settle(result.position, data.clinicId, 'staffToday.rejected');
  },
);

/** Check-in: the reservation and the visit's arrival; the visit's id is the reservation's own. */
export const checkInAction = validatedActionWithUser(
  { schema: z.object({ ...base, reservationId: clinicDomain.Id }), roles: ['staff'] },
  async (data, { user, meta }) => {
    const result = await checkInReservation(
      await appCommandDeps(),
      { reservationId: data.reservationId, visitId: derivedId('visit', data.reservationId), staffId: user.id },
      meta({ commandId: data.commandId }),
    );
    return settle(result.position, data.clinicId, 'staffToday.checkedIn');
  },
);

/** A walk-in: a visit without a reservation, for a registered patient found by their e-mail. */
export const walkInAction = validatedActionWithUser(
  { schema: z.object({ ...base, email: z.email({ error: 'email' }) }), roles: ['staff'] },
  async (data, { user, meta }) => {
    const patient = await walkInPatient(data.email);
    if (!patient) return { fieldErrors: { email: ['walkInUnknownPatient'] }, values: { email: data.email } };
    const result = await recordArrival(
      await appCommandDeps(),
      { visitId: derivedId('walkin', data.commandId), clinicId: data.clinicId, patientId: patient.id, staffId: user.id },
      meta({ commandId: data.commandId }),
    );
    return settle(result.position, data.clinicId, 'staffToday.walkedIn');
  },
);

const forward = { consultation: startConsultation, procedure: startProcedure, recovery: startRecovery, discharged: discharge } as const;

/** Move a visit forward (the next stage, or discharge at any point: the decider's rule). */
export const moveVisitAction = validatedActionWithUser(
  { schema: z.object({ ...base, visitId: clinicDomain.Id, to: z.enum(['consultation', 'procedure', 'recovery', 'discharged']) }), roles: ['staff'] },
  async (data, { user, meta }) => {
    const result = await forward[data.to](await appCommandDeps(), { visitId: data.visitId, staffId: user.id }, meta({ commandId: data.commandId }));
    return settle(result.position, data.clinicId, 'visitBoard.moved');
  },
);

/** Back one stage, with the reason (required). */
export const revertVisitAction = validatedActionWithUser(
  { schema: z.object({ ...base, visitId: clinicDomain.Id, reason }), roles: ['staff'] },
  async (data, { user, meta }) => {
    const result = await revertStage(await appCommandDeps(), { visitId: data.visitId, staffId: user.id, reason: data.reason }, meta({ commandId: data.commandId }));
    return settle(result.position, data.clinicId, 'visitBoard.reverted');
  },
);

/** A treatment added mid-visit (priced from the catalogue by the decider); the line id comes from the command id. */
export const addTreatmentAction = validatedActionWithUser(
  { schema: z.object({ ...base, visitId: clinicDomain.Id, treatmentId: clinicDomain.Id }), roles: ['staff'] },
  async (data, { user, meta }) => {
    const result = await addTreatment(
      await appCommandDeps(),
      { visitId: data.visitId, lineId: derivedId('line', data.commandId), treatmentId: data.treatmentId, staffId: user.id },
      meta({ commandId: data.commandId }),
    );
    return settle(result.position, data.clinicId, 'visitBoard.treatmentAdded');
  },
);
