/**
 * The relay of `npm run bench:forward`'s relay row that stands where the emulator stands, in a
 * process of its own (bench-relay.ts). Prints one JSON line `{"port":N}` once it listens, and stops
 * on SIGTERM.
 *
 *   tsx scripts/lib/bench-relay-server.ts TARGET_PORT
 */
import { startRelay } from './bench-relay.js';

const target = Number(process.argv[2]);
if (!Number.isInteger(target) || target <= 0 || target > 65535) {
  console.error(`bench-relay-server: expected the target's TCP port, got '${process.argv.slice(2).join(' ')}'`);
  process.exit(2);
}

const relay = await startRelay(target);
console.log(JSON.stringify({ port: relay.port }));

process.once('SIGTERM', () => {
  void relay.stop().then(() => process.exit(0));
});
