import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SSMClient } from '@aws-sdk/client-ssm';
import { SsmEmulator } from '../../../../test/helpers/ssm-emulator/emulator.js';
import { healthyScenario, ssmTargetOf } from '../../../../test/helpers/ssm-emulator/scenario.js';
import { RecordingLogger } from '../../src/logger.js';
import { freeLocalPort, startForwarding } from '../../src/ssm/forwarding.js';
import { startPluginSession } from '../../src/ssm/plugin-engine.js';

const FAKE_PLUGIN = fileURLToPath(
  new URL('../../../../test/fixtures/fake-session-manager-plugin.cjs', import.meta.url),
);
/** The healthy scenario's task (the first configured environment's cluster), and its region. */
const SCENARIO = healthyScenario({ target: { host: '127.0.0.1', port: 9 } });
const TARGET = ssmTargetOf(SCENARIO);
const REGION = SCENARIO.region;

/**
 * The official plugin is not installable here, so these tests check the hand-over contract with a
 * recording stand-in: argv and the StartSession response in AWS_SSM_START_SESSION_RESPONSE, exactly
 * as the AWS CLI passes them; SIGINT to stop; TerminateSession as a fallback.
 */
describe('plugin engine', () => {
  let emulator: SsmEmulator;
  let dir: string;
  beforeEach(async () => {
    emulator = await new SsmEmulator(healthyScenario({ target: { host: '127.0.0.1', port: 9 } })).start();
    dir = mkdtempSync(join(tmpdir(), 'plugin-'));
    process.env.FAKE_PLUGIN_RECORD = join(dir, 'record.json');
  });
  afterEach(async () => {
    await emulator.stop();
    rmSync(dir, { recursive: true, force: true });
    delete process.env.FAKE_PLUGIN_RECORD;
  });

  it('hands the StartSession response over as the AWS CLI does, and stops the plugin with SIGINT', async () => {
    const ssm = new SSMClient({
      region: REGION,
      endpoint: emulator.endpoint,
      credentials: { accessKeyId: 'AKIDPLUGIN', secretAccessKey: 's' },
    });
    const session = await startPluginSession({
      ssm,
      target: TARGET,
      remotePort: 80,
      localPort: await freeLocalPort(),
      region: REGION,
      ssmEndpoint: emulator.endpoint,
      profile: 'developer-sso',
      logger: new RecordingLogger(),
      binary: FAKE_PLUGIN,
    });
    const record = JSON.parse(readFileSync(process.env.FAKE_PLUGIN_RECORD!, 'utf8'));
    expect(record).toEqual({
      responseVariable: 'AWS_SSM_START_SESSION_RESPONSE',
      response: {
        SessionId: session.sessionId,
        TokenValue: expect.any(String),
        StreamUrl: expect.stringContaining('/v1/data-channel/'),
      },
      region: REGION,
      operation: 'StartSession',
      profile: 'developer-sso',
      request: {
        Target: TARGET,
        DocumentName: 'AWS-StartPortForwardingSession',
        Parameters: { portNumber: ['80'], localPortNumber: [String(session.localPort)] },
      },
      endpoint: emulator.endpoint,
    });
    expect(await (await fetch(`http://127.0.0.1:${session.localPort}/`)).text()).toBe('ok');
    await session.stop();
    expect(await session.ended).toEqual({ reason: 'stopped', message: `Session ${session.sessionId} stopped.` });
    expect(emulator.calls).toContain('SSM.TerminateSession');
    expect(emulator.activeSessions()).toEqual([]);
  });

  it('picks a free local port for the plugin when asked for port 0, through startForwarding', async () => {
    const ssm = new SSMClient({
      region: REGION,
      endpoint: emulator.endpoint,
      credentials: { accessKeyId: 'AKIDPLUGIN', secretAccessKey: 's' },
    });
    const session = await startForwarding({
      engine: 'plugin',
      pluginBinary: FAKE_PLUGIN,
      ssm,
      target: TARGET,
      remotePort: 80,
      localPort: 0,
      region: REGION,
      logger: new RecordingLogger(),
    });
    expect(session.localPort).toBeGreaterThan(0);
    const record = JSON.parse(readFileSync(process.env.FAKE_PLUGIN_RECORD!, 'utf8'));
    expect(record.request.Parameters.localPortNumber).toEqual([String(session.localPort)]);
    expect(record.endpoint).toBe(emulator.endpoint);
    await session.stop();
  });

  it('says how to get the plugin when it is not installed', async () => {
    const ssm = new SSMClient({
      region: REGION,
      endpoint: emulator.endpoint,
      credentials: { accessKeyId: 'A', secretAccessKey: 's' },
    });
    await expect(
      startPluginSession({
        ssm,
        target: TARGET,
        remotePort: 80,
        localPort: 10080,
        region: REGION,
        ssmEndpoint: emulator.endpoint,
        logger: new RecordingLogger(),
        binary: join(dir, 'missing-plugin'),
      }),
    ).rejects.toThrow(
      /needs .*missing-plugin on PATH, and it was not found\. Install the Session Manager plugin, or use the native engine/,
    );
    expect(emulator.calls).toEqual([]);
  });
});
