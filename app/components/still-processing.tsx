import { getTranslations } from 'next-intl/server';

/**
 * Shown when a change was saved but the read models had not caught up within the wait bound
 * (lib/projections/wait.ts): the page may not show it yet, and says so instead of looking current.
 */
export async function StillProcessing() {
  const t = await getTranslations('projections');
  return (
    <p role="status" data-testid="still-processing" className="rounded border border-amber-300 bg-amber-50 px-3 py-2 text-sm">
      {t('stillProcessing')}
    </p>
  );
}
