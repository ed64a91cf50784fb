/**
 * One wrapper for every server action (in the style of saas-starter's `validatedActionWithUser`):
 * require a signed-in user of the allowed roles (redirect to sign-in, or 403), parse the form with
 * zod (field errors back to the form, nothing executed), then run the action with the user and the
 * request's origin. Refusals become form state, never a stack trace:
 *   - ForbiddenError (the command layer's ownership check) → 403 page;
 *   - DomainError → `formError: 'domainErrors.<code>'` (every code has a ko/en message);
 *   - ConcurrencyConflict → `errors.conflict`; anything else is logged → `errors.unexpected`.
 * Next's redirect()/notFound()/forbidden() pass through (unstable_rethrow).
 */
import { headers } from 'next/headers';
import { forbidden, unstable_rethrow } from 'next/navigation';
import { z } from 'zod';
import { requireUser } from '@/lib/auth/guard';
import { refuse } from '@/lib/auth/refusals';
import type { SessionUser } from '@/lib/auth/roles';
import { ConcurrencyConflict, ForbiddenError, userCommandMetadata, type CommandMetadata } from '@/lib/commands';
import type { Role } from '@/lib/db/schema';
import { DomainError } from '@/lib/domain';
import { logUnexpected } from '@/lib/runtime/logging';
import { requestOrigin, type RequestOrigin } from '@/lib/runtime/request-origin';

export type FormState = {
  /** i18n key (e.g. `errors.unexpected`, `domainErrors.schedule.slot_over_capacity`) of a message about the whole form. */
  formError?: string;
  formErrorValues?: Record<string, number | string>;
  /** Field name → i18n keys under `errors.`. */
  fieldErrors?: Record<string, string[]>;
  /** What the user typed (never passwords), so a failed submit loses nothing. */
  values?: Record<string, string>;
  /** A successful action that stays on the page may say so (i18n key). */
  ok?: string;
};

export interface ActionContext {
  user: SessionUser;
  origin: RequestOrigin;
  /** The command metadata for this user and request; pass the command id the form carried. */
  meta(input?: { commandId?: string; clinicId?: string | null; correlationId?: string | null }): CommandMetadata;
}

/**
 * The posted form. A client can post any serialisable arguments to an action id, not only a form:
 * anything else reads as an empty form (field errors), never a crash.
 */
export function postedForm(input: unknown): FormData {
  return input instanceof FormData ? input : new FormData();
}

/** NUL (PostgreSQL's text and jsonb cannot hold it) or a lone surrogate (not well-formed Unicode). */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Form state refusing fields no browser sends and the database cannot store (NUL, lone surrogates),
 * or null when every field is fine. A hand-made request can carry them; they never reach a command.
 */
export function unstorableText(values: Record<string, string>): { formError: string; fieldErrors: Record<string, string[]> } | null {
  const bad = Object.keys(values).filter((k) => UNSTORABLE.test(values[k]!));
  if (!bad.length) return null;
  return { formError: 'errors.invalidCharacters', fieldErrors: Object.fromEntries(bad.map((k) => [k, ['errors.invalidCharacters']])) };
}

/** The form's text fields (files and repeated keys ignored), as zod's input. */
export function formValues(formData: FormData): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [key, value] of postedForm(formData).entries()) if (typeof value === 'string' && !key.startsWith('$ACTION')) values[key] = value;
  return values;
}

export function validatedActionWithUser<S extends z.ZodType>(
  options: { schema: S; roles: readonly Role[]; callbackUrl?: string | ((data: Record<string, string>) => string) },
  action: (data: z.infer<S>, context: ActionContext, formData: FormData) => Promise<FormState>,
): (previous: FormState, formData: FormData) => Promise<FormState> {
  return async (_previous, posted) => {
    const formData = postedForm(posted);
    const values = formValues(formData);
    const callbackUrl = typeof options.callbackUrl === 'function' ? options.callbackUrl(values) : options.callbackUrl;
    const user = await requireUser({ roles: options.roles, ...(callbackUrl ? { callbackUrl } : {}) });
    const unstorable = unstorableText(values);
    if (unstorable) return unstorable;
    const parsed = options.schema.safeParse(values);
    if (!parsed.success) {
      return { formError: 'errors.fixFields', fieldErrors: z.flattenError(parsed.error).fieldErrors as Record<string, string[]>, values };
    }
    const origin = requestOrigin(await headers());
    const context: ActionContext = { user, origin, meta: (input) => userCommandMetadata(user, origin, input) };
    try {
      return await action(parsed.data, context, formData);
    } catch (error) {
      unstable_rethrow(error);
      // The command layer's ownership check: recorded as a refusal in the trail, then the 403.
      if (error instanceof ForbiddenError) await refuse(user, { command: error.details?.command ?? null, why: error.message });
      return refusalState(error, values);
    }
  };
}

/** What a refused command becomes in a form (ForbiddenError → 403). */
export function refusalState(error: unknown, values?: Record<string, string>): FormState {
  if (error instanceof ForbiddenError) forbidden();
  if (error instanceof DomainError) return { formError: `domainErrors.${error.code}`, values };
  if (error instanceof ConcurrencyConflict) return { formError: 'errors.conflict', values };
  logUnexpected(error);
  return { formError: 'errors.unexpected', values };
}
