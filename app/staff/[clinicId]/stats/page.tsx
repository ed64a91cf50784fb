import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { getLocale, getTranslations } from 'next-intl/server';
import { formatKrw, formatSeoulShortDate } from '@/lib/format';
import type { Locale } from '@/lib/i18n/config';
import { clinicStats, type StatsDay } from '@/lib/queries/stats';
import { Table } from '../../../components/table';
import { StaffTabs } from '../staff-nav';
import { StatsBarChart } from './stats-charts';

export const metadata: Metadata = { title: 'Statistics' };

type Totals = Omit<StatsDay, 'day'>;

/**
 * The clinic's statistics (`/staff/<clinicId>/stats`): today and the last 30 Seoul days — bookings,
 * cancellations, no-show rate, revenue net of refunds, top treatments — as charts (recharts) and the
 * same numbers in tables. The clinic's own staff only (403 otherwise).
 */
export default async function ClinicStatsPage({ params }: { params: Promise<{ clinicId: string }> }) {
  const { clinicId } = await params;
  const data = await clinicStats(clinicId);
  if (!data) notFound();
  const [t, locale] = await Promise.all([getTranslations('clinicStats'), getLocale() as Promise<Locale>]);
  const { stats } = data;
  const clinicName = locale === 'ko' ? data.clinic.nameKo : data.clinic.nameEn;
  const krw = (n: number) => formatKrw(n, locale);
  const count = (n: number) => n.toLocaleString(locale === 'ko' ? 'ko-KR' : 'en-KR');
  const percent = (r: number | null) => (r === null ? t('noRate') : new Intl.NumberFormat(locale === 'ko' ? 'ko-KR' : 'en-KR', { style: 'percent', maximumFractionDigits: 1 }).format(r));
  const shortDay = (day: string) => formatSeoulShortDate(day, locale);

  const measures: Array<{ key: string; label: string; value: (x: Totals) => string }> = [
    { key: 'bookings', label: t('bookings'), value: (x) => count(x.bookings) },
    { key: 'cancellations', label: t('cancellations'), value: (x) => count(x.cancellations) },
    { key: 'due', label: t('due'), value: (x) => count(x.due) },
    { key: 'noShows', label: t('noShows'), value: (x) => count(x.noShows) },
    { key: 'noShowRate', label: t('noShowRate'), value: (x) => percent(x.noShowRate) },
    { key: 'captured', label: t('captured'), value: (x) => krw(x.capturedKrw) },
    { key: 'refunded', label: t('refunded'), value: (x) => (x.refundedKrw > 0 ? krw(-x.refundedKrw) : krw(0)) },
    { key: 'revenue', label: t('revenue'), value: (x) => krw(x.revenueKrw) },
  ];

  const cards = [
    { key: 'bookings', label: t('bookings'), today: count(stats.todayTotals.bookings), period: count(stats.periodTotals.bookings) },
    { key: 'cancellations', label: t('cancellations'), today: count(stats.todayTotals.cancellations), period: count(stats.periodTotals.cancellations) },
    { key: 'noShowRate', label: t('noShowRate'), today: percent(stats.todayTotals.noShowRate), period: percent(stats.periodTotals.noShowRate) },
    { key: 'revenue', label: t('revenue'), today: krw(stats.todayTotals.revenueKrw), period: krw(stats.periodTotals.revenueKrw) },
  ];

  const chartDays = stats.days.map((d) => ({ label: d.day.slice(5).replace('-', '/'), bookings: d.bookings, cancellations: d.cancellations, revenue: d.revenueKrw }));
  const todayCount = new Map(stats.topToday.map((x) => [x.treatmentId, x.reservations]));
  const newestFirst = [...stats.days].reverse();

  return (
    <section className="flex flex-col gap-8">
      <header className="flex flex-col gap-3">
        <h1 className="text-2xl font-bold">{t('title', { clinic: clinicName })}</h1>
        <StaffTabs clinicId={clinicId} current="stats" />
        <p className="text-sm text-stone-600" data-testid="stats-period">
          {t('period', { today: shortDay(stats.today), from: shortDay(stats.from) })}
        </p>
      </header>

      {/* At a glance: the same figures are in the summary table below (the cards are hidden from screen readers to avoid reading them twice). */}
      <ul aria-hidden="true" className="grid grid-cols-2 gap-3 lg:grid-cols-4">
        {cards.map((c) => (
          <li key={c.key} className="flex flex-col gap-1 rounded-lg border border-stone-200 bg-white p-3">
            <span className="text-sm text-stone-600">{c.label}</span>
            <span className="text-xl font-bold tabular-nums">{c.period}</span>
            <span className="text-xs text-stone-600">
              {t('today')}: <span className="tabular-nums">{c.today}</span>
            </span>
          </li>
        ))}
      </ul>

      <Table
        caption={t('summaryCaption')}
        showCaption
        testId="stats-summary"
        columns={[
          { header: t('measure'), cell: (m) => m.label, rowHeader: true },
          { header: t('today'), cell: (m) => m.value(stats.todayTotals), align: 'end' },
          { header: t('last30'), cell: (m) => m.value(stats.periodTotals), align: 'end' },
        ]}
        rows={measures}
        rowKey={(m) => m.key}
        rowProps={(m) => ({ 'data-measure': m.key })}
      />
      <p className="-mt-5 text-xs text-stone-600">{t('definitions')}</p>

      <div className="grid gap-4 lg:grid-cols-2">
        <StatsBarChart
          id="stats-chart-bookings"
          title={t('chartBookings')}
          description={t('chartBookingsDescription')}
          data={chartDays}
          categoryKey="label"
          series={[
            { key: 'bookings', name: t('bookings'), color: '#c2416f' },
            { key: 'cancellations', name: t('cancellations'), color: '#a8a29e' },
          ]}
          locale={locale}
        />
        <StatsBarChart
          id="stats-chart-revenue"
          title={t('chartRevenue')}
          description={t('chartRevenueDescription')}
          data={chartDays}
          categoryKey="label"
          series={[{ key: 'revenue', name: t('revenue'), color: '#0f766e' }]}
          valueFormat="krw"
          locale={locale}
        />
      </div>

      <section aria-labelledby="stats-top" className="flex flex-col gap-3">
        <h2 id="stats-top" className="text-lg font-semibold">
          {t('topHeading')}
        </h2>
        {stats.topPeriod.length === 0 ? (
          <p className="text-sm text-stone-600">{t('noTreatments')}</p>
        ) : (
          <div className="grid items-start gap-4 lg:grid-cols-2">
            <Table
              caption={t('topCaption')}
              testId="stats-top"
              columns={[
                { header: t('treatment'), cell: (x) => x.treatmentName, rowHeader: true },
                { header: t('reservationsToday'), cell: (x) => count(todayCount.get(x.treatmentId) ?? 0), align: 'end' },
                { header: t('reservations30'), cell: (x) => count(x.reservations), align: 'end' },
              ]}
              rows={stats.topPeriod}
              rowKey={(x) => x.treatmentId}
              rowProps={(x) => ({ 'data-treatment': x.treatmentId })}
            />
            <StatsBarChart
              id="stats-chart-treatments"
              title={t('chartTreatments')}
              description={t('chartTreatmentsDescription')}
              data={stats.topPeriod.map((x) => ({ name: x.treatmentName, reservations: x.reservations }))}
              categoryKey="name"
              series={[{ key: 'reservations', name: t('reservations30'), color: '#c2416f' }]}
              layout="vertical"
              locale={locale}
            />
          </div>
        )}
      </section>

      <section aria-labelledby="stats-days" className="flex flex-col gap-3">
        <h2 id="stats-days" className="text-lg font-semibold">
          {t('daysHeading')}
        </h2>
        <Table
          caption={t('daysCaption')}
          testId="stats-days"
          minWidth="40rem"
          columns={[
            { header: t('day'), cell: (d) => shortDay(d.day), rowHeader: true },
            { header: t('bookings'), cell: (d) => count(d.bookings), align: 'end' },
            { header: t('cancellations'), cell: (d) => count(d.cancellations), align: 'end' },
            { header: t('due'), cell: (d) => count(d.due), align: 'end' },
            { header: t('noShows'), cell: (d) => count(d.noShows), align: 'end' },
            { header: t('noShowRate'), cell: (d) => percent(d.noShowRate), align: 'end' },
            { header: t('revenue'), cell: (d) => krw(d.revenueKrw), align: 'end' },
          ]}
          rows={newestFirst}
          rowKey={(d) => d.day}
          rowProps={(d) => ({ 'data-day': d.day })}
        />
      </section>
    </section>
  );
}
