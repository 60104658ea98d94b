/**
 * The start of a load process of `npm run bench:forward` (bench-load.ts, run by runLoad in
 * bench-emulator.ts): it prints LOAD_READY once its modules are loaded, then waits for LOAD_START
 * on standard input, so the benchmark can sample CPU figures after the spawn and before the load.
 */
export const LOAD_READY = 'ready';
export const LOAD_START = 'start';
