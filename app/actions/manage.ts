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
  cancelReservation,
  changeClinicSettings,
  changeTreatmentDetails,
  closeDay,
  changeTreatmentPrice,
  derivedId,
  listTreatment,
  reopenDay,
  rescheduleReservation,
  setCancellationPolicy,
  subCommand,
  setOpeningHours,
  setSlotConfiguration,
  unlistTreatment,
} from '@/lib/commands';
import { atLocal, clinicDay, clinic as clinicDomain, DayKey, plusMinutes } from '@/lib/domain';
import type { Position } from '@/lib/eventstore';
import { waitForReadModels } from '@/lib/queries/freshness';
import { requireClinicManager } from '@/lib/queries/manage';
import { appCommandDeps } from '@/lib/runtime/command-deps';
import { postedForm, validatedActionWithUser, type ActionContext, type FormState } from './validated';

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
    .pipe(z.string().min(1, { error: 'required', abort: true }).regex(/^\d+$/, { error: 'wholeNumber' }))
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
  return async (previous: FormState, posted: FormData): Promise<FormState> => {
    const formData = postedForm(posted);
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

/** Everything but the price: the decider records only what changed, with its previous value. */
export const changeTreatmentDetailsAction = managerAction(
  z.object({ ...base, treatmentId: clinicDomain.Id, ...treatmentDetails }).superRefine(refineDetails),
  async (data, { meta }) => {
    const result = await changeTreatmentDetails(
      await appCommandDeps(),
      {
        clinicId: data.clinicId,
        treatmentId: data.treatmentId,
        name: data.name,
        // Blank clears the English name.
        nameEn: data.nameEn ?? null,
        category: data.category,
        durationMinutes: data.durationMinutes,
        bookingMode: data.bookingMode,
        bookingKinds: bookingKindsOf(data),
        ...(data.consultFirst ? { consultDurationMinutes: data.consultDurationMinutes } : {}),
        taxCategory: data.taxCategory,
      },
      meta({ commandId: data.commandId }),
    );
    return settle(result.position, data.clinicId, result.events.length ? 'manage.treatments.detailsChanged' : 'manage.unchanged');
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

/** How long a visit may stay in each stage before the board highlights its card (1–1440 minutes each). */
export const setStageThresholdsAction = managerAction(
  z.object({ ...base, arrived: whole(1, 1440), consultation: whole(1, 1440), procedure: whole(1, 1440), recovery: whole(1, 1440) }),
  async (data, { meta }) => {
    const { clinicId, commandId, ...stageThresholdMinutes } = data;
    const result = await changeClinicSettings(await appCommandDeps(), { clinicId, stageThresholdMinutes }, meta({ commandId }));
    return settle(result.position, clinicId, result.events.length ? 'manage.thresholds.saved' : 'manage.unchanged');
  },
);

// ── Holidays and one-off closures ─────────────────────────────────────────────────────────────────

const MAX_CLOSURE_DAYS = 31;
// The domain's clinic day (which days exist is its rule), reported as the form's one 'dateInvalid'.
const day = z.string({ error: 'dateInvalid' }).refine((d) => DayKey.safeParse(d).success, { error: 'dateInvalid' });

/** The clinic days from `from` to `to`, both included (the day after `to` is never computed: after 9999-12-31 there is none). */
function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let d = from; d <= to; d = clinicDay(plusMinutes(atLocal(d, '12:00'), 24 * 60))) {
    days.push(d);
    if (d === to || days.length > MAX_CLOSURE_DAYS) break;
  }
  return days;
}

/**
 * Close one day, or each day of a range (a holiday of several days), with one reason. Each day is its
 * own CloseDay (a sub-command of the form's command id, so a retried submit closes nothing twice).
 * The bookings already on those days stay; the page lists them to be moved or cancelled.
 */
export const closeDaysAction = managerAction(
  z
    .object({ ...base, from: day, to: z.union([z.literal(''), day]).optional(), reason: text(200) })
    .superRefine(
      (d, ctx) => {
        if (d.to && d.to < d.from) ctx.addIssue({ code: 'custom', path: ['to'], message: 'endBeforeStart' });
        else if (d.to && daysBetween(d.from, d.to).length > MAX_CLOSURE_DAYS) ctx.addIssue({ code: 'custom', path: ['to'], message: 'rangeTooLong' });
      },
      // Only on two days that exist: a field's issue does not stop an object's refinement, and daysBetween
      // on a day with no key (year 0000) crashed in atLocal. A bad day already has its 'dateInvalid'.
      { when: (payload) => !payload.issues.some((issue) => issue.path?.[0] === 'from' || issue.path?.[0] === 'to') },
    ),
  async (data, { meta }) => {
    const deps = await appCommandDeps();
    const command = meta({ commandId: data.commandId });
    let position: Position | null = null;
    for (const d of daysBetween(data.from, data.to || data.from)) {
      position = (await closeDay(deps, { clinicId: data.clinicId, day: d, reason: data.reason }, subCommand(command, d))).position ?? position;
    }
    return settle(position, data.clinicId, 'manage.closures.closed');
  },
);

export const reopenDayAction = managerAction(z.object({ ...base, day }), async (data, { meta }) => {
  const result = await reopenDay(await appCommandDeps(), { clinicId: data.clinicId, day: data.day }, meta({ commandId: data.commandId }));
  return settle(result.position, data.clinicId, 'manage.closures.reopened');
});

// ── The bookings still on a closed day: moved or cancelled by the clinic ──────────────────────────

const TIME_OF_DAY = z.string({ error: 'timeInvalid' }).regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: 'timeInvalid' });

/**
 * Move a booking to another day and time (the clinic's reschedule: the new slot is held first, so a full,
 * closed or unaligned slot is refused with the domain's message and the booking stays where it was).
 */
export const moveBookingAction = managerAction(z.object({ ...base, reservationId: clinicDomain.Id, day, time: TIME_OF_DAY }), async (data, { user, meta }) => {
  const result = await rescheduleReservation(
    await appCommandDeps(),
    { reservationId: data.reservationId, startsAt: atLocal(data.day, data.time).toISOString(), by: 'staff', staffId: user.id },
    meta({ commandId: data.commandId }),
  );
  return settle(result.position, data.clinicId, 'manage.closures.moved');
});

/** Cancel a booking on the clinic's side, with the reason the patient is told (the deposit is refunded in full). */
export const cancelBookingAction = managerAction(
  z.object({ ...base, reservationId: clinicDomain.Id, reason: z.string({ error: 'reasonRequired' }).trim().min(1, { error: 'reasonRequired' }).max(1000, { error: 'tooLong' }) }),
  async (data, { user, meta }) => {
    const result = await cancelReservation(await appCommandDeps(), { reservationId: data.reservationId, by: 'staff', staffId: user.id, reason: data.reason }, meta({ commandId: data.commandId }));
    return settle(result.position, data.clinicId, 'manage.closures.cancelled');
  },
);
