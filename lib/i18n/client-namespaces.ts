/**
 * Which message namespaces the browser gets, per route segment. The root layout hands the client no
 * messages (no client component outside these segments translates); each segment whose client
 * components translate wraps its pages in app/components/client-messages.tsx with its namespaces.
 * Before, every page carried every namespace of the locale to the client (≈ 66 kB of JSON inside
 * each HTML response and RSC payload, serialised, parsed and compressed per request;
 * docs/PERFORMANCE.md "Pages over HTTP").
 *
 * A segment's list: the namespaces its client components call useTranslations() with, plus the
 * namespaces of the keys its server actions answer with (formError, ok and field errors are i18n keys
 * shown by the client: validated.ts's `errors.*` and `domainErrors.*`, `projections.*` for "still
 * processing", and each action's own). lib/i18n/client-namespaces.test.ts fails when a client
 * component translates a namespace its segment does not hand over.
 */

/** Keys any form may show (app/actions/validated.ts, app/components/form.tsx). */
const forms = ['errors', 'domainErrors', 'projections'] as const;

export const clientNamespaces = {
  /** app/admin: account forms, payments, projections. */
  admin: [...forms, 'admin', 'adminPayments'],
  /** app/audit: name reveal, integrity, access review. */
  audit: [...forms, 'audit', 'integrity', 'accessReview'],
  /** app/checkout: the payment widget and its outcome forms. */
  checkout: [...forms, 'checkout'],
  /** app/clinics/[clinicId]/book: the booking form. */
  book: [...forms, 'booking'],
  /** app/me: change (cancel, reschedule) and account forms. */
  me: [...forms, 'me', 'account'],
  /** app/register and app/signin: the auth actions answer with keys of all three. */
  auth: [...forms, 'register', 'signIn', 'security'],
  /** app/staff/[clinicId]: desk, board, manage, payments, patients. */
  staff: [...forms, 'staffToday', 'visitBoard', 'staffForms', 'manage', 'desk', 'access'],
} as const satisfies Record<string, readonly string[]>;

export type ClientSegment = keyof typeof clientNamespaces;

/** The route directories (under app/) each segment's layout covers. */
export const clientSegmentDirs: Record<ClientSegment, readonly string[]> = {
  admin: ['app/admin'],
  audit: ['app/audit'],
  checkout: ['app/checkout'],
  book: ['app/clinics/[clinicId]/book'],
  me: ['app/me'],
  auth: ['app/register', 'app/signin'],
  staff: ['app/staff/[clinicId]'],
};

/** `messages` restricted to `namespaces` (top-level names). */
export function pickNamespaces(messages: Record<string, unknown>, namespaces: readonly string[]): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const ns of namespaces) if (ns in messages) picked[ns] = messages[ns];
  return picked;
}
