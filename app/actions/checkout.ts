'use server';

import { notFound, redirect } from 'next/navigation';
import { z } from 'zod';
import { confirmDeposit, reconcilePayment } from '@/lib/commands';
import { clinic as clinicDomain, DomainError } from '@/lib/domain';
import { AlreadyProcessed, InvalidCard, type SandboxGateway } from '@/lib/payments';
import { checkoutView } from '@/lib/queries/checkout';
import { waitForReadModels } from '@/lib/queries/freshness';
import { appCommandDeps } from '@/lib/runtime/command-deps';
import { validatedActionWithUser, type FormState } from './validated';

const checkoutPath = (paymentId: string) => `/checkout/${encodeURIComponent(paymentId)}`;

const paySchema = z.object({
  paymentId: clinicDomain.Id,
  // Card numbers as people type them (spaces and dashes); the gateway decides which it takes.
  cardNumber: z
    .string({ error: 'checkout.errors.cardNumber' })
    .trim()
    .regex(/^[0-9][0-9 -]{11,22}[0-9]$/, { error: 'checkout.errors.cardNumber' }),
});

/**
 * The card step of the checkout. With a real PG this is its hosted window (the browser talks to the
 * PG and comes back to our success URL with paymentKey, orderId and amount); the sandbox's stand-in
 * is `authorize`, run here on the server. Nothing is charged and nothing is recorded yet: the
 * success URL confirms.
 */
export const payAction = validatedActionWithUser(
  { schema: paySchema, roles: ['patient'], callbackUrl: (v) => checkoutPath(v.paymentId ?? '') },
  async (data, { user }): Promise<FormState> => {
    // Someone else's payment: 403 (checkoutView). Unknown: 404.
    const view = await checkoutView(data.paymentId, user);
    if (!view) notFound();
    if (view.state !== 'payable' || view.reservation?.status !== 'requested') redirect(checkoutPath(data.paymentId));
    const { payments } = await appCommandDeps();
    const gateway = payments?.gateway as Partial<SandboxGateway> | undefined;
    if (!gateway?.authorize) throw new Error('the checkout needs the sandbox gateway (a real PG authorizes in its own window)');
    let authorization;
    try {
      authorization = await gateway.authorize({ orderId: view.orderId, amount: view.amountKrw, cardNumber: data.cardNumber });
    } catch (error) {
      if (error instanceof InvalidCard) return { fieldErrors: { cardNumber: ['checkout.errors.cardUnknown'] }, values: { cardNumber: data.cardNumber } };
      if (error instanceof AlreadyProcessed) redirect(checkoutPath(data.paymentId)); // paid by another attempt: the page shows it
      throw error;
    }
    const q = new URLSearchParams({ paymentKey: authorization.paymentKey, orderId: authorization.orderId, amount: String(authorization.amount) });
    redirect(`${checkoutPath(data.paymentId)}/success?${q}`);
  },
);

const confirmSchema = z.object({
  paymentId: clinicDomain.Id,
  paymentKey: z.string().min(1).max(200),
  orderId: z.string().min(1).max(64),
  amount: z.coerce.number().int().positive(),
});

/**
 * The success URL's server step: confirm with the gateway (this is where the card is charged) and
 * record the outcome. The amount came back through the browser, so confirmDeposit checks it against
 * the payment (and the gateway against the order). Declined → the failure page (pay again);
 * outcome unknown (time-out) → the checkout page shows "checking with the card company".
 */
export const confirmAction = validatedActionWithUser(
  { schema: confirmSchema, roles: ['patient'], callbackUrl: (v) => checkoutPath(v.paymentId ?? '') },
  async (data, { user, meta }): Promise<FormState> => {
    const view = await checkoutView(data.paymentId, user);
    if (!view) notFound();
    if (data.orderId !== view.orderId) return { formError: 'checkout.errors.orderMismatch' };
    const commandMeta = meta({ commandId: `confirm:${data.paymentKey}`, clinicId: view.clinic?.id ?? null });
    try {
      const outcome = await confirmDeposit(await appCommandDeps(), { paymentKey: data.paymentKey, orderId: data.paymentId, amount: data.amount }, commandMeta);
      await waitForReadModels(outcome.position);
      if (outcome.outcome === 'failed') redirect(`${checkoutPath(data.paymentId)}/fail?code=REJECT_CARD_PAYMENT`);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      if (error.code === 'payment.declined') {
        // The failure is recorded; give the read model a moment so the failure page shows it.
        await waitUntilSettled(data.paymentId, user);
        redirect(`${checkoutPath(data.paymentId)}/fail?code=REJECT_CARD_PAYMENT`);
      }
      if (error.code !== 'payment.pending') throw error;
    }
    redirect(checkoutPath(data.paymentId));
  },
);

async function waitUntilSettled(paymentId: string, user: Parameters<typeof checkoutView>[1], timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await checkoutView(paymentId, user);
    if (!v || (v.status !== 'requested' && v.status !== 'authorized')) return;
    await new Promise((r) => setTimeout(r, 150));
  }
}

const checkSchema = z.object({ paymentId: clinicDomain.Id });

/** "Check now" on a payment whose outcome the gateway has not told us: ask it and record what it says (the reconciliation's own step). */
export const checkPaymentAction = validatedActionWithUser(
  { schema: checkSchema, roles: ['patient'], callbackUrl: (v) => checkoutPath(v.paymentId ?? '') },
  async (data, { user, meta }): Promise<FormState> => {
    const view = await checkoutView(data.paymentId, user);
    if (!view) notFound();
    const outcome = await reconcilePayment(await appCommandDeps(), data.paymentId, meta({ clinicId: view.clinic?.id ?? null }));
    await waitForReadModels(outcome.position);
    if (outcome.outcome === 'pending') return { ok: 'checkout.stillChecking' };
    redirect(outcome.outcome === 'failed' ? `${checkoutPath(data.paymentId)}/fail?code=REJECT_CARD_PAYMENT` : checkoutPath(data.paymentId));
  },
);
