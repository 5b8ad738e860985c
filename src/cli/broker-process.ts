/**
 * Process-wide settings of the broker process (`stint serve`), applied before the broker's
 * modules load. They exist for the memory goal: 1,000,000 stored grants in < 300 MB RSS
 * (REFERENCE.md section 6, issue #2 item 13; measurements in docs/operations.md).
 */
import { setFlagsFromString } from 'node:v8';

/** Set to `1` to keep V8's optimising WebAssembly tier (more memory, see below). */
export const WASM_TIER_UP_ENV = 'STINT_WASM_TIER_UP';

/**
 * Runs the broker's two WebAssembly engines, Cedar (`@cedar-policy/cedar-wasm`, 4.3 MB of
 * WASM) and PGlite (PostgreSQL in WASM), on V8's baseline compiler (Liftoff) only.
 *
 * Why: by default V8 re-compiles every hot WASM function with its optimising compiler
 * (TurboFan) on background threads. Cedar's generated policy and schema parsers are a few very
 * large functions; optimising them at policy load, and PostgreSQL's hot paths later, takes tens
 * of MB of compiler memory on those threads' malloc arenas, which glibc does not give back to the
 * OS. Measured on the 2-core bench machine (2026-12-01): Cedar loaded with the example policies
 * 120-133 MB RSS with tier-up, 69 MB without; the whole broker 50-70 MB less. Grant issuance
 * over HTTP measured no slower on Liftoff (alternating runs, docs/benchmarks.md): PGlite's time
 * is mostly its JavaScript wire protocol, and Cedar's evaluation is a fraction of a request.
 *
 * Must run before the first WebAssembly module is compiled (V8 decides a module's tiers when it
 * compiles it), which is why `stint serve` calls it before importing the broker, and why it is
 * set once and never changed back.
 */
export function configureBrokerProcess(env: NodeJS.ProcessEnv): void {
  if (env[WASM_TIER_UP_ENV] === '1') return;
  setFlagsFromString('--liftoff-only');
}
