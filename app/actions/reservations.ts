'use server';

import { revalidatePath } from 'next/cache';
import { redirect } from 'next/navigation';
import { z } from 'zod';
import { cancelReservation, rescheduleReservation } from '@/lib/commands';
import { clinic as clinicDomain } from '@/lib/domain';
import { waitForReadModels } from '@/lib/queries/freshness';
import { cancelReasons, cancellationPreviewOf, reschedulePreviewOf } from '@/lib/queries/reservations';
import { appCommandDeps } from '@/lib/runtime/command-deps';
import { validatedActionWithUser } from './validated';

const krw = z.coerce.number().int().nonnegative().max(1_000_000_000_000);

const cancelSchema = z.object({
  reservationId: clinicDomain.Id,
  /** Rendered into the form: a double click or a resubmit is one command. */
  commandId: z.uuid(),
  reason: z.enum(cancelReasons, { error: 'reasonRequired' }),
  /** What the confirmation step showed; if the decision would now differ, the patient sees it first. */
  expectedFeeKrw: krw,
  expectedRefundKrw: krw,
});

const rescheduleSchema = z.object({
  reservationId: clinicDomain.Id,
  commandId: z.uuid(),
  startsAt: z.iso.datetime({ offset: true }),
  expectedFeeKrw: krw,
});

const pageOf = (reservationId: string) => `/me/reservations/${reservationId}`;

async function settle(reservationId: string, position: Parameters<typeof waitForReadModels>[0], done: 'cancelled' | 'rescheduled'): Promise<never> {
  const fresh = await waitForReadModels(position);
  revalidatePath('/me');
  revalidatePath(pageOf(reservationId));
  redirect(`${pageOf(reservationId)}?done=${done}${fresh === 'caught-up' ? '' : '&processing=1'}`);
}

/**
 * Cancel as the signed-in patient. The command layer checks the reservation is theirs (another
 * patient's id → ForbiddenError → 403, nothing appended) and decides fee and refund under the
 * policy frozen at booking; the process managers release the slot and refund the card.
 */
export const cancelReservationAction = validatedActionWithUser(
  { schema: cancelSchema, roles: ['patient'], callbackUrl: (v) => `${pageOf(v.reservationId ?? '')}/cancel` },
  async (data, { user, meta }, formData) => {
    const deps = await appCommandDeps();
    const preview = await cancellationPreviewOf(deps, user.id, data.reservationId);
    if (preview?.kind === 'ok' && (preview.feeKrw !== data.expectedFeeKrw || preview.refundKrw !== data.expectedRefundKrw)) {
      return { formError: 'me.cancel.changed', values: { reason: String(formData.get('reason') ?? '') } };
    }
    const result = await cancelReservation(
      deps,
      { reservationId: data.reservationId, by: 'patient', reason: `patient: ${data.reason}` },
      meta({ commandId: data.commandId, clinicId: preview?.kind === 'ok' ? preview.clinicId : null }),
    );
    return settle(data.reservationId, result.position, 'cancelled');
  },
);

/** Move to another slot as the signed-in patient (same checks; the new slot is held before the move). */
export const rescheduleReservationAction = validatedActionWithUser(
  { schema: rescheduleSchema, roles: ['patient'], callbackUrl: (v) => `${pageOf(v.reservationId ?? '')}/reschedule` },
  async (data, { user, meta }) => {
    const deps = await appCommandDeps();
    const preview = await reschedulePreviewOf(deps, user.id, data.reservationId, data.startsAt);
    if (preview?.kind === 'ok' && preview.feeKrw !== data.expectedFeeKrw) return { formError: 'me.reschedule.changed' };
    const result = await rescheduleReservation(
      deps,
      { reservationId: data.reservationId, startsAt: data.startsAt, by: 'patient' },
      meta({ commandId: data.commandId, clinicId: preview?.kind === 'ok' ? preview.clinicId : null }),
    );
    return settle(data.reservationId, result.position, 'rescheduled');
  },
);
