'use server';

/**
 * Payments at the desk (issue 9, payments; /staff/<clinicId>/payments): collect a bill by card
 * (the sandbox gateway's test cards) or in cash, refund part or all of a payment with a reason, and
 * record a no-show after the clinic's grace period. Staff only (validatedActionWithUser, roles
 * ['staff']); the command layer checks the payment's or reservation's clinic against meta.clinicId
 * (the session's, never the form's), so another clinic's ids get 403 with nothing appended. The
 * command id rendered into each form makes a double click one command (a refund's id derives from it).
 */
import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { collectBillByCard, collectCash, derivedId, recordNoShow, refundPayment } from '@/lib/commands';
import { clinic as clinicDomain } from '@/lib/domain';
import type { Position } from '@/lib/eventstore';
import { waitForReadModels } from '@/lib/queries/freshness';
import { appCommandDeps } from '@/lib/runtime/command-deps';
import { validatedActionWithUser, type FormState } from './validated';

const base = { clinicId: clinicDomain.Id, commandId: z.uuid() };
const amount = z.coerce.number({ error: 'amountInvalid' }).int({ error: 'amountInvalid' }).min(1, { error: 'amountInvalid' }).max(100_000_000, { error: 'amountInvalid' });
const reason = z.string({ error: 'reasonRequired' }).trim().min(1, { error: 'reasonRequired' }).max(500, { error: 'tooLong' });
// A card number as typed (spaces and dashes allowed); which numbers the sandbox takes is the gateway's answer.
const cardNumber = z.string({ error: 'cardInvalid' }).trim().regex(/^[0-9][0-9 -]{10,22}[0-9]$/, { error: 'cardInvalid' });

const paymentsPath = (clinicId: string) => `/staff/${clinicId}/payments`;

/** Read-your-writes for the ledger, then the page renders again; 'still processing' when the worker lags. */
async function settle(position: Position | null | undefined, clinicId: string, ok: string): Promise<FormState> {
  const fresh = await waitForReadModels(position);
  revalidatePath(paymentsPath(clinicId));
  return fresh === 'caught-up' ? { ok } : { ok, formError: 'projections.stillProcessing' };
}

export const collectCardAction = validatedActionWithUser(
  { schema: z.object({ ...base, paymentId: clinicDomain.Id, cardNumber }), roles: ['staff'] },
  async (data, { meta }) => {
    const outcome = await collectBillByCard(await appCommandDeps(), { paymentId: data.paymentId, cardNumber: data.cardNumber }, meta({ commandId: data.commandId }));
    return settle(outcome.position, data.clinicId, 'desk.done.paidByCard');
  },
);

export const collectCashAction = validatedActionWithUser(
  { schema: z.object({ ...base, paymentId: clinicDomain.Id, amountKrw: amount }), roles: ['staff'] },
  async (data, { user, meta }) => {
    const result = await collectCash(await appCommandDeps(), { paymentId: data.paymentId, amountKrw: data.amountKrw, staffId: user.id }, meta({ commandId: data.commandId }));
    return settle(result.position, data.clinicId, 'desk.done.paidInCash');
  },
);

export const refundAction = validatedActionWithUser(
  { schema: z.object({ ...base, paymentId: clinicDomain.Id, amountKrw: amount, reason }), roles: ['staff'] },
  async (data, { meta }) => {
    const result = await refundPayment(
      await appCommandDeps(),
      { paymentId: data.paymentId, refundId: derivedId('desk-refund', data.commandId), amountKrw: data.amountKrw, reason: data.reason },
      meta({ commandId: data.commandId }),
    );
    return settle(result.position, data.clinicId, 'desk.done.refunded');
  },
);

export const noShowAction = validatedActionWithUser(
  { schema: z.object({ ...base, reservationId: clinicDomain.Id }), roles: ['staff'] },
  async (data, { user, meta }) => {
    const result = await recordNoShow(await appCommandDeps(), { reservationId: data.reservationId, staffId: user.id }, meta({ commandId: data.commandId }));
    return settle(result.position, data.clinicId, 'desk.done.noShowRecorded');
  },
);
