import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { runToCompletion } from './processes';

const stampFile = '.next/yeyak-build-stamp';
const inputs = ['app', 'lib', 'public', 'proxy.ts', 'next.config.js', 'postcss.config.mjs', 'tsconfig.json', 'package-lock.json'];

/** A fingerprint of everything `next build` reads (paths, sizes, mtimes), ignoring tests. */
function sourceFingerprint(): string {
  const hash = crypto.createHash('sha256');
  const visit = (p: string) => {
    if (!fs.existsSync(p)) return;
    const stat = fs.statSync(p);
    if (stat.isDirectory()) {
      for (const entry of fs.readdirSync(p).sort()) visit(path.join(p, entry));
    } else if (!/\.test\.tsx?$/.test(p)) {
      hash.update(`${p}\0${stat.size}\0${stat.mtimeMs}\n`);
    }
  };
  inputs.forEach(visit);
  return hash.digest('hex');
}

/** Runs `next build` unless the existing build was made from exactly these sources. */
export async function buildIfStale(log: (m: string) => void): Promise<void> {
  const fingerprint = sourceFingerprint();
  const fresh = fs.existsSync('.next/BUILD_ID') && fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === fingerprint;
  if (fresh) {
    log('the production build is up to date');
    return;
  }
  log('building the app (next build)…');
  const started = Date.now();
  await runToCompletion(process.execPath, [nextBin, 'build'], { env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' } });
  fs.writeFileSync(stampFile, fingerprint);
  log(`built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

export const nextBin = path.resolve('node_modules/next/dist/bin/next');
export const tsxBin = path.resolve('node_modules/tsx/dist/cli.mjs');
