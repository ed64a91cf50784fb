import { getTranslations } from 'next-intl/server';
import type { OpeningHours } from '@/lib/db/schema';

const weekdays = ['1', '2', '3', '4', '5', '6', '7'] as const;

export async function OpeningHoursList({ hours }: { hours: OpeningHours }) {
  const t = await getTranslations('clinic');
  return (
    <dl className="mt-2 grid grid-cols-[3rem_1fr] gap-y-1 text-sm">
      {weekdays.map((d) => (
        <div key={d} className="contents">
          <dt className="text-stone-500">{t(`weekday.${d}`)}</dt>
          <dd>{hours[d] ? `${hours[d].opens}–${hours[d].closes}` : t('closed')}</dd>
        </div>
      ))}
    </dl>
  );
}
