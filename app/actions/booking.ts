'use server';

import { forbidden, redirect } from 'next/navigation';
import { z } from 'zod';
import { bookReservation, derivedId } from '@/lib/commands';
import { clinic as clinicDomain, reservation as reservationDomain } from '@/lib/domain';
import { waitForReadModels } from '@/lib/queries/freshness';
import { bookingUrl, reservationIdAvailableTo } from '@/lib/queries/booking';
import { appCommandDeps } from '@/lib/runtime/command-deps';
import { validatedActionWithUser } from './validated';

// Messages are i18n keys (the form shows them next to the step they concern).
const bookingSchema = z.object({
  clinicId: clinicDomain.Id,
  treatmentId: z.string({ error: 'booking.errors.treatment' }).pipe(clinicDomain.Id),
  startsAt: z.iso.datetime({ offset: true, error: 'booking.errors.startsAt' }),
  kind: z.enum(reservationDomain.ReservationKind.options, { error: 'booking.errors.kind' }),
  /** Rendered into the form with the review step: a double click or a resubmit is one command. */
  commandId: z.uuid({ error: 'booking.errors.stale' }),
  // Kept inside the patient's encrypted personal data (it may hold health details): erased with it.
  note: z
    .string()
    .trim()
    .max(1000, { error: 'booking.errors.noteTooLong' })
    .optional()
    .transform((v) => (v ? v : undefined)),
});

/**
 * Book a slot. The patient is the signed-in user (never a form field). The reservation id derives
 * from the command id, so a resubmitted form (double click, back and submit again, a retry after a
 * lost response) lands on the reservation the first submit made: bookReservation is idempotent per
 * command id and returns the first result.
 */
export const bookAction = validatedActionWithUser(
  {
    schema: bookingSchema,
    roles: ['patient'],
    // Signed out meanwhile: sign in, then come back to the same slot.
    callbackUrl: (v) => bookingUrl({ clinicId: v.clinicId ?? '', treatmentId: v.treatmentId, startsAt: v.startsAt, kind: v.kind }),
  },
  async (data, { user, meta }) => {
    const reservationId = derivedId('rsv', data.commandId);
    // Another patient's command id (a replayed or forged form): refuse before touching their streams.
    if (!(await reservationIdAvailableTo(reservationId, user))) forbidden();
    const booked = await bookReservation(
      await appCommandDeps(),
      { reservationId, clinicId: data.clinicId, patientId: user.id, treatmentId: data.treatmentId, kind: data.kind, startsAt: data.startsAt, ...(data.note ? { note: data.note } : {}) },
      meta({ commandId: data.commandId, clinicId: data.clinicId }),
    );
    // A replayed command id of someone else's booking returns their reservation: never show it.
    const state = booked.reservation.state as { patientId?: string };
    if (state.patientId !== user.id) forbidden();
    const fresh = await waitForReadModels(booked.position);
    const processing = fresh === 'caught-up' ? '' : '?processing=1';
    // Pay and book: the process manager requests the deposit; that page waits for it, then opens its
    // checkout (or goes on to the reservation when nothing is left to pay).
    if (data.kind === 'pay-and-book') redirect(`/checkout/reservation/${reservationId}${processing}`);
    redirect(`/me/reservations/${reservationId}${processing}`);
  },
);
