import { connect, type Socket } from 'node:net';
import { ResumeSessionCommand, SSMClient, StartSessionCommand, TerminateSessionCommand } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { RecordingLogger } from '../../src/logger.js';
import { Flag, PayloadType, readFlag } from '../../src/ssm/codec.js';
import { PortForwardingSession } from '../../src/ssm/port-session.js';
import { FIRST_CLIENT_STREAM_ID, FrameParser, SmuxCommand, encodeFrame } from '../../src/ssm/smux.js';
import { RawAgent, type RawAgentOptions } from './raw-agent.js';

const SESSION_ID = 'wire-0123456789abcdef0';

/** An SDK error as the SDK throws it: the name is the AWS error code. */
const awsError = (name: string, status: number): Error =>
  Object.assign(new Error(`${name} from the service`), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });

/** What the client puts on the wire, seen on a plain `ws` server (no emulator in between). */
describe('PortForwardingSession on the wire', () => {
  let agent: RawAgent;
  let ssm: SSMClient;
  let ssmMock: ReturnType<typeof mockClient>;
  const sessions: PortForwardingSession[] = [];
  const sockets: Socket[] = [];

  const setUp = async (options: RawAgentOptions = {}): Promise<void> => {
    agent = await RawAgent.start(options);
    ssm = new SSMClient({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIDWIRE', secretAccessKey: 's' } });
    ssmMock = mockClient(ssm);
    ssmMock
      .on(StartSessionCommand)
      .resolves({ SessionId: SESSION_ID, TokenValue: 'token-1', StreamUrl: agent.streamUrl(SESSION_ID) });
    ssmMock.on(TerminateSessionCommand).resolves({ SessionId: SESSION_ID });
  };
  const start = async (
    options: Partial<Parameters<typeof PortForwardingSession.start>[0]> = {},
  ): Promise<PortForwardingSession> => {
    const session = await PortForwardingSession.start({
      ssm,
      target: 'ecs:cluster_task_runtime',
      remotePort: 80,
      logger: new RecordingLogger(),
      ...options,
    });
    sessions.push(session);
    return session;
  };
  const until = async (condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await Promise.all(sessions.splice(0).map((session) => session.stop()));
    ssmMock?.restore();
    await agent?.stop();
  });

  it('retries a throttled StartSession (its SSM client runs with the SDK retries off)', async () => {
    await setUp();
    ssmMock
      .on(StartSessionCommand)
      .rejectsOnce(awsError('ThrottlingException', 400))
      .resolves({ SessionId: SESSION_ID, TokenValue: 'token-1', StreamUrl: agent.streamUrl(SESSION_ID) });
    const session = await start();
    expect(session.sessionId).toBe(SESSION_ID);
    expect(ssmMock.commandCalls(StartSessionCommand)).toHaveLength(2);
  });

  it('sends its first message (HandshakeResponse, seq 0) with header flags 0, as the plugin does', async () => {
    await setUp();
    await start();
    const first = agent.frames[0]!;
    expect(first.toString('ascii', 4, 36).trim()).toBe('input_stream_data');
    expect(first.readBigInt64BE(48)).toBe(0n); // sequence number
    expect(first.readUInt32BE(112)).toBe(PayloadType.HandshakeResponse);
    // Flags (offset 56): SYN on seq 0 is the agent's habit for output; the plugin's input carries 0.
    expect(first.readBigUInt64BE(56)).toBe(0n);
    expect(agent.streamMessages.map((message) => message.flags)).toEqual(agent.streamMessages.map(() => 0n));
  });

  it('stops as soon as the TerminateSession flag is acknowledged, even with other data unacknowledged', async () => {
    // The agent never acknowledges Output (data) messages, only the handshake and flags.
    await setUp({ ack: (message) => message.payloadType !== PayloadType.Output });
    const session = await start({ stopTimeoutMs: 4000 });
    sockets.push(connect(session.localPort, '127.0.0.1'));
    await until(
      () => agent.streamMessages.some((message) => message.payloadType === PayloadType.Output),
      'the smux SYN of the local connection',
    );
    const started = Date.now();
    await session.stop();
    const elapsed = Date.now() - started;
    const flags = agent.streamMessages.filter((message) => message.payloadType === PayloadType.Flag);
    expect(flags.map(readFlag)).toEqual([Flag.TerminateSession]);
    // Waiting for every unacked message would take the whole stopTimeoutMs (4 s).
    expect(elapsed).toBeLessThan(1000);
    expect(await session.ended).toEqual({ reason: 'stopped', message: `Session ${SESSION_ID} stopped.` });
  });

  it('does not retry ResumeSession when it is denied, and ends the session with the reason', async () => {
    await setUp();
    const session = await start({ resumeAttempts: 5 });
    ssmMock.on(ResumeSessionCommand).rejects(awsError('AccessDeniedException', 400));
    agent.dropConnections();
    const end = await session.ended;
    expect(ssmMock.commandCalls(ResumeSessionCommand)).toHaveLength(1);
    expect(end.reason).toBe('failed');
    expect(end.message).toContain('AccessDeniedException');
  });

  it('retries a throttled ResumeSession and reconnects with the new token and stream URL', async () => {
    await setUp();
    const session = await start({ resumeAttempts: 5 });
    ssmMock
      .on(ResumeSessionCommand)
      .rejectsOnce(awsError('ThrottlingException', 400))
      .resolves({ SessionId: SESSION_ID, TokenValue: 'token-2', StreamUrl: agent.streamUrl(`${SESSION_ID}-2`) });
    const reconnected = new Promise((resolve) => session.once('reconnected', resolve));
    agent.dropConnections();
    await reconnected;
    expect(ssmMock.commandCalls(ResumeSessionCommand)).toHaveLength(2);
    await until(() => agent.openMessages.length === 2, 'the second OpenDataChannel message');
    expect(agent.openMessages.map((open) => open.TokenValue)).toEqual(['token-1', 'token-2']);
  });

  describe('in mux mode (smux over the Output stream)', () => {
    /** The payloads of the client's Output messages, in sequence order. */
    const outputs = (): Buffer[] =>
      agent.streamMessages
        .filter((message) => message.payloadType === PayloadType.Output)
        .sort((a, b) => Number(a.sequenceNumber - b.sequenceNumber))
        .map((message) => message.payload);
    /** Every smux frame the client sent, parsed from its Output byte stream. */
    const smuxFrames = () => new FrameParser().push(Buffer.concat(outputs()));
    const framesOf = (streamId: number, command: number) =>
      smuxFrames().filter((frame) => frame.streamId === streamId && frame.command === command);
    const localClient = async (port: number, onConnect: (socket: Socket) => void): Promise<Socket> => {
      const socket = connect(port, '127.0.0.1');
      sockets.push(socket);
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) =>
        socket.once('connect', () => {
          onConnect(socket);
          resolve();
        }),
      );
      return socket;
    };

    it("sends a new connection's SYN and its first bytes in one data-channel message", async () => {
      await setUp();
      const session = await start();
      expect(outputs()).toHaveLength(0);
      const request = Buffer.from('GET / HTTP/1.0\r\n\r\n');
      await localClient(session.localPort, (socket) => socket.write(request));
      await until(() => outputs().length > 0, 'the first Output message');
      // Give a SYN sent on its own (the bug) the time to show up as a message before the request.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(outputs()[0]).toEqual(
        Buffer.concat([
          encodeFrame(SmuxCommand.Syn, FIRST_CLIENT_STREAM_ID),
          encodeFrame(SmuxCommand.Psh, FIRST_CLIENT_STREAM_ID, request),
        ]),
      );
      expect(outputs()).toHaveLength(1);
    });

    it('sends the SYN alone when the connection writes nothing (the server speaks first)', async () => {
      await setUp();
      const session = await start();
      await localClient(session.localPort, () => undefined);
      await until(() => outputs().length > 0, 'the SYN', 1000);
      expect(outputs()).toEqual([encodeFrame(SmuxCommand.Syn, FIRST_CLIENT_STREAM_ID)]);
    });

    it('sends the stream bytes waiting to be coalesced before the TerminateSession flag', async () => {
      await setUp();
      const session = await start();
      const socket = await localClient(session.localPort, (local) => local.write('x'));
      await until(() => framesOf(FIRST_CLIENT_STREAM_ID, SmuxCommand.Psh).length === 1, 'the first bytes');
      // The forwarder writes the FIN and emits stream-close in one go: stopping then sends the flag
      // while the FIN still waits for the end of the callback.
      let stopping: Promise<void> | undefined;
      session.once('stream-close', () => (stopping = session.stop()));
      socket.destroy();
      await until(() => stopping !== undefined, 'the stream to close');
      await stopping;
      const messages = agent.streamMessages
        .filter((message) => message.payloadType === PayloadType.Output || message.payloadType === PayloadType.Flag)
        .sort((a, b) => Number(a.sequenceNumber - b.sequenceNumber));
      const last = messages.at(-1)!;
      expect(last.payloadType).toBe(PayloadType.Flag);
      expect(readFlag(last)).toBe(Flag.TerminateSession);
      const finMessage = messages.at(-2)!;
      expect(finMessage.payloadType).toBe(PayloadType.Output);
      expect(finMessage.payload).toEqual(encodeFrame(SmuxCommand.Fin, FIRST_CLIENT_STREAM_ID));
    });

    it('sends neither SYN nor FIN for a connection closed before its SYN left (a port probe)', async () => {
      await setUp();
      const session = await start();
      const closed = new Promise<number>((resolve) => session.once('stream-close', resolve));
      // Destroyed in the connect callback, before the two turns of the event loop the SYN waits.
      await localClient(session.localPort, (socket) => socket.destroy());
      expect(await closed).toBe(FIRST_CLIENT_STREAM_ID);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(framesOf(FIRST_CLIENT_STREAM_ID, SmuxCommand.Syn)).toHaveLength(0);
      expect(framesOf(FIRST_CLIENT_STREAM_ID, SmuxCommand.Fin)).toHaveLength(0);
      expect(outputs()).toHaveLength(0);
    });
  });
});
