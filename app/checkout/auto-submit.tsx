'use client';

import { useActionState, useEffect, useRef } from 'react';
import { useTranslations } from 'next-intl';
import type { FormState } from '@/app/actions/validated';
import { SubmitButton } from '@/app/components/form';

/**
 * A PG return URL's server step (confirm on success, record on failure), sent as a server action
 * because pages only read: submitted once on arrival; without JavaScript the button does it. Both
 * steps are idempotent, so a second submit is harmless.
 */
export function AutoSubmit({
  action: serverAction,
  fields,
  pending,
  button,
}: {
  action: (state: FormState, formData: FormData) => Promise<FormState>;
  fields: Record<string, string>;
  pending: string;
  button: string;
}) {
  const tAll = useTranslations();
  const [state, action] = useActionState<FormState, FormData>(serverAction, {});
  const form = useRef<HTMLFormElement>(null);
  const sent = useRef(false);
  useEffect(() => {
    if (sent.current) return;
    sent.current = true;
    form.current?.requestSubmit();
  }, []);
  return (
    <form ref={form} action={action} className="flex flex-col gap-3" data-testid="auto-submit">
      {Object.entries(fields).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      {state.formError ? (
        <p role="alert" data-testid="form-error" className="rounded border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800">
          {tAll.has(state.formError as never) ? tAll(state.formError as never) : tAll('errors.unexpected')}
        </p>
      ) : (
        <p role="status">{pending}</p>
      )}
      <SubmitButton label={button} pendingLabel={pending} />
    </form>
  );
}
