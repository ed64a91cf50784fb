import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy, newNonce, staticSecurityHeaders } from './security-headers';

describe('security headers', () => {
  it('the CSP allows scripts only with this request’s nonce, and no framing', () => {
    const nonce = newNonce();
    expect(nonce).not.toBe(newNonce());
    expect(Buffer.from(nonce, 'base64')).toHaveLength(16);
    const csp = contentSecurityPolicy(nonce, { dev: false });
    expect(csp).toContain(`script-src 'self' 'nonce-${nonce}' 'strict-dynamic'`);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-eval|script-src[^;]*unsafe-inline/);
    expect(contentSecurityPolicy(nonce, { dev: true })).toContain("'unsafe-eval'");
  });

  it('next.config.js sends the static headers on every path', async () => {
    // @ts-expect-error next.config.js is plain JavaScript without types
    const { default: nextConfig } = await import('../../next.config.js');
    const rules = await (nextConfig as { headers(): Promise<Array<{ source: string; headers: unknown }>> }).headers();
    expect(rules).toEqual([{ source: '/:path*', headers: [...staticSecurityHeaders] }]);
  });
});
