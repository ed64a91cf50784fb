/**
 * The command side (DESIGN §2, docs/commands.md): one handler per command, each
 * `(deps, input, metadata) → result with the position it wrote`.
 *
 *   const deps: CommandDeps = { store: await appEventStore(), privacy: vault, payments: { gateway, provider: 'toss' } };
 *   const meta = commandMetadata({ actor: { id: user.id, role: user.role }, clinicId, ...requestOrigin(await headers()), commandId });
 *   const { reservationId, position } = await bookReservation(deps, { ... }, meta);
 */
export * from './errors';
export * from './metadata';
export * from './authorize';
export { handle, loadStream, laterPosition, parseCommand, DEFAULT_MAX_ATTEMPTS, type CommandResult, type HandleOptions, type LoadedStream, type PersonalDataProtection } from './handle';
export { loadClinic, nowOf, run, type CommandDeps } from './deps';
export * from './clinic';
// The unauthorised steps holdSlots/confirmHeld/releaseHeld stay inside lib/commands (booking uses them after its own check).
export { placeHold, confirmHold, releaseHold, expireHolds, type ClinicDay, type PlaceHoldInput } from './schedule';
export * from './reservation';
export * from './payment';
export * from './visit';
export * from './patient';
