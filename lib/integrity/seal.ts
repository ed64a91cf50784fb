/**
 * Log-wide seals (issue 10 item 3), as transparency logs' signed tree heads: a seal states how many
 * events the log held, up to which position, and a SHA-256 chain over every event in log order
 * (and the same for the access log, in id order), signed with Ed25519 under SEAL_SIGNING_KEY — a key
 * the database never holds. Per-stream hash chains cannot see a stream whose tail was deleted and
 * whose head row was rewritten, or a whole stream deleted with its head; a seal can: the log no
 * longer adds up to what was sealed.
 *
 * So that a mismatch can be placed, each log is cut into segments by position (a segment ends every
 * `segmentSize` events, at the position sealed). A segment records its count, a chain over its
 * leaves, and an order-free sum of them: when the log is checked against a seal, each segment is
 * compared on its own (a deletion in one does not shift the others), and a differing one says how
 * many events are missing or were added between two positions, or that they were reordered (same
 * leaves, other order) or altered (same count, other leaves). Events after the sealed position were
 * added since. A seal extends the previous one: its segments are kept and only newer events are read.
 *
 * Pure except for the key handling (node:crypto). docs/eventstore.md "Seals", docs/security.md.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from '../eventstore/hash-chain';

export const SEAL_FORMAT = 'yeyak-seal/v1';
export const DEFAULT_SEGMENT_SIZE = 1024;
const ZERO = '0'.repeat(64);

export interface SealSegment {
  /** Position (events: encoded `commit/prepare`; access log: row id) of the segment's last leaf. */
  last: string;
  count: number;
  /** SHA-256 chain over the segment's leaves (hex). */
  digest: string;
  /** Sum of the leaves' first 8 bytes mod 2^64 (hex): the same leaves in another order give the same sum. */
  sum: string;
}

export interface SealedLog {
  count: number;
  /** Position of the last leaf; null for an empty log. */
  last: string | null;
  /** SHA-256 chain over every leaf in order (hex). */
  root: string;
  segments: SealSegment[];
}

export interface SealBody {
  format: typeof SEAL_FORMAT;
  issuedAt: string;
  backend: string;
  /** Public key id (sealKeyId) of the signing key. */
  keyId: string;
  segmentSize: number;
  events: SealedLog;
  accessLog: SealedLog;
}

/** What the auditor downloads and can upload again: the body, its signature, and the public key. */
export interface SealFile {
  seal: SealBody;
  /** Ed25519 over canonicalJson(seal), base64. */
  signature: string;
  /** The signer's public key (SPKI DER, base64), for reference: verification trusts only keys it is configured with. */
  publicKey: string;
}

// --- leaves -----------------------------------------------------------------------------------

export function sha256(...parts: (string | Buffer)[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

/**
 * An event's leaf: its stream, revision, id and chain hash (the chain check ties its content to that
 * hash). Not its position: two events swapped in log order then give the same leaves in another
 * order, which the comparison calls reordered; the segment boundaries place them.
 */
export function eventLeaf(streamId: string, revision: number, eventId: string, hash: string): Buffer {
  return sha256(`e\0${streamId}\0${revision}\0${eventId.toLowerCase()}\0${hash}`);
}

/** An access-log row's leaf: its id and chain hash (rows from before the chain: their canonical content). */
export function accessLeaf(id: number, hashOrContent: string): Buffer {
  return sha256(`a\0${id}\0${hashOrContent}`);
}

// --- building ---------------------------------------------------------------------------------

/** Builds a SealedLog leaf by leaf; resumable from a previous seal's state. */
export class SealedLogBuilder {
  private count: number;
  private last: string | null;
  private root: Buffer<ArrayBufferLike>;
  private readonly segments: SealSegment[];
  private open: { count: number; digest: Buffer<ArrayBufferLike>; sum: bigint; last: string } | null = null;

  constructor(
    readonly segmentSize: number = DEFAULT_SEGMENT_SIZE,
    from?: SealedLog,
  ) {
    this.count = from?.count ?? 0;
    this.last = from?.last ?? null;
    this.root = Buffer.from(from?.root ?? ZERO, 'hex');
    this.segments = from ? from.segments.map((s) => ({ ...s })) : [];
    // A last segment that is not full stays open: newer leaves continue it.
    const tail = this.segments[this.segments.length - 1];
    if (tail && tail.count < segmentSize) {
      this.segments.pop();
      this.open = { count: tail.count, digest: Buffer.from(tail.digest, 'hex'), sum: BigInt(`0x${tail.sum}`), last: tail.last };
    }
  }

  add(position: string, leaf: Buffer): void {
    this.count++;
    this.last = position;
    this.root = sha256(this.root, leaf);
    const seg = (this.open ??= { count: 0, digest: Buffer.from(ZERO, 'hex'), sum: 0n, last: position });
    seg.count++;
    seg.digest = sha256(seg.digest, leaf);
    seg.sum = BigInt.asUintN(64, seg.sum + leaf.readBigUInt64BE(0));
    seg.last = position;
    if (seg.count >= this.segmentSize) this.closeSegment();
  }

  private closeSegment(): void {
    if (!this.open) return;
    this.segments.push({ last: this.open.last, count: this.open.count, digest: this.open.digest.toString('hex'), sum: this.open.sum.toString(16).padStart(16, '0') });
    this.open = null;
  }

  finish(): SealedLog {
    this.closeSegment();
    return { count: this.count, last: this.last, root: this.root.toString('hex'), segments: this.segments.map((s) => ({ ...s })) };
  }
}

// --- comparing --------------------------------------------------------------------------------

export type SegmentProblemKind = 'missing' | 'added' | 'reordered' | 'altered';

export interface SegmentProblem {
  log: 'events' | 'accessLog';
  kind: SegmentProblemKind;
  /** Positions: the segment covers (after, last]; `after` null for the first segment. */
  after: string | null;
  last: string;
  sealedCount: number;
  foundCount: number;
}

export interface LogComparison {
  ok: boolean;
  sealedCount: number;
  /** Leaves found at or before the sealed position. */
  foundCount: number;
  /** Leaves after the sealed position: appended since the seal (expected as the log grows). */
  addedSince: number;
  /** Positions of the first few of those. */
  addedSinceFirst: string[];
  problems: SegmentProblem[];
  /** True when the problems list was cut (at MAX_PROBLEMS). */
  moreProblems: boolean;
}

const MAX_PROBLEMS = 50;

/**
 * Compares the current log, fed in order, with a sealed log. `compare` orders two positions of this
 * log (events: comparePositions of the decoded positions; access log: the ids as numbers).
 */
export class SealComparer {
  private segment = 0;
  private cur: { count: number; digest: Buffer<ArrayBufferLike>; sum: bigint } = { count: 0, digest: Buffer.from(ZERO, 'hex'), sum: 0n };
  private found = 0;
  private addedSince = 0;
  private readonly addedSinceFirst: string[] = [];
  private readonly problems: SegmentProblem[] = [];
  private more = false;

  constructor(
    readonly log: 'events' | 'accessLog',
    private readonly sealed: SealedLog,
    private readonly compare: (a: string, b: string) => number,
  ) {}

  add(position: string, leaf: Buffer): void {
    const segs = this.sealed.segments;
    while (this.segment < segs.length && this.compare(position, segs[this.segment]!.last) > 0) this.closeSegment();
    if (this.segment >= segs.length) {
      this.addedSince++;
      if (this.addedSinceFirst.length < 5) this.addedSinceFirst.push(position);
      return;
    }
    this.found++;
    this.cur.count++;
    this.cur.digest = sha256(this.cur.digest, leaf);
    this.cur.sum = BigInt.asUintN(64, this.cur.sum + leaf.readBigUInt64BE(0));
  }

  private closeSegment(): void {
    const s = this.sealed.segments[this.segment]!;
    const digest = this.cur.digest.toString('hex');
    const sum = this.cur.sum.toString(16).padStart(16, '0');
    let kind: SegmentProblemKind | null = null;
    if (this.cur.count < s.count) kind = 'missing';
    else if (this.cur.count > s.count) kind = 'added';
    else if (digest !== s.digest) kind = sum === s.sum ? 'reordered' : 'altered';
    if (kind) {
      if (this.problems.length < MAX_PROBLEMS) {
        this.problems.push({ log: this.log, kind, after: this.segment > 0 ? this.sealed.segments[this.segment - 1]!.last : null, last: s.last, sealedCount: s.count, foundCount: this.cur.count });
      } else this.more = true;
    }
    this.segment++;
    this.cur = { count: 0, digest: Buffer.from(ZERO, 'hex'), sum: 0n };
  }

  finish(): LogComparison {
    while (this.segment < this.sealed.segments.length) this.closeSegment();
    return {
      ok: this.problems.length === 0 && !this.more,
      sealedCount: this.sealed.count,
      foundCount: this.found,
      addedSince: this.addedSince,
      addedSinceFirst: this.addedSinceFirst,
      problems: this.problems,
      moreProblems: this.more,
    };
  }
}

// --- keys and signatures ----------------------------------------------------------------------

// PKCS#8 wrapping of a raw 32-byte Ed25519 seed (RFC 8410).
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** SEAL_SIGNING_KEY is base64 of a 32-byte Ed25519 seed (what generateSecrets makes, `openssl rand -base64 32`). */
export function sealPrivateKey(base64Seed: string): KeyObject {
  const seed = Buffer.from(base64Seed.trim(), 'base64');
  if (seed.length !== 32) throw new Error(`SEAL_SIGNING_KEY must be base64 of exactly 32 bytes, got ${seed.length} bytes`);
  return createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

export function sealPublicKeyBase64(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ type: 'spki', format: 'der' }).toString('base64');
}

export function sealPublicKeyPem(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ type: 'spki', format: 'pem' }).toString();
}

/** A short public name of a seal key: the first 16 hex digits of SHA-256 over its SPKI DER. */
export function sealKeyId(publicKeyBase64: string): string {
  return sha256(Buffer.from(publicKeyBase64, 'base64')).toString('hex').slice(0, 16);
}

export function publicKeyFromBase64(spkiBase64: string): KeyObject {
  return createPublicKey({ key: Buffer.from(spkiBase64.trim(), 'base64'), format: 'der', type: 'spki' });
}

export function signSeal(body: SealBody, privateKey: KeyObject): SealFile {
  const bodyJson = canonicalJson(body);
  const signature = sign(null, Buffer.from(bodyJson, 'utf8'), privateKey).toString('base64');
  return { seal: body, signature, publicKey: sealPublicKeyBase64(privateKey) };
}

export type SealCheck = { ok: true; keyId: string } | { ok: false; problem: 'malformed' | 'unknown-key' | 'bad-signature'; detail: string };

/**
 * Is this a seal signed by one of the trusted public keys (the current one, then earlier ones after
 * a rotation)? The key given inside the file is not trusted by itself: anyone can sign with their own.
 */
export function checkSealFile(file: unknown, trusted: readonly KeyObject[]): SealCheck {
  const f = file as Partial<SealFile> | null;
  if (!f || typeof f !== 'object' || !f.seal || typeof f.seal !== 'object' || typeof f.signature !== 'string') {
    return { ok: false, problem: 'malformed', detail: 'expected { seal, signature, publicKey }' };
  }
  const body = f.seal as Partial<SealBody>;
  if (body.format !== SEAL_FORMAT || !isSealedLog(body.events) || !isSealedLog(body.accessLog) || typeof body.keyId !== 'string') {
    return { ok: false, problem: 'malformed', detail: `not a ${SEAL_FORMAT} seal` };
  }
  const byId = new Map(trusted.map((k) => [sealKeyId(sealPublicKeyBase64(k)), k]));
  const key = byId.get(body.keyId);
  if (!key) return { ok: false, problem: 'unknown-key', detail: `signed by key ${body.keyId}; trusted: ${[...byId.keys()].join(', ')}` };
  let valid = false;
  try {
    valid = verify(null, Buffer.from(canonicalJson(body), 'utf8'), key, Buffer.from(f.signature, 'base64'));
  } catch {
    valid = false;
  }
  return valid ? { ok: true, keyId: body.keyId } : { ok: false, problem: 'bad-signature', detail: `the signature does not match the seal under key ${body.keyId}` };
}

function isSealedLog(v: unknown): v is SealedLog {
  const l = v as Partial<SealedLog> | null;
  return (
    !!l &&
    typeof l.count === 'number' &&
    (l.last === null || typeof l.last === 'string') &&
    typeof l.root === 'string' &&
    Array.isArray(l.segments) &&
    l.segments.every((s) => s && typeof s.last === 'string' && typeof s.count === 'number' && typeof s.digest === 'string' && typeof s.sum === 'string')
  );
}
