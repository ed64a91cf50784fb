import NextAuth from 'next-auth';
import { NextResponse, type NextFetchEvent, type NextRequest } from 'next/server';
import { signInPathFor } from './lib/auth/callback';
import { authConfig } from './lib/auth/config';
import { decideRoute, homeFor, type SessionUser } from './lib/auth/roles';

const { auth } = NextAuth(authConfig);

/**
 * First line of defence only: every page, action and query checks again with requireUser().
 * Not signed in: to sign-in, remembering the page asked for as a relative path with its query
 * (what the sign-in action follows; Auth.js's default would put the absolute URL there).
 */
const protect = auth((request) => {
  const user = request.auth?.user ? (request.auth.user as SessionUser) : null;
  const { pathname, search } = request.nextUrl;
  const decision = decideRoute(pathname, user);
  if (decision === 'sign-in') return NextResponse.redirect(new URL(signInPathFor(pathname, search), request.nextUrl));
  if (decision === 'forbidden') return NextResponse.redirect(new URL('/forbidden', request.nextUrl));
  if (user && (pathname === '/signin' || pathname === '/register')) return NextResponse.redirect(new URL(homeFor(user), request.nextUrl));
  return NextResponse.next();
}) as unknown as (request: NextRequest, event: NextFetchEvent) => Promise<Response>;

export function proxy(request: NextRequest, event: NextFetchEvent) {
  return protect(request, event);
}

export const config = {
  matcher: ['/me/:path*', '/staff/:path*', '/audit/:path*', '/admin/:path*', '/signin', '/register'],
};
