import NextAuth from 'next-auth';
import type { NextFetchEvent, NextRequest } from 'next/server';
import { authConfig } from './lib/auth/config';

const { auth } = NextAuth(authConfig);
// Auth.js's `auth`, used as a request handler, runs authConfig.callbacks.authorized.
const protect = auth as unknown as (request: NextRequest, event: NextFetchEvent) => Promise<Response | undefined>;

/** First line of defence only: every page, action and query checks again with requireUser(). */
export function proxy(request: NextRequest, event: NextFetchEvent) {
  return protect(request, event);
}

export const config = {
  matcher: ['/me/:path*', '/staff/:path*', '/audit/:path*', '/admin/:path*', '/signin', '/register'],
};
