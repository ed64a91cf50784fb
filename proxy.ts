import NextAuth from 'next-auth';
import { NextResponse, type NextFetchEvent, type NextRequest } from 'next/server';
import { signInPathFor } from './lib/auth/callback';
import { authConfig } from './lib/auth/config';
import { decideRoute, homeFor, type SessionUser } from './lib/auth/roles';
import { contentSecurityPolicy, newNonce } from './lib/auth/security-headers';

const { auth } = NextAuth(authConfig);
const dev = process.env.NODE_ENV === 'development';

/**
 * Route protection, first line of defence only: every page, action and query checks again with
 * requireUser(). Not signed in: to sign-in, remembering the page asked for as a relative path with its
 * query (what the sign-in action follows; Auth.js's default would put the absolute URL there).
 */
const protect = auth((request) => {
  const user = request.auth?.user ? (request.auth.user as SessionUser) : null;
  const { pathname, search } = request.nextUrl;
  const decision = decideRoute(pathname, user);
  if (decision === 'sign-in') return NextResponse.redirect(new URL(signInPathFor(pathname, search), request.nextUrl));
  // The page refused is named, so that /forbidden can record the refusal (the proxy has no database).
  if (decision === 'forbidden') return NextResponse.redirect(new URL(`/forbidden?from=${encodeURIComponent(pathname)}`, request.nextUrl));
  if (user && (pathname === '/signin' || pathname === '/register')) return NextResponse.redirect(new URL(homeFor(user), request.nextUrl));
  return pass(request);
}) as unknown as (request: NextRequest, event: NextFetchEvent) => Promise<Response>;

/** Lets the request through with this request's nonce-based CSP on it (Next.js nonces its scripts from it). */
function pass(request: NextRequest): NextResponse {
  const csp = contentSecurityPolicy(newNonce(), { dev });
  const headers = new Headers(request.headers);
  headers.set('content-security-policy', csp);
  return NextResponse.next({ request: { headers } });
}

function isProtected(pathname: string): boolean {
  return decideRoute(pathname, null) !== 'allow' || pathname === '/signin' || pathname === '/register';
}

/**
 * Auth.js re-issues the session cookie on every request it checks. A request still in flight when the
 * user signs out would then put the session back (seen: "signing out ends the session" failing now and
 * then), so only sign-in sets the session cookie; a session lasts its maxAge from sign-in.
 */
function withoutSessionRefresh(response: Response): Response {
  const cookies = response.headers.getSetCookie();
  const kept = cookies.filter((c) => !/^(__Secure-)?authjs\.session-token(\.\d+)?=/.test(c));
  if (kept.length === cookies.length) return response;
  response.headers.delete('set-cookie');
  for (const c of kept) response.headers.append('set-cookie', c);
  return response;
}

export async function proxy(request: NextRequest, event: NextFetchEvent) {
  // Public pages need no session: skip decoding it.
  const response = isProtected(request.nextUrl.pathname) ? withoutSessionRefresh(await protect(request, event)) : pass(request);
  // The response's policy is the one the page renders with (NextResponse.next carries it as a request override).
  const rendered = response.headers.get('x-middleware-request-content-security-policy');
  response.headers.set('content-security-policy', rendered ?? contentSecurityPolicy(newNonce(), { dev }));
  return response;
}

export const config = {
  // Every page (its HTML needs the CSP), not Next's static files, images or API routes (JSON, events).
  matcher: ['/((?!api/|_next/static|_next/image|favicon\\.ico|.*\\.(?:png|jpg|jpeg|svg|webp|ico|woff2?|txt)$).*)'],
};
