import NextAuth, { CredentialsSignin } from 'next-auth';
import Credentials from 'next-auth/providers/credentials';
import { db } from '../db/client';
import { authConfig } from './config';
import { logUnexpected } from '../runtime/logging';
import { requestOrigin } from '../runtime/request-origin';
import { signInSchema, signInWithPassword } from './sign-in';

/** Thrown to Auth.js when sign-in fails; `code` tells the form which message to show. */
class SignInRefused extends CredentialsSignin {
  constructor(code: 'invalid' | 'unverified' | 'throttled', retryAfterSeconds = 0) {
    super();
    this.code = code === 'throttled' ? `throttled:${retryAfterSeconds}` : code;
  }
}

export const { handlers, auth, signIn, signOut } = NextAuth({
  ...authConfig,
  providers: [
    Credentials({
      credentials: { email: {}, password: {} },
      async authorize(credentials, request) {
        const parsed = signInSchema.safeParse(credentials);
        if (!parsed.success) throw new SignInRefused('invalid');
        const result = await signInWithPassword(db(), parsed.data, requestOrigin(request.headers));
        if (result.ok) return result.user;
        throw new SignInRefused(result.reason, result.reason === 'throttled' ? result.retryAfterSeconds : 0);
      },
    }),
  ],
  logger: {
    // Refused sign-ins are expected and already recorded as security events; an expired or garbled
    // session cookie is simply no session.
    error(error) {
      const type = (error as { type?: string }).type;
      if (error instanceof CredentialsSignin || type === 'CredentialsSignin' || type === 'JWTSessionError') return;
      logUnexpected(error);
    },
  },
});

export { SignInRefused };
