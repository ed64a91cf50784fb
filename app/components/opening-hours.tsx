import { getTranslations } from 'next-intl/server';

/** Monday first, as Korean clinics list them; the domain numbers Sunday 0 … Saturday 6. */
const weekdays = [1, 2, 3, 4, 5, 6, 0] as const;

export async function OpeningHoursList({ intervals }: { intervals: ReadonlyArray<{ weekday: number; opens: string; closes: string }> }) {
  const t = await getTranslations('clinic');
  return (
    <dl className="mt-2 grid grid-cols-[3rem_1fr] gap-y-1 text-sm">
      {weekdays.map((d) => {
        const open = intervals.filter((i) => i.weekday === d).sort((a, b) => a.opens.localeCompare(b.opens));
        return (
          <div key={d} className="contents">
            <dt className="text-stone-500">{t(`weekday.${d}`)}</dt>
            <dd>{open.length ? open.map((i) => `${i.opens}–${i.closes}`).join(', ') : t('closed')}</dd>
          </div>
        );
      })}
    </dl>
  );
}
