'use server';

/**
 * Running the clinic (issue 9, item 5): the clinic manager's forms. Every action is for a manager of
 * the clinic only (staff with the manager flag; other staff, patients, auditors, admins get 403) and
 * goes through the clinic commands, whose authorize step refuses non-managers too; the clinic is the
 * session's (meta.clinicId), never the form's, which only names the pages to refresh. The command id
 * is rendered into each form, so a double submit is one command.
 */
import { revalidatePath } from 'next/cache';
import { redirect } from 'next/navigation';
import { z } from 'zod';
import {
  changeClinicSettings,
  changeTreatmentPrice,
  derivedId,
  listTreatment,
  setCancellationPolicy,
  setOpeningHours,
  setSlotConfiguration,
  unlistTreatment,
} from '@/lib/commands';
import { clinic as clinicDomain } from '@/lib/domain';
import type { Position } from '@/lib/eventstore';
import { waitForReadModels } from '@/lib/queries/freshness';
import { requireClinicManager } from '@/lib/queries/manage';
import { appCommandDeps } from '@/lib/runtime/command-deps';
import { validatedActionWithUser, type ActionContext, type FormState } from './validated';

// ── Form fields (error messages are keys under manage.errors) ─────────────────────────────────────

const text = (max: number) => z.string({ error: 'required' }).trim().min(1, { error: 'required' }).max(max, { error: 'tooLong' });
const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max, { error: 'tooLong' })
    .optional()
    .transform((v) => v || undefined);

/** A whole number typed by a person: "99,000", "99 000" and "₩99,000원" read as 99000. */
const whole = (min: number, max: number) =>
  z
    .string({ error: 'required' })
    .transform((s) => s.replace(/[\s,₩원]/g, ''))
    .pipe(z.string().min(1, { error: 'required' }).regex(/^\d+$/, { error: 'wholeNumber' }))
    .transform(Number)
    .pipe(z.number().min(min, { error: 'outOfRange' }).max(max, { error: 'outOfRange' }));
const optionalWhole = (min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((s) => (s ?? '').replace(/[\s,₩원]/g, '') || undefined)
    .pipe(whole(min, max).optional().or(z.undefined()));
const krw = whole(0, 100_000_000);
/** A checkbox: present ("on") or absent. */
const checkbox = z
  .string()
  .optional()
  .transform((v) => v === 'on' || v === 'true');

const base = { clinicId: clinicDomain.Id, commandId: z.uuid() };

// ── Plumbing ──────────────────────────────────────────────────────────────────────────────────────

const managePath = (clinicId: string, page = '') => `/staff/${clinicId}/manage${page ? `/${page}` : ''}`;

/**
 * A manager-only action: the manager check (requireClinicManager: the clinic's own staff with the flag;
 * everyone else 403, signed out to sign-in) runs before the form is parsed, then validatedActionWithUser
 * as for every action. The command layer checks the flag again.
 */
function managerAction<S extends z.ZodType>(schema: S, run: (data: z.infer<S>, context: ActionContext) => Promise<FormState>) {
  const action = validatedActionWithUser({ schema, roles: ['staff'] }, run);
  return async (previous: FormState, formData: FormData): Promise<FormState> => {
    const clinicId = formData.get('clinicId');
    await requireClinicManager(typeof clinicId === 'string' ? clinicId : '');
    return action(previous, formData);
  };
}

/** Read-your-writes (the public catalogue too), then the pages that show the clinic render again. */
async function settle(position: Position | null | undefined, clinicId: string, ok: string): Promise<FormState> {
  const fresh = await waitForReadModels(position);
  revalidatePath(`/staff/${clinicId}`, 'layout');
  revalidatePath(`/clinics/${clinicId}`, 'layout');
  return fresh === 'caught-up' ? { ok } : { ok, formError: 'projections.stillProcessing' };
}

// ── Treatments ────────────────────────────────────────────────────────────────────────────────────

const bookingKindsOf = (data: { consultFirst: boolean; payAndBook: boolean }): clinicDomain.BookingKind[] => [
  ...(data.consultFirst ? (['consult-first'] as const) : []),
  ...(data.payAndBook ? (['pay-and-book'] as const) : []),
];

/** The treatment's description (everything but its price and deposit), as the add and edit forms send it. */
const treatmentDetails = {
  name: text(200),
  nameEn: optionalText(200),
  category: text(50),
  durationMinutes: whole(5, 720),
  bookingMode: clinicDomain.BookingMode,
  consultFirst: checkbox,
  payAndBook: checkbox,
  consultDurationMinutes: optionalWhole(5, 720),
  taxCategory: clinicDomain.TaxCategory,
};

/** At least one booking kind; consult first needs its consultation's length. */
function refineDetails(d: { consultFirst: boolean; payAndBook: boolean; consultDurationMinutes?: number | undefined }, ctx: z.RefinementCtx) {
  if (!d.consultFirst && !d.payAndBook) ctx.addIssue({ code: 'custom', path: ['bookingKinds'], message: 'bookingKindRequired' });
  if (d.consultFirst && d.consultDurationMinutes === undefined) ctx.addIssue({ code: 'custom', path: ['consultDurationMinutes'], message: 'consultDurationRequired' });
}

export const listTreatmentAction = managerAction(
  z.object({ ...base, priceKrw: krw, depositKrw: krw, ...treatmentDetails }).superRefine(refineDetails),
  async (data, { meta }) => {
    // The id derives from the command id: a retried submit lists nothing twice.
    const treatmentId = derivedId(data.clinicId, data.commandId);
    const result = await listTreatment(
      await appCommandDeps(),
      {
        clinicId: data.clinicId,
        treatmentId,
        name: data.name,
        ...(data.nameEn ? { nameEn: data.nameEn } : {}),
        category: data.category,
        priceKrw: data.priceKrw,
        depositKrw: data.depositKrw,
        durationMinutes: data.durationMinutes,
        bookingMode: data.bookingMode,
        bookingKinds: bookingKindsOf(data),
        ...(data.consultFirst ? { consultDurationMinutes: data.consultDurationMinutes } : {}),
        taxCategory: data.taxCategory,
      },
      meta({ commandId: data.commandId }),
    );
    await settle(result.position, data.clinicId, 'manage.treatments.added');
    // Back to the list, which names the new treatment.
    redirect(`${managePath(data.clinicId)}?added=${encodeURIComponent(treatmentId)}`);
  },
);

export const changeTreatmentPriceAction = managerAction(
  z.object({ ...base, treatmentId: clinicDomain.Id, priceKrw: krw, depositKrw: krw }),
  async (data, { meta }) => {
    const result = await changeTreatmentPrice(
      await appCommandDeps(),
      { clinicId: data.clinicId, treatmentId: data.treatmentId, priceKrw: data.priceKrw, depositKrw: data.depositKrw },
      meta({ commandId: data.commandId }),
    );
    return settle(result.position, data.clinicId, result.events.length ? 'manage.treatments.priceChanged' : 'manage.unchanged');
  },
);

export const unlistTreatmentAction = managerAction(z.object({ ...base, treatmentId: clinicDomain.Id }), async (data, { meta }) => {
  const result = await unlistTreatment(await appCommandDeps(), { clinicId: data.clinicId, treatmentId: data.treatmentId }, meta({ commandId: data.commandId }));
  await settle(result.position, data.clinicId, 'manage.treatments.unlisted');
  redirect(`${managePath(data.clinicId)}?unlisted=${encodeURIComponent(data.treatmentId)}`);
});

// ── Hours and slots ───────────────────────────────────────────────────────────────────────────────

const TIME = /^(([01]\d|2[0-3]):[0-5]\d|24:00)$/;
const minutesOf = (t: string) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5));

/**
 * The week as the form sends it: `w<weekday>.<n>.opens` / `.closes` per interval (a break is the gap
 * between two intervals), blank rows ignored, up to six a day. Errors are reported on the weekday
 * (`w<weekday>`); the decider checks the result again (InvalidOpeningHoursError).
 */
function openingHoursOf(values: Record<string, unknown>, ctx: z.RefinementCtx): clinicDomain.OpeningInterval[] {
  const hours: clinicDomain.OpeningInterval[] = [];
  const field = (name: string) => (typeof values[name] === 'string' ? (values[name] as string).trim() : '');
  for (let weekday = 0; weekday <= 6; weekday++) {
    const day: clinicDomain.OpeningInterval[] = [];
    for (let n = 0; n < 6; n++) {
      const opens = field(`w${weekday}.${n}.opens`);
      const closes = field(`w${weekday}.${n}.closes`);
      if (!opens && !closes) continue;
      if (!TIME.test(opens) || !TIME.test(closes)) {
        ctx.addIssue({ code: 'custom', path: [`w${weekday}`], message: 'timeInvalid' });
        break;
      }
      if (minutesOf(opens) >= minutesOf(closes)) {
        ctx.addIssue({ code: 'custom', path: [`w${weekday}`], message: 'opensBeforeCloses' });
        break;
      }
      day.push({ weekday, opens, closes });
    }
    day.sort((a, b) => minutesOf(a.opens) - minutesOf(b.opens));
    if (day.some((x, i) => i > 0 && minutesOf(x.opens) < minutesOf(day[i - 1]!.closes))) {
      ctx.addIssue({ code: 'custom', path: [`w${weekday}`], message: 'intervalsOverlap' });
    }
    hours.push(...day);
  }
  return hours;
}

export const setOpeningHoursAction = managerAction(
  z.looseObject(base).transform((values, ctx) => ({ clinicId: values.clinicId, commandId: values.commandId, openingHours: openingHoursOf(values, ctx) })),
  async (data, { meta }) => {
    const result = await setOpeningHours(await appCommandDeps(), { clinicId: data.clinicId, openingHours: data.openingHours }, meta({ commandId: data.commandId }));
    return settle(result.position, data.clinicId, result.events.length ? 'manage.hours.saved' : 'manage.unchanged');
  },
);

export const setSlotConfigurationAction = managerAction(
  z.object({ ...base, slotLengthMinutes: whole(5, 240), slotCapacity: whole(1, 100) }),
  async (data, { meta }) => {
    const result = await setSlotConfiguration(
      await appCommandDeps(),
      { clinicId: data.clinicId, slotLengthMinutes: data.slotLengthMinutes, slotCapacity: data.slotCapacity },
      meta({ commandId: data.commandId }),
    );
    return settle(result.position, data.clinicId, result.events.length ? 'manage.slots.saved' : 'manage.unchanged');
  },
);

// ── Policy and settings ───────────────────────────────────────────────────────────────────────────

export const setCancellationPolicyAction = managerAction(
  z.object({
    ...base,
    freeCancellationHours: whole(0, 720),
    lateCancellationFeeKrw: krw,
    noShowForfeitsDeposit: checkbox,
    minimumNoticeHours: whole(0, 720),
  }),
  async (data, { meta }) => {
    const { clinicId, commandId, ...policy } = data;
    const result = await setCancellationPolicy(await appCommandDeps(), { clinicId, policy }, meta({ commandId }));
    return settle(result.position, clinicId, result.events.length ? 'manage.policy.saved' : 'manage.unchanged');
  },
);

export const changeClinicSettingsAction = managerAction(
  z.object({ ...base, bookingHorizonDays: whole(1, 730), paymentDeadlineMinutes: whole(5, 1440), noShowGraceMinutes: whole(0, 1440) }),
  async (data, { meta }) => {
    const { clinicId, commandId, ...settings } = data;
    const result = await changeClinicSettings(await appCommandDeps(), { clinicId, ...settings }, meta({ commandId }));
    return settle(result.position, clinicId, result.events.length ? 'manage.settings.saved' : 'manage.unchanged');
  },
);
