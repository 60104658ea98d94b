import { createHash } from 'node:crypto';
import { get as httpGet } from 'node:http';
import { connect } from 'node:net';
import { SSMClient } from '@aws-sdk/client-ssm';
import WebSocket from 'ws';
import { startNginx, type LocalNginx } from '../../../../test/helpers/nginx.js';
import { SsmEmulator } from '../../../../test/helpers/ssm-emulator/emulator.js';
import { OUTPUTS } from '../../../../test/helpers/ssm-emulator/agent-session.js';
import { healthyScenario, ssmTargetOf } from '../../../../test/helpers/ssm-emulator/scenario.js';
import { RecordingLogger } from '../../src/logger.js';
import { decodeMessage, MessageType } from '../../src/ssm/codec.js';
import { PortForwardingSession, SessionStartError } from '../../src/ssm/port-session.js';

/** The healthy scenario's task (the first configured environment's cluster), and its region. */
const SCENARIO = healthyScenario({ target: { host: '127.0.0.1', port: 9 } });
const TARGET = ssmTargetOf(SCENARIO);
const REGION = SCENARIO.region;
const BIG = Buffer.alloc(1_500_000);
for (let i = 0; i < BIG.length; i++) BIG[i] = (i * 7919) % 251;
const MID = BIG.subarray(0, 200_000);
const sha256 = (data: Buffer | ArrayBuffer): string =>
  createHash('sha256')
    .update(Buffer.from(data as ArrayBuffer))
    .digest('hex');

/** The native client library against the emulator and a real nginx: the protocol's corner cases. */
describe('PortForwardingSession against the emulator', () => {
  let nginx: LocalNginx;
  let emulator: SsmEmulator;
  let ssm: SSMClient;
  const sessions: PortForwardingSession[] = [];

  beforeAll(async () => {
    nginx = await startNginx({ 'big.bin': BIG, 'mid.bin': MID });
  });
  afterAll(async () => nginx?.stop());
  beforeEach(async () => {
    emulator = await new SsmEmulator(healthyScenario({ target: { host: '127.0.0.1', port: nginx.port } }), {
      handshakeTimeoutMs: 800,
    }).start();
    ssm = new SSMClient({
      region: REGION,
      endpoint: emulator.endpoint,
      credentials: { accessKeyId: 'AKIDLIB', secretAccessKey: 's' },
      maxAttempts: 1,
    });
  });
  afterEach(async () => {
    await Promise.all(sessions.splice(0).map((session) => session.stop()));
    await emulator.stop();
  });

  const start = async (
    options: Partial<Parameters<typeof PortForwardingSession.start>[0]> = {},
  ): Promise<PortForwardingSession> => {
    const session = await PortForwardingSession.start({
      ssm,
      target: TARGET,
      remotePort: 80,
      logger: new RecordingLogger(),
      ...options,
    });
    sessions.push(session);
    return session;
  };
  /** One HTTP GET on its own connection, closed after (as curl does). */
  const get = (session: PortForwardingSession, path = '/'): Promise<{ status: number; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const request = httpGet(
        { host: '127.0.0.1', port: session.localPort, path, agent: false, headers: { connection: 'close' } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }));
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.setTimeout(20_000, () => request.destroy(new Error('timeout')));
    });

  it('forwards in mux mode, one smux stream per connection', async () => {
    const session = await start();
    expect(session.mode).toBe('mux');
    const results = await Promise.all(Array.from({ length: 10 }, () => get(session)));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(results[0]!.body.toString()).toContain('Welcome to nginx!');
    expect([...emulator.sessions.values()][0]!.agent.stats.streamsOpened).toBeGreaterThanOrEqual(1);
  });

  // The agent resends only its oldest unacked message per 100 ms tick, so losses cost time: the
  // lossy case moves 200 KB, the others 1.5 MB.
  it.each([
    ['lost', { dropRate: 0.05, dropIncomingRate: 0.05 }, MID, '/mid.bin'],
    ['duplicated', { duplicateRate: 0.2 }, BIG, '/big.bin'],
    ['reordered', { reorderRate: 0.2 }, BIG, '/big.bin'],
    ['delayed', { delayMs: 20 }, BIG, '/big.bin'],
  ])(
    'delivers every byte when messages are %s',
    async (_name, faults, expected, path) => {
      emulator.faults = faults;
      const session = await start();
      const result = await get(session, path);
      expect(result.status).toBe(200);
      expect(sha256(result.body)).toBe(sha256(expected));
    },
    60_000,
  );

  it('re-acks the duplicates the service sends, so it stops resending', async () => {
    emulator.faults = { duplicateRate: 0.3 };
    const session = await start();
    await get(session, '/mid.bin');
    const channelStats = (session as unknown as { channel: { stats: { duplicates: number } } }).channel.stats;
    expect(channelStats.duplicates).toBeGreaterThan(0);
  });

  it('survives a transport drop and a 1000 "Bye" close by ResumeSession, keeping its sequence state', async () => {
    const session = await start();
    const reconnected = new Promise((resolve) => session.once('reconnected', resolve));
    expect((await get(session)).status).toBe(200);
    emulator.dropConnections();
    await reconnected;
    expect(sha256((await get(session, '/big.bin')).body)).toBe(sha256(BIG));
    const again = new Promise((resolve) => session.once('reconnected', resolve));
    emulator.recycleConnections();
    await again;
    expect((await get(session)).status).toBe(200);
    const emulated = emulator.sessions.get(session.sessionId)!;
    expect(emulated.connections).toBe(3);
    expect(emulator.calls.filter((call) => call === 'SSM.ResumeSession')).toHaveLength(2);
  });

  it('surfaces channel_closed with its Output and does not reconnect', async () => {
    const session = await start();
    emulator.closeSession(session.sessionId, OUTPUTS.idleTimeout);
    const end = await session.ended;
    expect(end).toEqual({
      reason: 'closed-by-service',
      message: `SessionId: ${session.sessionId} : ${OUTPUTS.idleTimeout}`,
    });
    expect(emulator.calls).not.toContain('SSM.ResumeSession');
    await expect(get(session)).rejects.toThrow();
  });

  it('reports a failed dial (Flag 3) on that connection and keeps the session up', async () => {
    const session = await start({ remotePort: 81 });
    const connectionError = new Promise<Error>((resolve) => session.once('connection-error', resolve));
    await expect(get(session)).rejects.toThrow();
    expect((await connectionError).message).toBe('Connection to destination port failed, check SSM Agent logs.');
    expect(emulator.activeSessions()).toHaveLength(1);
  });

  it('works in basic mode with an old agent, one connection at a time', async () => {
    emulator.scenario.agentVersion = '3.0.196.0';
    const session = await start();
    expect(session.mode).toBe('basic');
    for (let i = 0; i < 3; i++) expect((await get(session)).status).toBe(200);
    expect(sha256((await get(session, '/big.bin')).body)).toBe(sha256(BIG));
  });

  it('fails the session when the basic-mode destination cannot be dialed', async () => {
    emulator.scenario.agentVersion = '3.0.196.0';
    const session = await start({ remotePort: 81 });
    const end = await session.ended;
    expect(end.reason).toBe('closed-by-service');
    expect(end.message).toContain('Unable to connect to specified port: dial tcp localhost:81');
  });

  it('times out a handshake the agent never starts, and ends the session', async () => {
    emulator.faults = { silent: true };
    await expect(start({ handshakeTimeoutMs: 300 })).rejects.toThrow(
      'The agent did not complete the handshake within 300 ms.',
    );
    expect(emulator.activeSessions()).toHaveLength(0);
  });

  it('answers TargetNotConnected from StartSession when ECS Exec is off', async () => {
    const task = emulator.scenario.clusters[0]!.services[0]!.tasks[0]!;
    task.enableExecuteCommand = false;
    const failure = start();
    await expect(failure).rejects.toBeInstanceOf(SessionStartError);
    await expect(failure).rejects.toMatchObject({
      code: 'TargetNotConnected',
      message: `StartSession failed: TargetNotConnected: ${TARGET} is not connected.`,
    });
  });

  it('answers TargetNotConnected when the agent is not RUNNING', async () => {
    emulator.scenario.clusters[0]!.services[0]!.tasks[0]!.containers[0]!.agentStatus = 'PENDING';
    await expect(start()).rejects.toMatchObject({ code: 'TargetNotConnected' });
  });

  it('stops with the TerminateSession flag, and always releases the local port', async () => {
    const session = await start();
    await get(session);
    await session.stop();
    expect(await session.ended).toEqual({ reason: 'stopped', message: `Session ${session.sessionId} stopped.` });
    expect(emulator.activeSessions()).toEqual([]);
    await expect(
      new Promise((resolve, reject) =>
        connect(session.localPort, '127.0.0.1').once('connect', resolve).once('error', reject),
      ),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('refuses a port already in use before starting any session', async () => {
    const first = await start();
    await expect(start({ localPort: first.localPort })).rejects.toThrow(
      `Local port ${first.localPort} on 127.0.0.1 is already in use`,
    );
    expect(emulator.calls.filter((call) => call === 'SSM.StartSession')).toHaveLength(1);
  });
});

describe('the emulated agent', () => {
  it('closes the channel with the handshake-timeout Output when the client never answers', async () => {
    const emulator = await new SsmEmulator(healthyScenario({ target: { host: '127.0.0.1', port: 9 } }), {
      handshakeTimeoutMs: 300,
    }).start();
    try {
      const ssm = new SSMClient({
        region: REGION,
        endpoint: emulator.endpoint,
        credentials: { accessKeyId: 'A', secretAccessKey: 's' },
      });
      const { StartSessionCommand } = await import('@aws-sdk/client-ssm');
      const started = await ssm.send(
        new StartSessionCommand({
          Target: TARGET,
          DocumentName: 'AWS-StartPortForwardingSession',
          Parameters: { portNumber: ['80'] },
        }),
      );
      const ws = new WebSocket(started.StreamUrl!);
      const frames: string[] = [];
      const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()));
      ws.on('open', () =>
        ws.send(JSON.stringify({ MessageSchemaVersion: '1.0', RequestId: 'r', TokenValue: started.TokenValue })),
      );
      ws.on('message', (data: Buffer) => {
        const message = decodeMessage(data);
        frames.push(
          message.messageType === MessageType.ChannelClosed
            ? JSON.parse(message.payload.toString()).Output
            : message.messageType,
        );
      });
      await closed;
      expect(frames[0]).toBe('output_stream_data'); // the HandshakeRequest, never answered
      expect(frames).toContain(OUTPUTS.handshakeTimeout);
    } finally {
      await emulator.stop();
    }
  });

  it('refuses a data channel opened with a wrong token', async () => {
    const emulator = await new SsmEmulator(healthyScenario({ target: { host: '127.0.0.1', port: 9 } })).start();
    try {
      const ssm = new SSMClient({
        region: REGION,
        endpoint: emulator.endpoint,
        credentials: { accessKeyId: 'A', secretAccessKey: 's' },
      });
      const { StartSessionCommand } = await import('@aws-sdk/client-ssm');
      const started = await ssm.send(
        new StartSessionCommand({
          Target: TARGET,
          DocumentName: 'AWS-StartPortForwardingSession',
          Parameters: { portNumber: ['80'] },
        }),
      );
      const ws = new WebSocket(started.StreamUrl!);
      const code = await new Promise<number>((resolve) => {
        ws.on('open', () =>
          ws.send(JSON.stringify({ MessageSchemaVersion: '1.0', RequestId: 'r', TokenValue: 'forged' })),
        );
        ws.on('close', (closeCode) => resolve(closeCode));
      });
      expect(code).toBe(1008);
    } finally {
      await emulator.stop();
    }
  });
});
