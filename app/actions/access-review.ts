'use server';

/**
 * Recording the monthly review of the access log (/audit/access/review): the month, the reviewer's
 * notes and the exports whose reasons they confirmed (one checkbox per export, `confirm` = its entry
 * id). Auditors only; what the review found is recomputed by the command (lib/commands/access-review.ts).
 */
import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { recordAccessReview } from '@/lib/commands/access-review';
import { validatedActionWithUser, type FormState } from './validated';

const schema = z.object({
  month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'monthInvalid'),
  notes: z.string().trim().max(2000, 'reviewNotesTooLong').optional().default(''),
});

export const recordAccessReviewAction = validatedActionWithUser(
  { schema, roles: ['auditor'], callbackUrl: (v) => `/audit/access/review?month=${encodeURIComponent(v.month ?? '')}` },
  async ({ month, notes }, { user, origin }, formData): Promise<FormState> => {
    // Repeated `confirm` fields (formValues keeps one per name): read them all here; ids only.
    const confirmed = formData.getAll('confirm').map(String);
    if (confirmed.some((id) => !/^\d{1,18}$/.test(id))) return { formError: 'errors.fixFields', fieldErrors: { confirm: ['reviewConfirmInvalid'] } };
    await recordAccessReview(user, { month, notes, confirmed: confirmed.map(Number) }, origin);
    revalidatePath('/audit/access/review');
    return { ok: 'accessReview.recorded' };
  },
);
