import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SSMClient } from '@aws-sdk/client-ssm';
import { SsmEmulator } from '../../../../test/helpers/ssm-emulator/emulator.js';
import { healthyScenario, ssmTargetOf } from '../../../../test/helpers/ssm-emulator/scenario.js';
import { RecordingLogger } from '../../src/logger.js';
import { freeLocalPort, pluginSsmEndpoint, startForwarding } from '../../src/ssm/forwarding.js';
import { startPluginSession } from '../../src/ssm/plugin-engine.js';

const FAKE_PLUGIN = fileURLToPath(
  new URL('../../../../test/fixtures/fake-session-manager-plugin.cjs', import.meta.url),
);
/** The healthy scenario's task (the first configured environment's cluster), and its region. */
const SCENARIO = healthyScenario({ target: { host: '127.0.0.1', port: 9 } });
const TARGET = ssmTargetOf(SCENARIO);
const REGION = SCENARIO.region;
const ENDPOINT_VARIABLES = ['AWS_ENDPOINT_URL_SSM', 'AWS_ENDPOINT_URL'] as const;

/** Polls until `check` holds, failing with `what` after `timeoutMs`. */
async function waitFor(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The session's end, or 'still running' when it has not ended within `ms`. */
async function endWithin<T>(ended: Promise<T>, ms: number): Promise<T | 'still running'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'still running'>((resolve) => (timer = setTimeout(() => resolve('still running'), ms)));
  try {
    return await Promise.race([ended, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether a process is still alive. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

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
  /** Sessions started by `start`: stopped after each test, so a failed test leaves no plugin running. */
  const started: { stop(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.allSettled(started.splice(0).map((session) => session.stop()));
    await emulator.stop();
    rmSync(dir, { recursive: true, force: true });
    for (const name of Object.keys(process.env)) if (name.startsWith('FAKE_PLUGIN_')) delete process.env[name];
  });
  const ssmClient = (): SSMClient =>
    new SSMClient({
      region: REGION,
      endpoint: emulator.endpoint,
      credentials: { accessKeyId: 'AKIDPLUGIN', secretAccessKey: 's' },
    });
  const start = async (logger = new RecordingLogger(), options: { probeIntervalMs?: number } = {}) => {
    const session = await startPluginSession({
      ssm: ssmClient(),
      target: TARGET,
      remotePort: 80,
      localPort: await freeLocalPort(),
      region: REGION,
      ssmEndpoint: emulator.endpoint,
      logger,
      binary: FAKE_PLUGIN,
      ...options,
    });
    started.push(session);
    return session;
  };
  const record = (): { response: { SessionId: string; TokenValue: string }; pid: number } =>
    JSON.parse(readFileSync(process.env.FAKE_PLUGIN_RECORD!, 'utf8'));

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
      endpointVariables: expect.any(Object),
      pid: expect.any(Number),
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

  it.each(ENDPOINT_VARIABLES)(
    'hands the plugin the SSM endpoint the SDK resolves from %s, and keeps the variable in its environment',
    async (variable) => {
      process.env[variable] = emulator.endpoint;
      try {
        // No endpoint in the client's configuration: the SDK takes it from the environment.
        const ssm = new SSMClient({ region: REGION, credentials: { accessKeyId: 'AKIDPLUGIN', secretAccessKey: 's' } });
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
        const recorded = JSON.parse(readFileSync(process.env.FAKE_PLUGIN_RECORD!, 'utf8'));
        expect(recorded.endpoint).toBe(emulator.endpoint);
        expect(recorded.endpointVariables).toEqual({ [variable]: emulator.endpoint });
        await session.stop();
      } finally {
        delete process.env[variable];
      }
    },
  );

  it('streams what the plugin prints while the tunnel runs: a failed destination (Flag 3) as a warning', async () => {
    process.env.FAKE_PLUGIN_DESTINATION = 'refused';
    const logger = new RecordingLogger();
    const session = await start(logger);
    // The port may answer the engine's probe before the plugin's line crosses the pipe.
    await waitFor("the plugin's line, while the tunnel runs", () =>
      logger.messages('info').includes('session-manager-plugin: Waiting for connections...'),
    );
    await new Promise<void>((resolve) => connect(session.localPort, '127.0.0.1').once('close', () => resolve()));
    await waitFor('the Flag 3 warning', () =>
      logger
        .messages('warning')
        .includes('session-manager-plugin: Connection to destination port failed, check SSM Agent logs.'),
    );
    expect(await endWithin(session.ended, 0)).toBe('still running');
    await session.stop();
  });

  it('never passes the StartSession token on, even when the plugin prints it', async () => {
    process.env.FAKE_PLUGIN_ECHO_RESPONSE = '1';
    const logger = new RecordingLogger();
    const session = await start(logger);
    await session.stop();
    const token = record().response.TokenValue;
    expect(token.length).toBeGreaterThan(8);
    expect(logger.messages().some((line) => line.startsWith('session-manager-plugin: debug: response'))).toBe(true);
    expect(logger.messages().filter((line) => line.includes(token))).toEqual([]);
  });

  it('ends the session with the reason the plugin gave when it exits on its own, and terminates it', async () => {
    process.env.FAKE_PLUGIN_EXIT_AFTER_MS = '300';
    const session = await start();
    expect(await endWithin(session.ended, 5000)).toEqual({
      reason: 'closed-by-service',
      message: `fake-session-manager-plugin.cjs exited with code 0: SessionId: ${session.sessionId} : Session terminated by the fake plugin.`,
    });
    await waitFor('TerminateSession', () => emulator.activeSessions().length === 0);
    await session.stop(); // after the end: nothing left to do, and no error
  });

  it('ends the session as failed when the plugin crashes, with what it printed on stderr', async () => {
    process.env.FAKE_PLUGIN_EXIT_AFTER_MS = '300';
    process.env.FAKE_PLUGIN_EXIT_CODE = '2';
    const logger = new RecordingLogger();
    const session = await start(logger);
    expect(await endWithin(session.ended, 5000)).toEqual({
      reason: 'failed',
      message: 'fake-session-manager-plugin.cjs exited with code 2: panic: the fake plugin crashed',
    });
    expect(logger.messages('warning')).toContain('session-manager-plugin: panic: the fake plugin crashed');
    await waitFor('TerminateSession', () => emulator.activeSessions().length === 0);
  });

  it('notices a plugin that stays alive but stops answering on the local port: stops it and ends the session', async () => {
    process.env.FAKE_PLUGIN_STOP_ANSWERING_AFTER_MS = '300';
    const session = await start(new RecordingLogger(), { probeIntervalMs: 100 });
    const end = await endWithin(session.ended, 5000);
    expect(end).toEqual({
      reason: 'failed',
      message: expect.stringMatching(
        new RegExp(
          `^fake-session-manager-plugin\\.cjs stopped answering on 127\\.0\\.0\\.1:${session.localPort} \\(2 probes in a row failed: connect ECONNREFUSED[^)]*\\); it was stopped\\.$`,
        ),
      ),
    });
    expect(isAlive(record().pid)).toBe(false);
    expect(emulator.activeSessions()).toEqual([]);
  });

  describe('pluginSsmEndpoint (the SDK resolution, as the AWS CLI passes it)', () => {
    const credentials = { accessKeyId: 'A', secretAccessKey: 's' };
    afterEach(() => ENDPOINT_VARIABLES.forEach((name) => delete process.env[name]));

    it('is the regional endpoint from the SDK rules without an override, FIPS included', async () => {
      expect(await pluginSsmEndpoint(new SSMClient({ region: 'eu-west-1', credentials }))).toBe(
        'https://ssm.eu-west-1.amazonaws.com',
      );
      expect(await pluginSsmEndpoint(new SSMClient({ region: 'us-east-1', credentials, useFipsEndpoint: true }))).toBe(
        'https://ssm-fips.us-east-1.amazonaws.com',
      );
    });

    it('prefers the client endpoint, then AWS_ENDPOINT_URL_SSM, then AWS_ENDPOINT_URL, without a trailing slash', async () => {
      process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:4566/';
      expect(await pluginSsmEndpoint(new SSMClient({ region: 'eu-west-1', credentials }))).toBe(
        'http://127.0.0.1:4566',
      );
      process.env.AWS_ENDPOINT_URL_SSM = 'http://localhost:9999';
      expect(await pluginSsmEndpoint(new SSMClient({ region: 'eu-west-1', credentials }))).toBe(
        'http://localhost:9999',
      );
      expect(
        await pluginSsmEndpoint(new SSMClient({ region: 'eu-west-1', credentials, endpoint: 'https://vpce.example/' })),
      ).toBe('https://vpce.example');
    });
  });
});
