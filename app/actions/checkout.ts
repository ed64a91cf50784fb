'use server';

import { redirect } from 'next/navigation';
import { z } from 'zod';
import { confirmDeposit, recordDepositFailure, startDepositAttempt } from '@/lib/commands';
import { clinic as clinicDomain, DomainError } from '@/lib/domain';
import { waitForReadModels } from '@/lib/queries/freshness';
import { appCommandDeps } from '@/lib/runtime/command-deps';
import { validatedActionWithUser, type FormState } from './validated';

// Every function below checks the acting user itself (a patient only on their own payment: else
// ForbiddenError, which the wrapper turns into 403, with nothing appended and nothing charged).

const checkoutPath = (paymentId: string) => `/checkout/${encodeURIComponent(paymentId)}`;
const failPath = (paymentId: string, q: Record<string, string>) => `${checkoutPath(paymentId)}/fail?${new URLSearchParams(q)}`;

const paySchema = z.object({
  paymentId: clinicDomain.Id,
  // Card numbers as people type them (spaces and dashes); the gateway decides which cards it takes.
  cardNumber: z.string({ error: 'checkout.errors.cardNumber' }).trim().regex(/^[0-9][0-9 -]{11,22}[0-9]$/, { error: 'checkout.errors.cardNumber' }),
});

/**
 * The card step. With a real PG this is its hosted window (the browser talks to the PG and comes
 * back to our success URL with paymentKey, orderId and amount); the sandbox's stand-in runs here.
 * Nothing is charged and nothing is recorded yet: the success URL confirms.
 */
export const payAction = validatedActionWithUser(
  { schema: paySchema, roles: ['patient'], callbackUrl: (v) => checkoutPath(v.paymentId ?? '') },
  async (data, { meta }): Promise<FormState> => {
    let attempt;
    try {
      attempt = await startDepositAttempt(await appCommandDeps(), { paymentId: data.paymentId, cardNumber: data.cardNumber }, meta());
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      if (error.code === 'payment.invalid_card') return { fieldErrors: { cardNumber: ['checkout.errors.cardUnknown'] }, values: { cardNumber: data.cardNumber } };
      // Paid in another tab, being checked, or closed: the checkout page shows which.
      if (error.code === 'payment.already_paid' || error.code === 'payment.pending' || error.code === 'payment.not_payable') redirect(checkoutPath(data.paymentId));
      throw error;
    }
    const q = new URLSearchParams({ paymentKey: attempt.paymentKey, orderId: attempt.orderId, amount: String(attempt.amount) });
    redirect(`${checkoutPath(data.paymentId)}/success?${q}`);
  },
);

const returnSchema = z.object({
  paymentId: clinicDomain.Id,
  paymentKey: z.string().min(1).max(200),
  orderId: z.string().min(1).max(64),
  amount: z.coerce.number().int().positive(),
});

/**
 * The success URL's server step: confirm with the gateway (this is where the card is charged) and
 * record the outcome. The amount came back through the browser: confirmDeposit checks it against
 * the payment, the gateway against the order. Declined → the failure URL (pay again); no answer
 * (time-out) → the checkout page, which reads "checking with the card company" until reconciled.
 */
export const confirmAction = validatedActionWithUser(
  { schema: returnSchema, roles: ['patient'], callbackUrl: (v) => checkoutPath(v.paymentId ?? '') },
  async (data, { meta }): Promise<FormState> => {
    if (data.orderId !== data.paymentId) return { formError: 'checkout.errors.orderMismatch' };
    try {
      const outcome = await confirmDeposit(await appCommandDeps(), { paymentKey: data.paymentKey, orderId: data.orderId, amount: data.amount }, meta({ commandId: `confirm:${data.paymentKey}` }));
      await waitForReadModels(outcome.position);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      if (error.code === 'payment.declined') redirect(failPath(data.paymentId, { code: 'REJECT_CARD_PAYMENT' }));
      if (error.code !== 'payment.pending' && error.code !== 'payment.not_payable') throw error;
    }
    redirect(checkoutPath(data.paymentId));
  },
);

const failSchema = z.object({
  paymentId: clinicDomain.Id,
  paymentKey: z.string().min(1).max(200).optional(),
  code: z.string().max(100).optional(),
  message: z.string().max(500).optional(),
});

/**
 * The failure URL's server step, for a PG window that failed on its own (the URL's code is never
 * trusted: the gateway is asked about the attempt and what it says is recorded).
 */
export const failAction = validatedActionWithUser(
  { schema: failSchema, roles: ['patient'], callbackUrl: (v) => checkoutPath(v.paymentId ?? '') },
  async (data, { meta }): Promise<FormState> => {
    const outcome = await recordDepositFailure(
      await appCommandDeps(),
      { paymentId: data.paymentId, ...(data.paymentKey ? { paymentKey: data.paymentKey } : {}), ...(data.code ? { code: data.code } : {}), ...(data.message ? { message: data.message } : {}) },
      meta({ commandId: `fail:${data.paymentKey ?? data.paymentId}` }),
    );
    await waitForReadModels(outcome.position);
    if (outcome.outcome === 'declined') redirect(failPath(data.paymentId, { code: 'REJECT_CARD_PAYMENT' }));
    redirect(outcome.outcome === 'payable' ? failPath(data.paymentId, { code: data.code ?? 'PAY_PROCESS_CANCELED' }) : checkoutPath(data.paymentId));
  },
);
