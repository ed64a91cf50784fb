import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { getLocale, getTranslations } from 'next-intl/server';
import type { Locale } from '@/lib/i18n/config';
import { managedClinic } from '@/lib/queries/manage';
import { Card } from '../fields';
import { ManageHeader } from '../manage-header';
import { PolicyForm, SettingsForm, StageThresholdsForm } from '../schedule-forms';

export const metadata: Metadata = { title: 'Policy and settings' };

/**
 * The cancellation policy, the clinic's settings (booking horizon, payment deadline, no-show grace) and
 * the visit board's stage thresholds:
 * `/staff/<clinicId>/manage/policy`, managers only.
 */
export default async function ManagePolicyPage({ params }: { params: Promise<{ clinicId: string }> }) {
  const { clinicId } = await params;
  const data = await managedClinic(clinicId, `/staff/${clinicId}/manage/policy`);
  if (!data) notFound();
  const [t, locale] = await Promise.all([getTranslations('manage'), getLocale() as Promise<Locale>]);
  const { state } = data;
  const clinicName = locale === 'ko' ? state.name : (state.profile?.nameEn ?? state.name);
  const ids = () => ({ clinicId, commandId: crypto.randomUUID() });
  return (
    <section className="flex flex-col gap-6">
      <ManageHeader clinicId={clinicId} clinicName={clinicName} current="policy" />
      <div className="flex max-w-4xl flex-col gap-6">
        <Card title={t('policy.title')} description={t('policy.intro')} testId="policy">
          <PolicyForm ids={ids()} policy={state.policy} />
        </Card>
        <Card title={t('settings.title')} description={t('settings.intro')} testId="settings">
          <SettingsForm ids={ids()} settings={state.settings} />
        </Card>
        <Card title={t('thresholds.title')} description={t('thresholds.intro')} testId="thresholds">
          <StageThresholdsForm ids={ids()} thresholds={state.settings.stageThresholdMinutes} />
        </Card>
      </div>
    </section>
  );
}
