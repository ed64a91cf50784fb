/**
 * Booking over HTTP as the booking page's form does it, for e2e/double-booking.spec.ts and the HTTP
 * benchmark (bench/http.ts): the real server action `bookAction` of app/actions/booking.ts (its id
 * from the build's server-reference manifest, as the page's client reference carries it), posted
 * with a Next-Action header and the form encoded as React encodes an action's arguments. The answer
 * is classified the way the page reads it: a redirect to the reservation (booked), the domain's
 * "slot full" as the form's error, or anything else (kept, for the caller to report).
 * Outside `app/` and `lib/` on purpose: not an input of the production build.
 */
import fs from 'node:fs';
import path from 'node:path';
import { encode } from 'next-auth/jwt';
import { derivedId } from '../../lib/commands/metadata';

export const SLOT_FULL = 'domainErrors.schedule.slot_over_capacity';

/** The action id the build gave `file#name` (the browser gets it from the page's client reference). */
export function serverActionId(file: string, name: string, buildDir = '.next'): string {
  const manifest = JSON.parse(fs.readFileSync(path.resolve(buildDir, 'server/server-reference-manifest.json'), 'utf8')) as {
    node: Record<string, { filename?: string; exportedName?: string }>;
  };
  const found = Object.entries(manifest.node).find(([, a]) => a.filename === file && a.exportedName === name);
  if (!found) throw new Error(`no action ${file}#${name} in the build`);
  return found[0];
}

/** The id of the booking form's action in the build. */
export const bookActionId = (buildDir?: string) => serverActionId('app/actions/booking.ts', 'bookAction', buildDir);

/** The session cookie sign-in sets for `user` (an Auth.js JWT sealed with AUTH_SECRET). */
export async function sessionCookieOf(user: { id: string; role: string; clinicId: string | null; name: string; email: string }, secret: string): Promise<string> {
  const token = await encode({ token: { sub: user.id, role: user.role, clinicId: user.clinicId, name: user.name, email: user.email }, secret, salt: 'authjs.session-token' });
  return `authjs.session-token=${token}`;
}

/** The body a browser posts for `action(previousState, formData)`: React's reply encoding (root "0", the form's fields as part 1, "_1_<name>"). */
export function actionBody(previous: unknown, fields: Record<string, string>): FormData {
  const body = new FormData();
  for (const [k, v] of Object.entries(fields)) body.append(`_1_${k}`, v);
  body.append('0', JSON.stringify([previous, '$K1']));
  return body;
}

export interface BookingFields {
  clinicId: string;
  treatmentId: string;
  kind: 'consult-first' | 'pay-and-book';
  /** ISO instant on the clinic's slot grid. */
  startsAt: string;
  /** The form's command id (a UUID): the reservation id derives from it. */
  commandId: string;
}

export interface BookingAnswer {
  status: number;
  /** From just before the request until its whole body was read. */
  ms: number;
  /** Booked: the reservation the redirect leads to (derived from the command id, and checked against it). */
  reservationId: string | null;
  /** The redirect carried `?processing=1`: the read models had not caught up within the action's wait. */
  processing: boolean;
  /** Refused with the domain's "slot full". */
  slotFull: boolean;
  /** Anything else: status, redirect and the start of the body. */
  other: string | null;
}

/** Posts the booking form of `base`'s booking page as `cookie`'s session, and reads the answer to its end. */
export async function postBooking(base: string, cookie: string, actionId: string, fields: BookingFields): Promise<BookingAnswer> {
  const sent = performance.now();
  const response = await fetch(`${base}/clinics/${fields.clinicId}/book`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'next-action': actionId, accept: 'text/x-component', origin: base, cookie },
    body: actionBody({}, { ...fields }),
  });
  const text = await response.text();
  const ms = performance.now() - sent;
  const redirect = response.headers.get('x-action-redirect') ?? '';
  const expected = derivedId('rsv', fields.commandId);
  const booked = new RegExp(`^/(me/reservations|checkout/reservation)/${expected}(\\?processing=1)?;`).test(redirect);
  const slotFull = !booked && text.includes(`"formError":"${SLOT_FULL}"`);
  return {
    status: response.status,
    ms,
    reservationId: booked ? expected : null,
    processing: booked && redirect.includes('?processing=1'),
    slotFull,
    other: booked || slotFull ? null : `${response.status} ${redirect} ${text.slice(0, 300)}`,
  };
}
