import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENVIRONMENTS } from '../../infra/lib/project.js';
import { startForward, type ForwardProcess } from '../../test/helpers/forward-process.js';
import { SsmEmulator } from '../../test/helpers/ssm-emulator/emulator.js';
import { healthyScenario } from '../../test/helpers/ssm-emulator/scenario.js';

const ENV = ENVIRONMENTS[0]!;
const FAKE_PLUGIN = fileURLToPath(new URL('../../test/fixtures/fake-session-manager-plugin.cjs', import.meta.url));
const LIST_TASKS = 'AmazonEC2ContainerServiceV20141113.ListTasks';
const START_SESSION = 'AmazonSSM.StartSession';

/**
 * An AWS JSON front for the emulator that answers chosen calls (by X-Amz-Target) with an AWS
 * error, as the service would, and passes everything else through: the SDK in the script parses
 * real error responses, so what it retries is what it would retry against AWS.
 */
class FaultyFront {
  /** Per target, the errors still to return, first one next. */
  readonly faults = new Map<string, string[]>();
  /** Every call seen, as its X-Amz-Target. */
  readonly calls: string[] = [];
  private server?: Server;

  constructor(private readonly upstream: string) {}

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  fail(target: string, ...errors: string[]): void {
    this.faults.set(target, [...(this.faults.get(target) ?? []), ...errors]);
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    this.calls.push(target);
    const error = this.faults.get(target)?.shift();
    if (error) {
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': error });
      res.end(JSON.stringify({ __type: error, message: `${error} from the test's front` }));
      return;
    }
    const upstream = new URL(this.upstream);
    const forward = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    forward.end(Buffer.concat(chunks));
  }
}

/**
 * `npm run forward` keeps a tunnel: transient AWS errors (throttling, network) are retried with the
 * shared retry, refusals are not, and a session that ends is replaced, or the script stops with
 * the reason when sessions keep ending at once, never leaving a dead port.
 */
describe('npm run forward: reconnecting', () => {
  let backend: Server;
  let emulator: SsmEmulator;
  let front: FaultyFront;

  beforeAll(async () => {
    backend = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => backend.close(() => resolve())));
  beforeEach(async () => {
    const port = (backend.address() as AddressInfo).port;
    emulator = await new SsmEmulator(healthyScenario({ target: { host: '127.0.0.1', port } })).start();
    front = await new FaultyFront(emulator.endpoint).start();
  });
  const tunnels: ForwardProcess[] = [];
  afterEach(async () => {
    // A failed expectation leaves its script running: end it, so nothing outlives the test.
    for (const tunnel of tunnels.splice(0)) if (tunnel.child.exitCode === null) await tunnel.interrupt();
    await front.stop();
    await emulator.stop();
  });

  const forward = (args: string[] = [], env: Record<string, string> = {}): ForwardProcess => {
    const tunnel = startForward(['--environment', ENV.name, '--local-port', '0', ...args], {
      AWS_ENDPOINT_URL_SSM: front.endpoint,
      AWS_ENDPOINT_URL_ECS: front.endpoint,
      AWS_ACCESS_KEY_ID: 'AKIDDEVELOPER',
      AWS_SECRET_ACCESS_KEY: 'developer-secret',
      AWS_REGION: ENV.region,
      ...env,
    });
    tunnels.push(tunnel);
    return tunnel;
  };

  it('retries throttling when starting and when replacing a session, then forwards', async () => {
    // More throttles than the SDK's own attempts: only the script's retry gets past them.
    front.fail(LIST_TASKS, 'ThrottlingException', 'ThrottlingException', 'ThrottlingException');
    const tunnel = forward();
    const url = await tunnel.waitForUrl(30_000);
    expect(tunnel.output()).toMatch(
      /Starting the session: attempt 1 failed \([^)]*ThrottlingException[^)]*\); retrying in \d+ ms/,
    );
    expect(await (await fetch(url)).text()).toBe('ok');

    front.fail(LIST_TASKS, 'ThrottlingException', 'ThrottlingException', 'ThrottlingException');
    emulator.closeSession(emulator.activeSessions()[0]!.sessionId, 'Session closed by the test.');
    await tunnel.waitForOutput(/Forwarding again: http:\/\/127\.0\.0\.1:\d+/, 30_000);
    expect(tunnel.output()).toMatch(/Starting a new session: attempt 1 failed \([^)]*ThrottlingException/);
    expect(await (await fetch(url)).text()).toBe('ok');
    expect(await tunnel.interrupt()).toBe(0);
    expect(emulator.activeSessions()).toEqual([]);
  }, 60_000);

  it('does not retry a refusal: AccessDenied on StartSession exits 2 at once', async () => {
    front.fail(START_SESSION, 'AccessDeniedException', 'AccessDeniedException', 'AccessDeniedException');
    const tunnel = forward();
    expect(await tunnel.exited).toBe(2);
    expect(tunnel.output()).toMatch(/forward: StartSession failed: AccessDeniedException/);
    expect(tunnel.output()).not.toContain('retrying');
    expect(front.calls.filter((call) => call === START_SESSION)).toHaveLength(1);
  }, 30_000);

  describe('with the plugin engine', () => {
    let bin: string;
    beforeEach(() => {
      bin = mkdtempSync(join(tmpdir(), 'plugin-bin-'));
      symlinkSync(FAKE_PLUGIN, join(bin, 'session-manager-plugin'));
    });
    afterEach(() => rmSync(bin, { recursive: true, force: true }));

    it('replaces a session whose plugin exits, and stops with the reason when sessions keep ending at once', async () => {
      const tunnel = forward(['--engine', 'plugin'], {
        PATH: `${bin}${delimiter}${process.env.PATH}`,
        FAKE_PLUGIN_EXIT_AFTER_MS: '500',
      });
      await tunnel.waitForUrl();
      expect(
        await tunnel.waitForOutput(/The session ended: (session-manager-plugin exited [^\n]*)\. Starting a new one/),
      ).toMatch(/^session-manager-plugin exited with code 0: SessionId: \S+ : Session terminated by the fake plugin$/);
      await tunnel.waitForOutput(/Forwarding again/);
      expect(await tunnel.exited).toBe(1);
      expect(tunnel.output()).toMatch(
        /forward: The session ended 3 times in a row within 10 s of starting; the last time: session-manager-plugin exited with code 0/,
      );
      expect(emulator.activeSessions()).toEqual([]);
    }, 60_000);
  });
});
