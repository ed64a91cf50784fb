/** `npm run build`: a production build, skipped when the existing one is up to date. */
import { buildIfStale } from './lib/build';

await buildIfStale((m) => console.log(`[build] ${m}`));
