'use server';

/**
 * The admin payments page's actions: run the reconciliation now (also what the browser tests use to
 * settle a timed-out payment), and retry or resolve a payment the reconciliation parked. Admin only;
 * the command layer checks the role again.
 */
import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { reconcilePendingPayments, resolveStuckPayment, retryStuckPayment } from '@/lib/commands';
import { clinic as clinicDomain } from '@/lib/domain';
import { appCommandDeps } from '@/lib/runtime/command-deps';
import { validatedActionWithUser } from './validated';

const PAGE = '/admin/payments';

export const reconcileNowAction = validatedActionWithUser({ schema: z.object({}), roles: ['admin'], callbackUrl: PAGE }, async (_data, ctx) => {
  // Every waiting payment, due or not: a person asked to check now.
  const result = await reconcilePendingPayments(await appCommandDeps(), ctx.meta(), { all: true });
  revalidatePath(PAGE);
  return { ok: result.checked === 0 ? 'adminPayments.reconciledNone' : 'adminPayments.reconciled' };
});

const paymentSchema = z.object({ paymentId: clinicDomain.Id });

export const retryStuckPaymentAction = validatedActionWithUser({ schema: paymentSchema, roles: ['admin'], callbackUrl: PAGE }, async ({ paymentId }, ctx) => {
  const outcome = await retryStuckPayment(await appCommandDeps(), { paymentId }, ctx.meta());
  revalidatePath(PAGE);
  return { ok: `adminPayments.outcome.${outcome.outcome}` };
});

const resolveSchema = paymentSchema.extend({
  note: z.string().trim().min(3, { error: 'noteLength' }).max(500, { error: 'noteLength' }),
});

export const resolveStuckPaymentAction = validatedActionWithUser({ schema: resolveSchema, roles: ['admin'], callbackUrl: PAGE }, async ({ paymentId, note }, ctx) => {
  const outcome = await resolveStuckPayment(await appCommandDeps(), { paymentId, note }, ctx.meta());
  revalidatePath(PAGE);
  return { ok: `adminPayments.outcome.${outcome.outcome}` };
});
