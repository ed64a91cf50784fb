'use client';

import { useActionState, useState } from 'react';
import { useTranslations } from 'next-intl';
import { changeClinicSettingsAction, setCancellationPolicyAction, setOpeningHoursAction, setSlotConfigurationAction, setStageThresholdsAction } from '@/app/actions/manage';
import type { FormState } from '@/app/actions/validated';
import { amount, Checkbox, FieldErrors, Hidden, Input, inputClass, Outcome, Save } from './fields';

type Ids = { clinicId: string; commandId: string };
type Interval = { opens: string; closes: string };

/** Monday first, as Korean clinics list them; the domain numbers Sunday 0 … Saturday 6. */
const WEEKDAYS = [1, 2, 3, 4, 5, 6, 0] as const;
const MAX_INTERVALS = 6;

/** The intervals each weekday had when the form was sent (after a refused submit), else the current ones. */
function startingWeek(hours: ReadonlyArray<{ weekday: number } & Interval>, values?: Record<string, string>): Record<number, Interval[]> {
  const week: Record<number, Interval[]> = {};
  for (const d of WEEKDAYS) {
    if (values) {
      const sent: Interval[] = [];
      for (let n = 0; n < MAX_INTERVALS; n++) {
        const opens = values[`w${d}.${n}.opens`];
        const closes = values[`w${d}.${n}.closes`];
        if (opens !== undefined || closes !== undefined) sent.push({ opens: opens ?? '', closes: closes ?? '' });
      }
      week[d] = sent;
    } else {
      week[d] = hours.filter((h) => h.weekday === d).sort((a, b) => a.opens.localeCompare(b.opens)).map(({ opens, closes }) => ({ opens, closes }));
    }
  }
  return week;
}

/**
 * The week's opening hours: per weekday, its opening intervals (none = closed); a break (lunch) is the
 * gap between two intervals. "Add a break" splits the day's last interval in two.
 */
export function OpeningHoursForm({ ids, hours }: { ids: Ids; hours: ReadonlyArray<{ weekday: number } & Interval> }) {
  const [state, action] = useActionState<FormState, FormData>(setOpeningHoursAction, {});
  // Remounted per outcome: the rows start again from what was sent (refused) or from the saved hours.
  return <WeekForm key={JSON.stringify(state)} state={state} action={action} ids={ids} hours={hours} />;
}

function WeekForm({ state, action, ids, hours }: { state: FormState; action: (formData: FormData) => void; ids: Ids; hours: ReadonlyArray<{ weekday: number } & Interval> }) {
  const t = useTranslations('manage.hours');
  const tAll = useTranslations('manage');
  const tDay = useTranslations('manage.hours.weekday');
  const [week, setWeek] = useState(() => startingWeek(hours, state.values));
  const setDay = (d: number, intervals: Interval[]) => setWeek((w) => ({ ...w, [d]: intervals }));
  const update = (d: number, n: number, field: keyof Interval, value: string) => setDay(d, week[d]!.map((x, i) => (i === n ? { ...x, [field]: value } : x)));
  const addBreak = (d: number) => {
    const day = week[d]!;
    const last = day[day.length - 1];
    if (!last) return setDay(d, [{ opens: '10:00', closes: '19:00' }]);
    // Split the last interval around a one-hour break in its middle (the manager adjusts the times).
    const [oh, om] = last.opens.split(':').map(Number);
    const [ch, cm] = last.closes.split(':').map(Number);
    const from = (oh ?? 0) * 60 + (om ?? 0);
    const to = (ch ?? 0) * 60 + (cm ?? 0);
    const mid = Math.floor((from + to) / 2 / 30) * 30;
    const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
    if (to - from < 120) return setDay(d, [...day, { opens: '', closes: '' }]);
    setDay(d, [...day.slice(0, -1), { opens: last.opens, closes: hhmm(mid - 30) }, { opens: hhmm(mid + 30), closes: last.closes }]);
  };
  return (
    <form action={action} noValidate className="flex flex-col gap-4" data-testid="hours-form">
      <Hidden fields={ids} />
      <Outcome state={state} />
      <ul className="flex flex-col divide-y divide-stone-100 rounded border border-stone-200">
        {WEEKDAYS.map((d) => {
          const day = week[d]!;
          const errors = state.fieldErrors?.[`w${d}`];
          const errorId = `w${d}-error`;
          return (
            <li key={d} className="flex flex-col gap-2 p-3 sm:flex-row sm:items-start" data-weekday={d}>
              <div className="flex items-center justify-between gap-2 sm:w-28 sm:flex-col sm:items-start">
                <span className="font-medium" id={`w${d}-label`}>
                  {tDay(String(d) as never)}
                </span>
                {day.length === 0 ? <span className="rounded bg-stone-100 px-1.5 py-0.5 text-xs text-stone-600">{t('closed')}</span> : null}
              </div>
              <div className="flex min-w-0 flex-1 flex-col gap-2">
                {day.map((x, n) => (
                  <div key={n} className="flex flex-col gap-1">
                    {n > 0 ? <span className="text-xs text-stone-500">{t('breakBefore', { from: day[n - 1]!.closes || '…', to: x.opens || '…' })}</span> : null}
                    {/* Phones: both times share the row's width (the remove button keeps its own). */}
                    <div className="grid grid-cols-[minmax(0,1fr)_auto_minmax(0,1fr)_auto] items-center gap-2 sm:flex">
                      <label className="sr-only" htmlFor={`w${d}.${n}.opens`}>
                        {t('opensLabel', { day: tDay(String(d) as never), n: n + 1 })}
                      </label>
                      <input
                        id={`w${d}.${n}.opens`}
                        name={`w${d}.${n}.opens`}
                        type="text"
                        inputMode="numeric"
                        placeholder="00:00"
                        maxLength={5}
                        autoComplete="off"
                        value={x.opens}
                        onChange={(e) => update(d, n, 'opens', e.target.value)}
                        aria-invalid={errors?.length ? true : undefined}
                        aria-describedby={errors?.length ? errorId : undefined}
                        className={`${inputClass(!!errors?.length).replace("px-3", "px-2")} text-center tabular-nums sm:w-24`}
                      />
                      <span aria-hidden>–</span>
                      <label className="sr-only" htmlFor={`w${d}.${n}.closes`}>
                        {t('closesLabel', { day: tDay(String(d) as never), n: n + 1 })}
                      </label>
                      <input
                        id={`w${d}.${n}.closes`}
                        name={`w${d}.${n}.closes`}
                        type="text"
                        inputMode="numeric"
                        placeholder="00:00"
                        maxLength={5}
                        autoComplete="off"
                        value={x.closes}
                        onChange={(e) => update(d, n, 'closes', e.target.value)}
                        aria-invalid={errors?.length ? true : undefined}
                        aria-describedby={errors?.length ? errorId : undefined}
                        className={`${inputClass(!!errors?.length).replace("px-3", "px-2")} text-center tabular-nums sm:w-24`}
                      />
                      <button
                        type="button"
                        onClick={() => setDay(d, day.filter((_, i) => i !== n))}
                        className="min-h-10 rounded px-2 text-sm text-stone-600 hover:bg-stone-100 hover:text-stone-900"
                        aria-label={t('removeInterval', { day: tDay(String(d) as never), n: n + 1 })}
                      >
                        {t('remove')}
                      </button>
                    </div>
                  </div>
                ))}
                <div className="flex flex-wrap gap-2">
                  {day.length === 0 ? (
                    <button type="button" onClick={() => setDay(d, [{ opens: '10:00', closes: '19:00' }])} className="min-h-9 rounded border border-stone-300 bg-white px-3 text-sm hover:bg-stone-50">
                      {t('openDay')}
                    </button>
                  ) : day.length < MAX_INTERVALS ? (
                    <button type="button" onClick={() => addBreak(d)} className="min-h-9 rounded border border-stone-300 bg-white px-3 text-sm hover:bg-stone-50" aria-label={t('addBreakOn', { day: tDay(String(d) as never) })}>
                      {t('addBreak')}
                    </button>
                  ) : null}
                </div>
                <FieldErrors id={errorId} errors={errors} />
              </div>
            </li>
          );
        })}
      </ul>
      <p className="text-xs text-stone-500">{t('hint')}</p>
      <div className="flex justify-end">
        <Save label={tAll('save')} pendingLabel={tAll('saving')} />
      </div>
    </form>
  );
}

/** Slot length and how many bookings one slot takes. */
export function SlotForm({ ids, slotLengthMinutes, slotCapacity }: { ids: Ids; slotLengthMinutes: number; slotCapacity: number }) {
  const t = useTranslations('manage');
  const [state, action] = useActionState<FormState, FormData>(setSlotConfigurationAction, {});
  return (
    <form key={JSON.stringify(state)} action={action} noValidate className="flex flex-col gap-4" data-testid="slots-form">
      <Hidden fields={ids} />
      <Outcome state={state} />
      <div className="grid gap-4 sm:grid-cols-2">
        <Input name="slotLengthMinutes" label={t('slots.length')} suffix={t('units.minutes')} hint={t('slots.lengthHint')} numeric state={state} value={slotLengthMinutes} />
        <Input name="slotCapacity" label={t('slots.capacity')} suffix={t('units.people')} hint={t('slots.capacityHint')} numeric state={state} value={slotCapacity} />
      </div>
      <div className="flex justify-end">
        <Save label={t('save')} pendingLabel={t('saving')} />
      </div>
    </form>
  );
}

/** The cancellation policy (frozen into each reservation when it is made). */
export function PolicyForm({
  ids,
  policy,
}: {
  ids: Ids;
  policy: { freeCancellationHours: number; lateCancellationFeeKrw: number; noShowForfeitsDeposit: boolean; minimumNoticeHours: number };
}) {
  const t = useTranslations('manage');
  const [state, action] = useActionState<FormState, FormData>(setCancellationPolicyAction, {});
  return (
    <form key={JSON.stringify(state)} action={action} noValidate className="flex flex-col gap-4" data-testid="policy-form">
      <Hidden fields={ids} />
      <Outcome state={state} />
      <div className="grid gap-4 sm:grid-cols-2">
        <Input name="freeCancellationHours" label={t('policy.freeCancellation')} suffix={t('units.hoursBefore')} hint={t('policy.freeCancellationHint')} numeric state={state} value={policy.freeCancellationHours} />
        <Input name="lateCancellationFeeKrw" label={t('policy.lateFee')} suffix={t('units.won')} hint={t('policy.lateFeeHint')} numeric state={state} value={amount(policy.lateCancellationFeeKrw)} />
        <Input name="minimumNoticeHours" label={t('policy.minimumNotice')} suffix={t('units.hoursBefore')} hint={t('policy.minimumNoticeHint')} numeric state={state} value={policy.minimumNoticeHours} />
      </div>
      <Checkbox name="noShowForfeitsDeposit" label={t('policy.noShowForfeits')} hint={t('policy.noShowForfeitsHint')} state={state} checked={policy.noShowForfeitsDeposit} />
      <p className="text-xs text-stone-500">{t('policy.frozenHint')}</p>
      <div className="flex justify-end">
        <Save label={t('save')} pendingLabel={t('saving')} />
      </div>
    </form>
  );
}

/** Booking horizon, payment deadline and no-show grace period. */
export function SettingsForm({ ids, settings }: { ids: Ids; settings: { bookingHorizonDays: number; paymentDeadlineMinutes: number; noShowGraceMinutes: number } }) {
  const t = useTranslations('manage');
  const [state, action] = useActionState<FormState, FormData>(changeClinicSettingsAction, {});
  return (
    <form key={JSON.stringify(state)} action={action} noValidate className="flex flex-col gap-4" data-testid="settings-form">
      <Hidden fields={ids} />
      <Outcome state={state} />
      <div className="grid gap-4 sm:grid-cols-3">
        <Input name="bookingHorizonDays" label={t('settings.horizon')} suffix={t('units.days')} hint={t('settings.horizonHint')} numeric state={state} value={settings.bookingHorizonDays} />
        <Input name="paymentDeadlineMinutes" label={t('settings.paymentDeadline')} suffix={t('units.minutes')} hint={t('settings.paymentDeadlineHint')} numeric state={state} value={settings.paymentDeadlineMinutes} />
        <Input name="noShowGraceMinutes" label={t('settings.noShowGrace')} suffix={t('units.minutes')} hint={t('settings.noShowGraceHint')} numeric state={state} value={settings.noShowGraceMinutes} />
      </div>
      <div className="flex justify-end">
        <Save label={t('save')} pendingLabel={t('saving')} />
      </div>
    </form>
  );
}

const STAGES = ['arrived', 'consultation', 'procedure', 'recovery'] as const;

/** Per visit stage, the minutes after which the board highlights a card still in it. */
export function StageThresholdsForm({ ids, thresholds }: { ids: Ids; thresholds: Record<(typeof STAGES)[number], number> }) {
  const t = useTranslations('manage');
  const [state, action] = useActionState<FormState, FormData>(setStageThresholdsAction, {});
  return (
    <form key={JSON.stringify(state)} action={action} noValidate className="flex flex-col gap-4" data-testid="thresholds-form">
      <Hidden fields={ids} />
      <Outcome state={state} />
      <div className="grid grid-cols-2 gap-4 lg:grid-cols-4">
        {STAGES.map((stage) => (
          <Input key={stage} name={stage} label={t(`thresholds.stage.${stage}`)} suffix={t('units.minutes')} numeric state={state} value={thresholds[stage]} />
        ))}
      </div>
      <p className="text-xs text-stone-500">{t('thresholds.hint')}</p>
      <div className="flex justify-end">
        <Save label={t('save')} pendingLabel={t('saving')} />
      </div>
    </form>
  );
}
