/**
 * The SSM emulator of `npm run bench:forward`, in its own process so that its CPU neither slows
 * nor blurs the client's figures. Serves a healthy scenario whose task reaches HOST:PORT, prints
 * one JSON line `{"endpoint":"http://127.0.0.1:N","port":N}` once it listens, and stops on SIGTERM.
 *
 *   tsx scripts/lib/bench-emulator-server.ts HOST PORT
 */
import { SsmEmulator } from '../../test/helpers/ssm-emulator/emulator.js';
import { healthyScenario } from '../../test/helpers/ssm-emulator/scenario.js';

const [host, portText] = process.argv.slice(2);
const port = Number(portText);
if (!host || !Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error(`bench-emulator-server: expected HOST PORT of the target, got '${process.argv.slice(2).join(' ')}'`);
  process.exit(2);
}

const emulator = await new SsmEmulator(healthyScenario({ target: { host, port } })).start();
const endpoint = emulator.endpoint;
console.log(JSON.stringify({ endpoint, port: Number(new URL(endpoint).port) }));

process.once('SIGTERM', () => {
  void emulator.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`bench-emulator-server: stopping the emulator failed: ${String(error)}`);
      process.exit(1);
    },
  );
});
