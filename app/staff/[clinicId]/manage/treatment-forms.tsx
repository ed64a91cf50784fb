'use client';

import * as Dialog from '@radix-ui/react-dialog';
import { useActionState } from 'react';
import { useTranslations } from 'next-intl';
import { changeTreatmentDetailsAction, changeTreatmentPriceAction, listTreatmentAction, unlistTreatmentAction } from '@/app/actions/manage';
import type { FormState } from '@/app/actions/validated';
import { amount, Checkbox, FieldErrors, Hidden, Input, Outcome, Radios, Save } from './fields';

type Ids = { clinicId: string; commandId: string };

/** What a treatment form starts from (the treatment's current details, or a new one's defaults). */
export interface TreatmentFormValues {
  name: string;
  nameEn: string;
  category: string;
  priceKrw?: number;
  depositKrw?: number;
  durationMinutes?: number;
  consultDurationMinutes?: number;
  bookingMode: 'instant' | 'clinic-confirm';
  bookingKinds: ReadonlyArray<'consult-first' | 'pay-and-book'>;
  taxCategory: 'taxable' | 'exempt';
}

/** Name, category, duration, booking kinds and mode, tax category: shared by the add and the edit form. */
function DetailFields({ state, initial, categories }: { state: FormState; initial: TreatmentFormValues; categories: readonly string[] }) {
  const t = useTranslations('manage.treatments');
  return (
    <>
      <div className="grid gap-4 sm:grid-cols-2">
        <Input name="name" label={t('name')} state={state} value={initial.name} />
        <Input name="nameEn" label={t('nameEn')} hint={t('nameEnHint')} state={state} value={initial.nameEn} />
        <Input name="category" label={t('category')} hint={t('categoryHint')} state={state} value={initial.category} list="treatment-categories" />
        <datalist id="treatment-categories">
          {categories.map((c) => (
            <option key={c} value={c} />
          ))}
        </datalist>
        <Input name="durationMinutes" label={t('duration')} suffix={t('minutes')} hint={t('durationHint')} numeric state={state} value={initial.durationMinutes} />
      </div>
      <fieldset className="flex flex-col gap-2" aria-describedby={state.fieldErrors?.bookingKinds?.length ? 'booking-kinds-error' : undefined}>
        <legend className="mb-1 text-sm font-medium">{t('bookingKinds')}</legend>
        <Checkbox name="consultFirst" label={t('kind.consult-first')} hint={t('kindHint.consult-first')} state={state} checked={initial.bookingKinds.includes('consult-first')} />
        <Checkbox name="payAndBook" label={t('kind.pay-and-book')} hint={t('kindHint.pay-and-book')} state={state} checked={initial.bookingKinds.includes('pay-and-book')} />
        <FieldErrors id="booking-kinds-error" errors={state.fieldErrors?.bookingKinds} />
      </fieldset>
      <div className="grid gap-4 sm:grid-cols-2">
        <Input name="consultDurationMinutes" label={t('consultDuration')} suffix={t('minutes')} hint={t('consultDurationHint')} numeric state={state} value={initial.consultDurationMinutes} />
      </div>
      <div className="grid gap-4 sm:grid-cols-2">
        <Radios
          name="bookingMode"
          legend={t('bookingMode')}
          state={state}
          value={initial.bookingMode}
          options={[
            { value: 'clinic-confirm', label: t('mode.clinic-confirm'), hint: t('modeHint.clinic-confirm') },
            { value: 'instant', label: t('mode.instant'), hint: t('modeHint.instant') },
          ]}
        />
        <Radios
          name="taxCategory"
          legend={t('taxCategory')}
          state={state}
          value={initial.taxCategory}
          options={[
            { value: 'taxable', label: t('tax.taxable'), hint: t('taxHint.taxable') },
            { value: 'exempt', label: t('tax.exempt'), hint: t('taxHint.exempt') },
          ]}
        />
      </div>
    </>
  );
}

function PriceFields({ state, priceKrw, depositKrw }: { state: FormState; priceKrw?: number; depositKrw?: number }) {
  const t = useTranslations('manage.treatments');
  return (
    <div className="grid gap-4 sm:grid-cols-2">
      <Input name="priceKrw" label={t('price')} suffix={t('won')} hint={t('priceHint')} numeric state={state} value={amount(priceKrw)} />
      <Input name="depositKrw" label={t('deposit')} suffix={t('won')} hint={t('depositHint')} numeric state={state} value={amount(depositKrw)} />
    </div>
  );
}

/** A new treatment: its details and price; the action lists it and returns to the list. */
export function AddTreatmentForm({ ids, initial, categories }: { ids: Ids; initial: TreatmentFormValues; categories: readonly string[] }) {
  const t = useTranslations('manage.treatments');
  const [state, action] = useActionState<FormState, FormData>(listTreatmentAction, {});
  return (
    <form key={JSON.stringify(state)} action={action} noValidate className="flex flex-col gap-5" data-testid="add-treatment-form">
      <Hidden fields={ids} />
      <Outcome state={state} />
      <DetailFields state={state} initial={initial} categories={categories} />
      <PriceFields state={state} />
      <div className="flex justify-end">
        <Save label={t('add')} pendingLabel={t('adding')} />
      </div>
    </form>
  );
}

/** A listed treatment's price and deposit (both VAT-inclusive). */
export function PriceForm({ ids, treatmentId, priceKrw, depositKrw }: { ids: Ids; treatmentId: string; priceKrw: number; depositKrw: number }) {
  const t = useTranslations('manage');
  const [state, action] = useActionState<FormState, FormData>(changeTreatmentPriceAction, {});
  return (
    <form key={JSON.stringify(state)} action={action} noValidate className="flex flex-col gap-4" data-testid="price-form">
      <Hidden fields={{ ...ids, treatmentId }} />
      <Outcome state={state} />
      <PriceFields state={state} priceKrw={priceKrw} depositKrw={depositKrw} />
      <p className="text-xs text-stone-500">{t('treatments.priceFrozenHint')}</p>
      <div className="flex justify-end">
        <Save label={t('save')} pendingLabel={t('saving')} />
      </div>
    </form>
  );
}

/** A listed treatment's details (name, category, duration, booking kinds and mode, tax category). */
export function DetailsForm({ ids, treatmentId, initial, categories }: { ids: Ids; treatmentId: string; initial: TreatmentFormValues; categories: readonly string[] }) {
  const t = useTranslations('manage');
  const [state, action] = useActionState<FormState, FormData>(changeTreatmentDetailsAction, {});
  return (
    <form key={JSON.stringify(state)} action={action} noValidate className="flex flex-col gap-5" data-testid="details-form">
      <Hidden fields={{ ...ids, treatmentId }} />
      <Outcome state={state} />
      <DetailFields state={state} initial={initial} categories={categories} />
      <p className="text-xs text-stone-500">{t('treatments.detailsFrozenHint')}</p>
      <div className="flex justify-end">
        <Save label={t('save')} pendingLabel={t('saving')} />
      </div>
    </form>
  );
}

/** Unlist: behind a confirmation dialog (Radix: focus trapped, Escape closes). */
export function UnlistDialog({ ids, treatmentId, name }: { ids: Ids; treatmentId: string; name: string }) {
  const t = useTranslations('manage.treatments');
  const [state, action] = useActionState<FormState, FormData>(unlistTreatmentAction, {});
  return (
    <Dialog.Root>
      <Dialog.Trigger className="min-h-10 rounded border border-red-300 bg-white px-4 py-2 text-sm font-medium text-red-800 hover:bg-red-50">{t('unlist')}</Dialog.Trigger>
      <Dialog.Portal>
        <Dialog.Overlay className="fixed inset-0 bg-black/40" />
        <Dialog.Content className="fixed left-1/2 top-1/2 w-[calc(100vw-2rem)] max-w-md -translate-x-1/2 -translate-y-1/2 rounded-lg bg-white p-5 shadow-xl" data-testid="unlist-dialog">
          <Dialog.Title className="text-lg font-semibold text-red-800">{t('unlistTitle', { name })}</Dialog.Title>
          <Dialog.Description className="mt-2 text-sm text-stone-700">{t('unlistBody')}</Dialog.Description>
          <form action={action} className="mt-4 flex flex-col gap-3">
            <Hidden fields={{ ...ids, treatmentId }} />
            <Outcome state={state} />
            <div className="flex flex-wrap justify-end gap-2">
              <Dialog.Close className="min-h-10 rounded border border-stone-300 px-4 py-2 text-sm hover:bg-stone-100">{t('keepListed')}</Dialog.Close>
              <Save label={t('unlistConfirm')} pendingLabel={t('unlisting')} tone="danger" />
            </div>
          </form>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
