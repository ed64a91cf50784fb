/**
 * The production web server: Next.js behind a plain Node HTTP server, so the client address the app
 * sees (X-Forwarded-For, used for sign-in throttling, security events and event metadata) is the
 * socket's, not whatever a client chose to send. `next start` would keep a client-sent header.
 * Behind a load balancer that overwrites X-Forwarded-For, set TRUST_PROXY=true to keep its value.
 */
import http from 'node:http';
import next from 'next';

const port = Number(process.env.PORT ?? 3000);
const hostname = process.env.SERVE_HOST || undefined;
const trustProxy = process.env.TRUST_PROXY === 'true';

const app = next({ dev: false, port, hostname: hostname ?? 'localhost' });
const handle = app.getRequestHandler();
await app.prepare();

const server = http.createServer((req, res) => {
  if (!trustProxy) {
    req.headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
    delete req.headers['x-real-ip'];
  }
  void handle(req, res);
});
server.listen(port, hostname, () => console.log(`▲ Next.js production server ready on http://${hostname ?? 'localhost'}:${port}`));

const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 5_000).unref();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
