import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { promisify } from 'node:util';
import { resourceNames } from '../../infra/lib/names.js';
import { ENVIRONMENTS } from '../../infra/lib/project.js';
import { startForward } from '../../test/helpers/forward-process.js';
import { isPortClosed } from '../../test/helpers/ports.js';
import { startNginx, type LocalNginx } from '../../test/helpers/nginx.js';
import { OUTPUTS } from '../../test/helpers/ssm-emulator/agent-session.js';
import { SsmEmulator, type EmulatorOptions } from '../../test/helpers/ssm-emulator/emulator.js';
import { healthyScenario } from '../../test/helpers/ssm-emulator/scenario.js';
import { escapeRegExp, UNCONFIGURED_ENVIRONMENT } from '../../test/helpers/configured.js';

/** The first configured environment, which the emulator's healthy scenario plays by default. */
const ENV = ENVIRONMENTS[0]!;
const NAMES = resourceNames(ENV);
const UNCONFIGURED = UNCONFIGURED_ENVIRONMENT;
const escape = escapeRegExp;

const run = promisify(execFile);
const TWENTY_MB = randomBytes(20 * 1024 * 1024);
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** curl, as a developer would use the tunnel: status and body. */
async function curl(url: string): Promise<{ status: number; body: Buffer }> {
  const { stdout } = await run(
    'curl',
    ['--silent', '--show-error', '--max-time', '60', '--output', '-', '--write-out', '\n%{http_code}', url],
    {
      encoding: 'buffer',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const split = stdout.lastIndexOf(0x0a);
  return { status: Number(stdout.subarray(split + 1).toString()), body: stdout.subarray(0, split) };
}

/**
 * `npm run forward` end to end: the real script, the emulator in place of SSM/ECS/ssmmessages, and a
 * real nginx from Debian as the task's port 80.
 */
describe('npm run forward (emulator + real nginx)', () => {
  let nginx: LocalNginx;
  let emulator: SsmEmulator;

  beforeAll(async () => {
    nginx = await startNginx({ 'twenty.bin': TWENTY_MB });
  });
  afterAll(async () => nginx?.stop());
  afterEach(async () => emulator?.stop());

  const startEmulator = async (options: EmulatorOptions = {}, agentVersion?: string): Promise<SsmEmulator> => {
    emulator = await new SsmEmulator(
      healthyScenario({ target: { host: '127.0.0.1', port: nginx.port }, agentVersion }),
      options,
    ).start();
    return emulator;
  };
  const credentials = {
    AWS_ACCESS_KEY_ID: 'AKIDDEVELOPER',
    AWS_SECRET_ACCESS_KEY: 'developer-secret',
    AWS_REGION: ENV.region,
  };
  const forward = (args: string[] = [], env: Record<string, string | undefined> = {}) =>
    startForward(['--environment', ENV.name, '--local-port', '0', ...args], {
      ...emulator.env(),
      ...credentials,
      ...env,
    });

  it('serves 20 parallel curls and a 20 MB download with a matching SHA-256, then Ctrl-C ends everything', async () => {
    await startEmulator();
    const tunnel = forward();
    const url = await tunnel.waitForUrl();
    const pages = await Promise.all(Array.from({ length: 20 }, () => curl(`${url}/`)));
    expect(pages.map((page) => page.status)).toEqual(Array(20).fill(200));
    for (const page of pages) expect(page.body.toString()).toContain('Welcome to nginx!');
    const download = await curl(`${url}/twenty.bin`);
    expect(download.body.length).toBe(TWENTY_MB.length);
    expect(sha256(download.body)).toBe(sha256(TWENTY_MB));

    expect(await tunnel.interrupt()).toBe(0);
    expect(tunnel.output()).toContain('Session ended; local port released.');
    expect(await isPortClosed(Number(new URL(url).port))).toBe(true);
    expect(emulator.activeSessions()).toEqual([]);
    expect(emulator.calls.filter((call) => call === 'SSM.StartSession')).toHaveLength(1);
  }, 120_000);

  it('keeps an idle tunnel alive past the agent keep-alive window with NOPs, where no keep-alive lets it die', async () => {
    // An agent that keeps smux keep-alive on (3.1.1476.0) and, here, drops a session after 1 s of silence.
    await startEmulator({ keepAlive: { intervalMs: 200, timeoutMs: 1000 } }, '3.1.1476.0');
    const kept = forward(['--keep-alive', '0.25']);
    const url = await kept.waitForUrl();
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect((await curl(`${url}/`)).status).toBe(200);
    expect(kept.output()).not.toContain('The session ended');
    expect(await kept.interrupt()).toBe(0);

    const silent = forward(['--keep-alive', '0']);
    await silent.waitForUrl();
    const ended = await silent.waitForOutput(/The session ended: ([\s\S]*?)Starting a new one/, 10_000);
    expect(ended).toContain('keep-alive timeout');
    // The script replaces a session the service ended, on the same local port.
    await silent.waitForOutput(/Forwarding again: (http:\/\/127\.0\.0\.1:\d+)/, 10_000);
    expect(await silent.interrupt()).toBe(0);
  }, 60_000);

  it('survives a forced transport drop by ResumeSession, keeping the same session', async () => {
    await startEmulator();
    const tunnel = forward();
    const url = await tunnel.waitForUrl();
    emulator.dropConnections();
    await tunnel.waitForOutput(/Resumed session/);
    expect((await curl(`${url}/`)).status).toBe(200);
    emulator.recycleConnections(); // the service's hourly 1000 "Bye"
    await tunnel.waitForOutput(/Resumed session [^\n]+\n[\s\S]*Resumed session/);
    expect((await curl(`${url}/`)).status).toBe(200);
    expect(emulator.calls.filter((call) => call === 'SSM.StartSession')).toHaveLength(1);
    expect(await tunnel.interrupt()).toBe(0);
  }, 60_000);

  it('works in basic mode with an old agent', async () => {
    await startEmulator({}, '3.0.196.0');
    const tunnel = forward();
    const url = await tunnel.waitForUrl();
    expect(tunnel.output()).toContain('(basic mode)');
    for (let i = 0; i < 3; i++) expect((await curl(`${url}/`)).status).toBe(200);
    expect(await tunnel.interrupt()).toBe(0);
    expect(emulator.activeSessions()).toEqual([]);
  }, 60_000);

  it('surfaces channel_closed with its Output, then starts a new session', async () => {
    await startEmulator();
    const tunnel = forward();
    const url = await tunnel.waitForUrl();
    const [session] = emulator.activeSessions();
    emulator.closeSession(session!.sessionId, OUTPUTS.idleTimeout);
    expect(await tunnel.waitForOutput(/The session ended: ([\s\S]*?)Starting a new one/)).toContain(
      OUTPUTS.idleTimeout,
    );
    await tunnel.waitForOutput(/Forwarding again/, 10_000);
    expect((await curl(`${url}/`)).status).toBe(200);
    expect(await tunnel.interrupt()).toBe(0);
  }, 60_000);

  it('reports a failed destination (Flag 3) and keeps forwarding', async () => {
    await startEmulator();
    const tunnel = forward(['--remote-host', 'db.internal', '--remote-port', '5432']);
    const url = await tunnel.waitForUrl();
    await expect(curl(`${url}/`)).rejects.toThrow();
    await tunnel.waitForOutput(/Connection to destination port failed, check SSM Agent logs\./);
    expect(emulator.activeSessions()).toHaveLength(1);
    expect(await tunnel.interrupt()).toBe(0);
  }, 60_000);

  it('reports TargetNotConnected from StartSession with the doctor hint', async () => {
    await startEmulator();
    // ECS says the agent runs, but it cannot reach SSM (e.g. no route to the ssmmessages endpoint).
    emulator.scenario.agentsReachSsm = false;
    const tunnel = forward();
    expect(await tunnel.exited).toBe(2);
    expect(tunnel.output()).toMatch(
      new RegExp(
        `StartSession failed: TargetNotConnected: ecs:${escape(NAMES.cluster)}_\\w+_[\\w-]+ is not connected\\.`,
      ),
    );
    expect(tunnel.output()).toContain('npm run doctor -- --environment');
  });

  it.each([
    [['--environment', ENV.name, '--bogus'], /Unknown option '--bogus'[\s\S]*Usage: npm run forward/],
    [['--local-port', '10080'], /--environment is required/],
    [
      ['--environment', UNCONFIGURED],
      new RegExp(
        `Unknown environment '${UNCONFIGURED}': expected one of ${escape(ENVIRONMENTS.map((e) => e.name).join(', '))}`,
      ),
    ],
    [['--environment', ENV.name, '--local-port', 'http'], /--local-port must be a port number/],
    [['--environment', ENV.name, '--remote-host', 'db'], /--remote-host needs --remote-port/],
    [['--environment', ENV.name, '--engine', 'ssh'], /engine must be one of native, plugin, got 'ssh'/],
  ])('rejects bad flags %j with a clear message and exit 2', async (args, message) => {
    await startEmulator();
    const tunnel = startForward(args, { ...emulator.env(), ...credentials });
    expect(await tunnel.exited).toBe(2);
    expect(tunnel.output()).toMatch(message);
  });

  it('says how to sign in when there are no AWS credentials', async () => {
    await startEmulator();
    const tunnel = forward([], {
      AWS_ACCESS_KEY_ID: undefined,
      AWS_SECRET_ACCESS_KEY: undefined,
      AWS_PROFILE: undefined,
      AWS_CONFIG_FILE: '/nonexistent/config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
      AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
    });
    expect(await tunnel.exited).toBe(2);
    expect(tunnel.output()).toMatch(/No AWS credentials found[\s\S]*aws sso login --profile/);
    expect(emulator.calls).toEqual([]);
  });

  it('says so when no task is running', async () => {
    await startEmulator();
    emulator.scenario.clusters[0]!.services[0]!.tasks[0]!.lastStatus = 'STOPPED';
    const tunnel = forward();
    expect(await tunnel.exited).toBe(2);
    expect(tunnel.output()).toContain(`No running task in service ${NAMES.service} of cluster ${NAMES.cluster}`);
  });

  it('says so when ECS Exec is off on the task', async () => {
    await startEmulator();
    const task = emulator.scenario.clusters[0]!.services[0]!.tasks[0]!;
    task.enableExecuteCommand = false;
    task.containers[0]!.agentStatus = undefined;
    const tunnel = forward();
    expect(await tunnel.exited).toBe(2);
    expect(tunnel.output()).toMatch(/ECS Exec is not enabled on the task/);
    expect(emulator.calls).not.toContain('SSM.StartSession');
  });

  it('says so when the local port is in use, and starts no session', async () => {
    await startEmulator();
    const busy: Server = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const tunnel = forward(['--local-port', String(port)]);
      expect(await tunnel.exited).toBe(2);
      expect(tunnel.output()).toContain(`Local port ${port} on 127.0.0.1 is already in use`);
      expect(emulator.calls).not.toContain('SSM.StartSession');
    } finally {
      busy.close();
    }
  });
});
