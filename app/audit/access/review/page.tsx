import type { Metadata } from 'next';
import Link from 'next/link';
import { getLocale, getTranslations } from 'next-intl/server';
import { formatSeoulDateTime } from '@/lib/format';
import type { Locale } from '@/lib/i18n/config';
import { accessReviewPage, previousMonth, reviewMonthSchema, reviewThresholds } from '@/lib/queries/access-review';
import { Table } from '../../../components/table';
import { AuditTabs } from '../../audit-tabs';
import { ReviewForm } from './review-form';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('accessReview'))('title') };
}

type SearchParams = Promise<Record<string, string | string[] | undefined>>;
type Review = Awaited<ReturnType<typeof accessReviewPage>>;
type Flag = Review['flags'][number];
const KST_OFFSET_MS = 9 * 60 * 60 * 1000;
const seoulDay = (at: Date) => new Date(at.getTime() + KST_OFFSET_MS).toISOString().slice(0, 10);

export default async function AccessReviewPage({ searchParams }: { searchParams: SearchParams }) {
  const raw = (await searchParams).month;
  const requested = reviewMonthSchema.safeParse(Array.isArray(raw) ? raw[0] : raw);
  const month = requested.success ? requested.data : previousMonth(new Date());
  const [review, t, tLog, locale] = await Promise.all([accessReviewPage(month), getTranslations('accessReview'), getTranslations('accessLog'), getLocale() as Promise<Locale>]);
  const account = (id: string) => {
    const a = review.accounts[id];
    return a ? `${a.name || a.email} (${a.email})` : id;
  };
  const when = (f: Flag) => {
    if (f.kind === 'no-reservation') return '';
    const [from, to] = [formatSeoulDateTime(f.from, locale), formatSeoulDateTime(f.to, locale)];
    return from === to ? from : `${from} – ${to}`;
  };
  const detail = (f: Flag) =>
    f.kind === 'many-patients'
      ? t('manyDetail', { patients: f.patients, window: f.window })
      : f.kind === 'outside-hours'
        ? t('hoursDetail', { clinic: f.clinicId })
        : t('strangerDetail', {
            clinic: f.clinicId,
            patients: f.patientIds.length > 5 ? `${f.patientIds.slice(0, 5).join(', ')} ${tLog('morePatients', { count: f.patientIds.length - 5 })}` : f.patientIds.join(', '),
          });
  // The access log filtered to the flag's account (and its days), where the entries can be read one by one.
  const entriesHref = (f: Flag) => {
    const params = new URLSearchParams({ account: f.accountId });
    if (f.kind !== 'no-reservation') {
      params.set('from', seoulDay(f.from));
      params.set('to', seoulDay(f.to));
    } else {
      params.set('from', seoulDay(review.from));
      params.set('to', seoulDay(new Date(review.to.getTime() - 1)));
      if (f.patientIds.length === 1) params.set('patient', f.patientIds[0]!);
    }
    return `/audit/access?${params}`;
  };

  return (
    <section className="flex flex-col gap-6">
      <div className="flex flex-col gap-3">
        <h1 className="text-2xl font-bold">{t('title')}</h1>
        <AuditTabs current="review" />
        <p className="text-sm text-stone-600">{t('intro')}</p>
      </div>

      <form method="get" className="flex flex-wrap items-end gap-3">
        <label className="flex flex-col gap-1 text-sm">
          {t('month')}
          <input type="month" name="month" defaultValue={month} required className="rounded border border-stone-300 bg-white px-2 py-1" />
        </label>
        <button type="submit" className="rounded bg-brand-600 px-4 py-1.5 text-white hover:bg-brand-700">
          {t('show')}
        </button>
        <Link href="/audit/access" className="ml-auto text-sm underline">
          {t('backToLog')}
        </Link>
      </form>

      <p className="font-medium" data-testid="review-summary">
        {t('summary', { entries: review.entries, month, flags: review.flags.length })}
      </p>

      <section aria-labelledby="flags" className="flex flex-col gap-2">
        <h2 id="flags" className="text-lg font-semibold">
          {t('flags')}
        </h2>
        <details className="text-sm text-stone-600">
          <summary className="cursor-pointer">{t('rules')}</summary>
          <ul className="mt-2 list-disc pl-5">
            <li>{t('ruleMany', { burst: reviewThresholds.burstPatients, minutes: reviewThresholds.burstWindowMinutes, daily: reviewThresholds.dailyPatients })}</li>
            <li>{t('ruleHours', { slack: reviewThresholds.hoursSlackMinutes })}</li>
            <li>{t('ruleStranger')}</li>
          </ul>
        </details>
        <Table<Flag>
          caption={t('flagCaption')}
          rows={review.flags}
          rowKey={(f, i) => `${f.kind}-${f.accountId}-${i}`}
          testId="review-flags"
          minWidth="44rem"
          empty={<p data-testid="review-no-flags">{t('noFlags')}</p>}
          rowProps={(f) => ({ 'data-kind': f.kind })}
          columns={[
            { header: t('kind'), cell: (f) => t(`kinds.${f.kind}`), rowHeader: true, className: 'font-medium' },
            { header: t('account'), cell: (f) => account(f.accountId), className: 'break-words' },
            { header: t('when'), cell: when, className: 'tabular-nums' },
            { header: t('detail'), cell: detail, className: 'max-w-xs break-words' },
            {
              header: t('entries'),
              cell: (f) => (
                <Link href={entriesHref(f)} className="whitespace-nowrap text-brand-700 underline">
                  {t('openEntries')} ({f.entryIds.length})
                </Link>
              ),
            },
          ]}
        />
      </section>

      <ReviewForm
        month={month}
        exports={review.exports.map((e) => ({
          id: e.id,
          at: formatSeoulDateTime(e.occurredAt, locale),
          account: account(e.accountId),
          what: tLog.has(`resources.${e.resource}`) ? tLog(`resources.${e.resource}` as never) : e.resource,
          reason: e.reason ?? '',
        }))}
      />

      <section aria-labelledby="reviews" className="flex flex-col gap-2">
        <h2 id="reviews" className="text-lg font-semibold">
          {t('reviews')}
        </h2>
        <Table
          caption={t('reviewCaption')}
          rows={review.reviews}
          rowKey={(r) => String(r.id)}
          testId="review-history"
          minWidth="36rem"
          empty={<p data-testid="review-none">{t('noReviews')}</p>}
          columns={[
            { header: t('reviewedAt'), cell: (r) => formatSeoulDateTime(r.reviewedAt, locale), className: 'whitespace-nowrap tabular-nums' },
            { header: t('reviewer'), cell: (r) => account(r.reviewerId), rowHeader: true, className: 'font-normal' },
            { header: t('flags'), cell: (r) => r.flags, align: 'end' },
            { header: t('exports'), cell: (r) => t('confirmedCount', { confirmed: r.confirmedExportIds.length, exports: r.exportIds.length }) },
            { header: t('notes'), cell: (r) => r.notes, className: 'max-w-sm whitespace-pre-wrap break-words' },
          ]}
        />
      </section>
    </section>
  );
}
