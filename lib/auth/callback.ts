import { decideRoute, homeFor, type SessionUser } from './roles';

const base = 'http://same-site.invalid';

/**
 * Where to send a user after signing in: the page they asked for, if it is a path on this site
 * (relative only, never another host) that they may open; otherwise their home. Browsers treat
 * `//host`, `/\host` and anything that normalises to them (`/.//host`, `/%09/host`…) as another site,
 * so the path is judged as a browser would resolve it, not as typed.
 */
export function safeCallback(raw: unknown, user: Pick<SessionUser, 'role' | 'clinicId'>): string {
  const home = homeFor(user);
  const path = sitePath(raw);
  if (!path) return home;
  const pathname = new URL(path, base).pathname;
  if (pathname === '/signin' || pathname === '/register') return home;
  return decideRoute(pathname, user) === 'allow' ? path : home;
}

/** `raw` as a path and query on this site, or null if it is not one (or could leave the site). */
export function sitePath(raw: unknown): string | null {
  if (typeof raw !== 'string' || raw === '' || raw.length > 2000) return null;
  if (!raw.startsWith('/') || raw.startsWith('//') || raw.includes('\\')) return null;
  // Control characters: the URL parser drops tabs and newlines ('/\t/host' becomes '//host').
  if (/[\u0000-\u001f\u007f]/.test(raw)) return null;
  let target: URL;
  try {
    target = new URL(raw, base);
  } catch {
    return null;
  }
  if (target.origin !== base) return null;
  // '/.//host' resolves to the path '//host'; '/%2F/host' or '/%5Chost' become '//host' or '/\host'
  // once something decodes them.
  let decoded: string;
  try {
    decoded = decodeURIComponent(target.pathname);
  } catch {
    return null;
  }
  if (target.pathname.startsWith('//') || decoded.startsWith('//') || decoded.includes('\\')) return null;
  return `${target.pathname}${target.search}`;
}

/** The sign-in page, remembering the page asked for as a relative path (what safeCallback follows). */
export function signInPathFor(pathname: string, search = ''): string {
  const asked = sitePath(`${pathname}${search}`);
  return asked && asked !== '/' ? `/signin?callbackUrl=${encodeURIComponent(asked)}` : '/signin';
}
