/**
 * The request scope Next.js gives server components and actions, for tests that call pages,
 * queries and server actions directly (no Next.js server, no proxy). Use as module mocks:
 *
 *   vi.mock('next/headers', () => import('@/lib/testing/next-request'));
 *   vi.mock('next/cache', () => import('@/lib/testing/next-request').then((m) => m.nextCache));
 *   vi.mock('next-intl/server', () => import('@/lib/testing/next-request').then((m) => m.nextIntlServer()));
 *
 * The session is a real Auth.js session cookie (signInAs encodes it with AUTH_SECRET, as sign-in
 * would): the real `auth()` decodes it and `requireUser` checks the account in the database. Only
 * the request itself is supplied here, never an authorisation decision.
 */
import { encode } from 'next-auth/jwt';
import type { Role } from '../db/schema';

const request = { cookie: '' };

/** next/headers */
export async function headers(): Promise<Headers> {
  return new Headers({ host: 'localhost:3000', 'x-forwarded-proto': 'http', 'user-agent': 'vitest', cookie: request.cookie });
}
export async function cookies() {
  return { get: () => undefined, getAll: () => [], has: () => false, set: () => {}, delete: () => {} };
}

/** next/cache: outside a Next.js render there is nothing to revalidate. */
export const nextCache = { revalidatePath: () => {}, revalidateTag: () => {}, unstable_cache: <T>(fn: T) => fn };

/** next-intl/server: the request's translator, with the real Korean messages. */
export async function nextIntlServer() {
  const { createTranslator } = await import('use-intl/core');
  const { loadMessages } = await import('../i18n/messages');
  const messages = await loadMessages('ko');
  return {
    getTranslations: async (namespace?: string) => createTranslator({ locale: 'ko', messages, timeZone: 'Asia/Seoul', ...(namespace ? { namespace } : {}) } as never),
    getLocale: async () => 'ko',
    getMessages: async () => messages,
    getTimeZone: async () => 'Asia/Seoul',
    getNow: async () => new Date(),
    getFormatter: async () => ({}),
  };
}

export interface TestAccount {
  id: string;
  email: string;
  name: string;
  role: Role;
  clinicId: string | null;
  /** Staff only: the clinic-manager flag of the account row (requireUser reads it from there). */
  clinicManager?: boolean;
}

/** The session cookie Auth.js sets at sign-in (its claims as of then); null signs out. */
export async function signInAs(account: TestAccount | null, secret = process.env.AUTH_SECRET!): Promise<void> {
  if (!account) {
    request.cookie = '';
    return;
  }
  const jwt = await encode({
    token: { sub: account.id, role: account.role, clinicId: account.clinicId, name: account.name, email: account.email },
    secret,
    salt: 'authjs.session-token',
  });
  request.cookie = `authjs.session-token=${jwt}`;
}

export type Outcome = 'allowed' | 'forbidden' | 'not-found' | 'sign-in' | `redirect ${string}` | `error ${string}`;

/** What calling a page, query or action did: ran, answered 403/404, or redirected (to sign-in or elsewhere). */
export async function outcome(call: () => Promise<unknown>): Promise<Outcome> {
  try {
    await call();
    return 'allowed';
  } catch (error) {
    const digest = String((error as { digest?: string }).digest ?? '');
    if (digest === 'NEXT_HTTP_ERROR_FALLBACK;403') return 'forbidden';
    if (digest === 'NEXT_HTTP_ERROR_FALLBACK;404') return 'not-found';
    if (digest.startsWith('NEXT_REDIRECT')) {
      const target = digest.split(';')[2] ?? '';
      return target.startsWith('/signin') ? 'sign-in' : `redirect ${target}`;
    }
    return `error ${(error as Error).message}`;
  }
}

/** Sets what the app's processes read from the environment, for a test database. */
export function useTestEnvironment(databaseUrl: string): void {
  process.env.DATABASE_URL = databaseUrl;
  process.env.AUTH_SECRET = 'next-request-test-auth-secret-0123456789';
  process.env.EVENT_HMAC_KEY = 'next-request-test-hmac-key-0123456789';
  process.env.PERSONAL_DATA_MASTER_KEY = Buffer.alloc(32, 3).toString('base64');
  process.env.SEAL_SIGNING_KEY = Buffer.alloc(32, 5).toString('base64');
  // next.config.js turns on authInterrupts (forbidden()); Next passes it to the server as this variable.
  process.env.__NEXT_EXPERIMENTAL_AUTH_INTERRUPTS = 'true';
}
