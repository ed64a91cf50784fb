/**
 * HTTP security headers. The content security policy is nonce-based, as Next.js supports it: the
 * proxy makes a fresh nonce per request, puts the policy on the request (Next.js reads the nonce from
 * there and puts it on its own scripts) and on the response. Pages must render per request for that,
 * which the root layout does (force-dynamic); public data is cached below the page.
 * frame-ancestors 'none' (and X-Frame-Options for older browsers) keeps every page out of frames,
 * so nobody can clickjack an admin into "rebuild all".
 */
export function newNonce(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes));
}

export function contentSecurityPolicy(nonce: string, options: { dev: boolean }): string {
  return [
    "default-src 'self'",
    // 'strict-dynamic': scripts the nonced framework scripts load are allowed too (Next's chunks).
    // React's development build needs eval for its debugging aids; production never gets it.
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${options.dev ? " 'unsafe-eval'" : ''}`,
    // Inline style attributes (React's style prop) cannot carry a nonce.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The headers every response gets (next.config.js sets them; listed here to have them in one place). */
export const staticSecurityHeaders = [
  // Ignored by browsers over plain HTTP (the embedded start on localhost); effective behind TLS.
  { key: 'Strict-Transport-Security', value: 'max-age=63072000; includeSubDomains' },
  { key: 'X-Frame-Options', value: 'DENY' },
  { key: 'X-Content-Type-Options', value: 'nosniff' },
  { key: 'Referrer-Policy', value: 'strict-origin-when-cross-origin' },
  { key: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=()' },
] as const;
