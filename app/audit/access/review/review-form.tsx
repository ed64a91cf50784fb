'use client';

import { useActionState } from 'react';
import { useTranslations } from 'next-intl';
import { recordAccessReviewAction } from '@/app/actions/access-review';
import type { FormState } from '@/app/actions/validated';
import { FormError, SubmitButton } from '@/app/components/form';
import { Table } from '@/app/components/table';

export interface ExportToConfirm {
  id: number;
  at: string;
  account: string;
  what: string;
  reason: string;
}

/** The month's exports, each with a "reason confirmed" box, the reviewer's notes, and the button that records the review. */
export function ReviewForm({ month, exports }: { month: string; exports: ExportToConfirm[] }) {
  const t = useTranslations('accessReview');
  const tAll = useTranslations();
  const [state, action] = useActionState<FormState, FormData>(recordAccessReviewAction, {});
  const errors = state.fieldErrors ?? {};
  return (
    <form action={action} className="flex flex-col gap-4" data-testid="review-form">
      <input type="hidden" name="month" value={month} />
      <section aria-labelledby="exports" className="flex flex-col gap-2">
        <h2 id="exports" className="text-lg font-semibold">
          {t('exports')}
        </h2>
        <Table<ExportToConfirm>
          caption={t('exportCaption')}
          rows={exports}
          rowKey={(e) => String(e.id)}
          testId="review-exports"
          minWidth="40rem"
          empty={<p>{t('noExports')}</p>}
          columns={[
            {
              header: t('confirm'),
              cell: (e) => (
                <input type="checkbox" name="confirm" value={e.id} aria-label={`${t('confirm')}: ${e.reason}`} className="size-4 accent-brand-600" data-testid={`confirm-${e.id}`} />
              ),
            },
            { header: t('when'), cell: (e) => e.at, className: 'whitespace-nowrap tabular-nums' },
            { header: t('account'), cell: (e) => e.account, rowHeader: true, className: 'font-normal' },
            { header: t('what'), cell: (e) => e.what },
            { header: t('reason'), cell: (e) => e.reason, className: 'max-w-sm break-words' },
          ]}
        />
        {errors.confirm && <p className="text-sm text-red-700">{errors.confirm.map((k) => tAll(`errors.${k}` as never)).join(' ')}</p>}
      </section>
      <div className="flex flex-col gap-1">
        <label htmlFor="review-notes" className="text-sm font-medium">
          {t('notes')}
        </label>
        <textarea
          id="review-notes"
          name="notes"
          rows={4}
          maxLength={2000}
          defaultValue={state.values?.notes ?? ''}
          aria-describedby="review-notes-hint"
          aria-invalid={errors.notes ? true : undefined}
          className="rounded border border-stone-300 bg-white px-3 py-2"
        />
        <p id="review-notes-hint" className="text-xs text-stone-500">
          {t('notesHint')}
        </p>
        {errors.notes && <p className="text-sm text-red-700">{errors.notes.map((k) => tAll(`errors.${k}` as never)).join(' ')}</p>}
      </div>
      <FormError message={state.formError ? tAll(state.formError as never, state.formErrorValues as never) : undefined} />
      {state.ok && (
        <p role="status" data-testid="form-ok" className="rounded border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900">
          {t('recorded')}
        </p>
      )}
      <div>
        <SubmitButton label={t('record')} pendingLabel={t('recording')} />
      </div>
    </form>
  );
}
