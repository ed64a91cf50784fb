import type { NextAuthConfig } from 'next-auth';
import type { Role } from '../db/schema';
import type { SessionUser } from './roles';

declare module 'next-auth' {
  interface Session {
    user: SessionUser;
    /** users.session_version when the session was issued (lib/auth/guard.ts compares it). */
    sessionVersion: number;
  }
}

/**
 * The part of the Auth.js configuration that needs no database: sessions and callbacks.
 * The proxy (route protection, proxy.ts) uses this alone; lib/auth/index.ts adds the provider.
 */
export const authConfig = {
  session: { strategy: 'jwt', maxAge: 8 * 60 * 60 },
  pages: { signIn: '/signin', error: '/signin' },
  trustHost: true,
  providers: [],
  callbacks: {
    jwt({ token, user }) {
      if (user) {
        const u = user as SessionUser;
        token.sub = u.id;
        token.role = u.role;
        token.clinicId = u.clinicId;
        token.clinicManager = u.isClinicManager;
        token.name = u.name;
        token.email = u.email;
        token.sv = (user as { sessionVersion?: number }).sessionVersion ?? 0;
      }
      return token;
    },
    session({ session, token }) {
      session.user = {
        ...session.user,
        id: token.sub!,
        email: token.email ?? '',
        name: token.name ?? '',
        role: token.role as Role,
        clinicId: (token.clinicId as string | null) ?? null,
        isClinicManager: token.clinicManager === true,
      } as SessionUser & typeof session.user;
      // Sessions issued before session versions existed carry none: version 0, the column's default.
      session.sessionVersion = typeof token.sv === 'number' ? token.sv : 0;
      return session;
    },
  },
} satisfies NextAuthConfig;
