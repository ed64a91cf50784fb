import { clinic as clinicDomain, NotFoundError, streams, type Decider } from '../domain';
import type { RegisteredClinic } from '../domain/clinic';
import type { EventStore } from '../eventstore';
import { handle, loadStream, type CommandResult, type LoadedStream, type PersonalDataProtection } from './handle';
import type { CommandMetadata } from './metadata';
import type { PaymentGateway } from '../payments/gateway';

/** What every command handler needs. Build it once per process (see `commandDeps`). */
export interface CommandDeps {
  readonly store: EventStore;
  /** The clock (tests inject one); default `() => new Date()`. Deciders only ever see its value. */
  readonly clock?: () => Date;
  /** lib/privacy's vault: personal data is encrypted before append and decrypted after read. */
  readonly privacy?: PersonalDataProtection;
  /** The payment gateway (deposit checkout, refunds) and the provider name recorded with payments. */
  readonly payments?: { readonly gateway: PaymentGateway; readonly provider: string };
  /** Attempts on WrongExpectedVersion before ConcurrencyConflict (default 10). */
  readonly maxAttempts?: number;
  /** Lifetime of an unconfirmed slot hold (default the schedule's 15 minutes). */
  readonly holdTtlMinutes?: number;
  /** Per-process stream cache and per-stream command queue (default true; false for measurements). */
  readonly streamCache?: boolean;
  readonly serialize?: boolean;
}

export const nowOf = (deps: Pick<CommandDeps, 'clock'>): Date => (deps.clock ? deps.clock() : new Date());

/** The registered clinic (clinic-<id> folded); NotFoundError('clinic') when it was never registered. */
export async function loadClinic(deps: CommandDeps, clinicId: string): Promise<RegisteredClinic> {
  const loaded = await loadStream(deps.store, clinicDomain.clinicDecider, streams.clinic(clinicId), undefined, { cache: deps.streamCache });
  if (loaded.state.status !== 'registered') throw new NotFoundError('clinic', { clinicId });
  return loaded.state;
}

/** Runs one command on one stream with the deps' store, clock, privacy and retry budget. */
export function run<C extends { type: string }, E extends { type: string; schemaVersion: number; data: unknown }, S, Ctx extends { now: Date }>(
  deps: CommandDeps,
  decider: Decider<C, E, S, Ctx>,
  streamId: string,
  command: C,
  metadata: CommandMetadata,
  context: (loaded: LoadedStream<S>, now: Date) => Ctx | Promise<Ctx> = (_l, now) => ({ now }) as Ctx,
  /** The policy step on the loaded state (`authorizeOn(...)` from ./authorize). */
  authorize?: (state: S) => void,
  /** The handler's `assumeNew` and `reuseHead` (lib/commands/handle.ts). */
  options: { readonly assumeNew?: boolean; readonly reuseHead?: boolean } = {},
): Promise<CommandResult<E, S>> {
  return handle({
    store: deps.store,
    decider,
    streamId,
    command,
    metadata,
    privacy: deps.privacy,
    maxAttempts: deps.maxAttempts,
    cache: deps.streamCache,
    serialize: deps.serialize,
    authorize,
    assumeNew: options.assumeNew,
    reuseHead: options.reuseHead,
    context: (loaded) => context(loaded, nowOf(deps)),
  });
}
