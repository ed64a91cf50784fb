'use client';

import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

export interface ChartSeries {
  readonly key: string;
  readonly name: string;
  readonly color: string;
}

/**
 * One chart of the statistics page: a titled, described figure. The SVG is hidden from screen readers
 * (and not focusable: no accessibility layer) because the same numbers are in the page's tables; the
 * title and description say so.
 */
export function StatsBarChart({
  id,
  title,
  description,
  data,
  categoryKey,
  series,
  layout = 'horizontal',
  valueFormat = 'count',
  locale,
}: {
  id: string;
  title: string;
  description: string;
  data: ReadonlyArray<Record<string, string | number>>;
  categoryKey: string;
  series: readonly ChartSeries[];
  /** 'vertical': one bar per row, categories down the side (long treatment names). */
  layout?: 'horizontal' | 'vertical';
  valueFormat?: 'count' | 'krw';
  locale: string;
}) {
  const intl = locale === 'ko' ? 'ko-KR' : 'en-KR';
  const full = new Intl.NumberFormat(intl, valueFormat === 'krw' ? { style: 'currency', currency: 'KRW', maximumFractionDigits: 0 } : { maximumFractionDigits: 0 });
  const compact = new Intl.NumberFormat(intl, { notation: 'compact', maximumFractionDigits: 1 });
  const tick = (v: number) => (valueFormat === 'krw' ? compact.format(v) : full.format(v));
  const height = layout === 'vertical' ? Math.max(120, data.length * 44 + 40) : 240;
  return (
    <figure aria-labelledby={`${id}-title`} aria-describedby={`${id}-desc`} data-testid={id} className="flex min-w-0 flex-col gap-2 rounded-lg border border-stone-200 bg-white p-3">
      <figcaption className="flex flex-col gap-0.5">
        <span id={`${id}-title`} className="font-semibold">
          {title}
        </span>
        <span id={`${id}-desc`} className="sr-only">
          {description}
        </span>
      </figcaption>
      <div aria-hidden="true" style={{ width: '100%', height }}>
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={data as Record<string, string | number>[]} layout={layout} accessibilityLayer={false} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e7e5e4" {...(layout === 'vertical' ? { horizontal: false } : { vertical: false })} />
            {layout === 'vertical' ? (
              <>
                <XAxis type="number" allowDecimals={false} tickFormatter={tick} fontSize={12} />
                <YAxis type="category" dataKey={categoryKey} width={110} fontSize={12} />
              </>
            ) : (
              <>
                <XAxis dataKey={categoryKey} fontSize={11} interval="preserveStartEnd" minTickGap={16} />
                <YAxis allowDecimals={false} tickFormatter={tick} width={valueFormat === 'krw' ? 48 : 32} fontSize={12} />
              </>
            )}
            <Tooltip formatter={(v) => full.format(Number(v))} />
            {series.length > 1 && <Legend wrapperStyle={{ fontSize: 12 }} />}
            {series.map((s) => (
              <Bar key={s.key} dataKey={s.key} name={s.name} fill={s.color} isAnimationActive={false} radius={[2, 2, 0, 0]} />
            ))}
          </BarChart>
        </ResponsiveContainer>
      </div>
    </figure>
  );
}
