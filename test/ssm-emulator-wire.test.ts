/**
 * The emulator's own Session Manager and smux framing (test/helpers/ssm-emulator/wire.ts,
 * smux-wire.ts) against golden bytes from the protocol reference
 * (shared/reference/ssm-port-forwarding.md): the observed HandshakeResponse of §4, an acknowledge
 * assembled by hand from the §4 table and §5.4, the handshake the agent starts (§5.4, §10), the
 * decoder's drop rules (§4) and the observed smux frames (§8.3). Expected bytes are written out
 * here, not produced by the code under test.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentSession } from './helpers/ssm-emulator/agent-session.js';
import { Cmd, SmuxReader, smuxFrame, smuxPush } from './helpers/ssm-emulator/smux-wire.js';
import {
  FlagValues,
  HeaderFlags,
  MessageTypes,
  PayloadTypes,
  WireRejection,
  flagBytes,
  readWireMessage,
  uuidFromWire,
  uuidToWire,
  writeAck,
  writeChannelClosed,
  writeWireMessage,
} from './helpers/ssm-emulator/wire.js';
import { GOLDEN_HANDSHAKE_RESPONSE, GOLDEN_MESSAGE_ID, GOLDEN_SMUX, hex } from './helpers/ssm-emulator/golden.js';

const EMULATOR_DIR = join(dirname(fileURLToPath(import.meta.url)), 'helpers', 'ssm-emulator');
const REPO = resolve(EMULATOR_DIR, '..', '..', '..');

const sha256 = (bytes: Buffer): Buffer => createHash('sha256').update(bytes).digest();

/** Header fields read straight at the offsets of the reference's §4 table. */
function header(frame: Buffer) {
  return {
    headerLength: frame.readUInt32BE(0),
    messageType: frame.toString('ascii', 4, 36),
    schemaVersion: frame.readUInt32BE(36),
    sequenceNumber: frame.readBigInt64BE(48),
    flags: frame.readBigUInt64BE(56),
    digest: frame.subarray(80, 112),
    payloadType: frame.readUInt32BE(112),
    payloadLength: frame.readUInt32BE(116),
    payload: frame.subarray(120),
  };
}

describe('emulator wire codec: the observed HandshakeResponse (§4)', () => {
  it('reads every field of it', () => {
    const message = readWireMessage(GOLDEN_HANDSHAKE_RESPONSE);
    expect(message).toEqual({
      messageType: 'input_stream_data',
      schemaVersion: 1,
      createdDate: 0x1a223c8f7c4,
      sequenceNumber: 0n,
      flags: 0n,
      messageId: GOLDEN_MESSAGE_ID,
      payloadType: PayloadTypes.handshakeResponse,
      payload: GOLDEN_HANDSHAKE_RESPONSE.subarray(120),
    });
    expect(JSON.parse(message.payload.toString())).toMatchObject({ ClientVersion: '1.2.0.0' });
  });

  it('writes it byte for byte from the same fields', () => {
    const frame = writeWireMessage({
      messageType: MessageTypes.input,
      createdDate: 0x1a223c8f7c4,
      sequenceNumber: 0n,
      flags: HeaderFlags.none,
      messageId: GOLDEN_MESSAGE_ID,
      payloadType: PayloadTypes.handshakeResponse,
      payload: GOLDEN_HANDSHAKE_RESPONSE.subarray(120),
    });
    expect(hex(frame)).toBe(hex(GOLDEN_HANDSHAKE_RESPONSE));
  });

  it('puts the UUID least-significant half first (bytes 64-79)', () => {
    expect(hex(uuidToWire(GOLDEN_MESSAGE_ID))).toBe('9ede3ee9f52ccd40bc8d59d787634638');
    expect(uuidFromWire(GOLDEN_HANDSHAKE_RESPONSE.subarray(64, 80))).toBe(GOLDEN_MESSAGE_ID);
    // Not the RFC order: reading the bytes as they lie gives another UUID.
    expect(GOLDEN_HANDSHAKE_RESPONSE.subarray(64, 80).toString('hex')).not.toBe(GOLDEN_MESSAGE_ID.replaceAll('-', ''));
  });
});

describe('emulator wire codec: acknowledge (§4, §5.4)', () => {
  // Assembled by hand: type `acknowledge` space padded, schema 1, seq 0, flags 3, the ack's own id
  // 6f1c2e3a-4b5d-4e6f-8a9b-0c1d2e3f4a5b swapped, SHA-256 of the body, PayloadType 0, length 175.
  const ACK_BODY =
    '{"AcknowledgedMessageType":"input_stream_data","AcknowledgedMessageId":"bc8d59d7-8763-4638-9ede-3ee9f52ccd40",' +
    '"AcknowledgedMessageSequenceNumber":0,"IsSequentialMessage":true}';
  const GOLDEN_ACK = Buffer.concat([
    Buffer.from(
      [
        '00 00 00 74 61 63 6b 6e 6f 77 6c 65 64 67 65 20',
        '20 20 20 20 20 20 20 20 20 20 20 20 20 20 20 20',
        '20 20 20 20 00 00 00 01 00 00 01 a2 23 c8 f7 c5',
        '00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 03',
        '8a 9b 0c 1d 2e 3f 4a 5b 6f 1c 2e 3a 4b 5d 4e 6f',
        '58 31 35 da ff 74 e4 e4 82 2a c0 46 83 46 e3 1c',
        'c5 00 0d 27 92 95 57 6e fd 6c 69 72 60 de 0f 96',
        '00 00 00 00 00 00 00 af',
      ]
        .join('')
        .replaceAll(' ', ''),
      'hex',
    ),
    Buffer.from(ACK_BODY),
  ]);

  it('acknowledges the observed HandshakeResponse with the hand-assembled bytes', () => {
    const acked = readWireMessage(GOLDEN_HANDSHAKE_RESPONSE);
    const ack = writeAck(acked, { messageId: '6f1c2e3a-4b5d-4e6f-8a9b-0c1d2e3f4a5b', createdDate: 0x1a223c8f7c5 });
    expect(hex(ack)).toBe(hex(GOLDEN_ACK));
  });

  it('reads the hand-assembled acknowledge', () => {
    expect(readWireMessage(GOLDEN_ACK)).toMatchObject({
      messageType: 'acknowledge',
      sequenceNumber: 0n,
      flags: 3n,
      payloadType: 0,
      messageId: '6f1c2e3a-4b5d-4e6f-8a9b-0c1d2e3f4a5b',
    });
  });
});

describe('emulator wire codec: what a receiver must drop (§4)', () => {
  const withByte = (frame: Buffer, offset: number, value: number): Buffer => {
    const copy = Buffer.from(frame);
    copy[offset] = value;
    return copy;
  };

  it('drops a payload whose SHA-256 is not the digest', () => {
    const corrupted = withByte(GOLDEN_HANDSHAKE_RESPONSE, 130, 0x41);
    expect(() => readWireMessage(corrupted)).toThrow(WireRejection);
    expect(() => readWireMessage(corrupted)).toThrow(/PayloadDigest/);
  });

  it('drops a zero CreatedDate, an empty type, a short frame, and a length that lies', () => {
    const zeroDate = Buffer.from(GOLDEN_HANDSHAKE_RESPONSE);
    zeroDate.fill(0, 40, 48);
    expect(() => readWireMessage(zeroDate)).toThrow(/CreatedDate is 0/);
    const noType = Buffer.from(GOLDEN_HANDSHAKE_RESPONSE);
    noType.fill(0x20, 4, 36);
    expect(() => readWireMessage(noType)).toThrow(/Empty MessageType/);
    expect(() => readWireMessage(GOLDEN_HANDSHAKE_RESPONSE.subarray(0, 119))).toThrow(/header bytes/);
    expect(() => readWireMessage(withByte(GOLDEN_HANDSHAKE_RESPONSE, 119, 0x90))).toThrow(/PayloadLength 144/);
  });

  it('accepts a NUL-padded type (as bertrandmartel writes it) and publication messages without a date', () => {
    const nulPadded = Buffer.from(GOLDEN_HANDSHAKE_RESPONSE);
    nulPadded.fill(0, 4, 36);
    nulPadded.write('input_stream_data', 36 - 'input_stream_data'.length, 'ascii');
    expect(readWireMessage(nulPadded).messageType).toBe('input_stream_data');
    const pause = writeWireMessage({ messageType: MessageTypes.pausePublication, createdDate: 0 });
    expect(readWireMessage(pause).messageType).toBe('pause_publication');
  });
});

describe('emulator wire codec: the handshake the agent plays (§5.4, §10)', () => {
  /** An agent for a LocalPortForwarding session to port 80 (no destination: the test stops at the handshake). */
  const agentSession = (): AgentSession =>
    new AgentSession({
      sessionId: 'alice-0625cb834d1273961',
      agentVersion: '3.3.987.0',
      properties: { portNumber: '80', type: 'LocalPortForwarding', localPortNumber: '0' },
      resolve: () => undefined,
      handshakeTimeoutMs: 15_000,
      idleTimeoutMs: 60_000,
      keepAlive: { intervalMs: 10_000, timeoutMs: 30_000 },
      faults: {},
      random: () => 1,
      onEnd: () => undefined,
    });

  it('sends HandshakeRequest seq 0 flags 1, then on the HandshakeResponse the ack and HandshakeComplete seq 1', async () => {
    const sent: Buffer[] = [];
    const agent = agentSession();
    try {
      agent.attach((frame) => sent.push(frame));
      const request = header(sent[0]!);
      expect(request).toMatchObject({
        headerLength: 116,
        messageType: 'output_stream_data'.padEnd(32, ' '),
        schemaVersion: 1,
        sequenceNumber: 0n,
        flags: 1n,
        payloadType: 5,
      });
      expect(request.payloadLength).toBe(request.payload.length);
      expect(hex(request.digest)).toBe(hex(sha256(request.payload)));
      expect(JSON.parse(request.payload.toString())).toEqual({
        AgentVersion: '3.3.987.0',
        RequestedClientActions: [
          {
            ActionType: 'SessionType',
            ActionParameters: {
              SessionType: 'Port',
              Properties: { portNumber: '80', type: 'LocalPortForwarding', localPortNumber: '0' },
            },
          },
        ],
      });

      agent.receive(GOLDEN_HANDSHAKE_RESPONSE);
      // The agent's handler hands the response to its handshake goroutine and its caller acks it at
      // once; that goroutine sends HandshakeComplete after (amazon-ssm-agent datachannel.go,
      // handleHandshakeResponse and PerformHandshake). The ack goes first: the official plugin
      // crashes on an ack that arrives after HandshakeComplete (agent-session.ts).
      expect(sent.map(header).map((m) => m.messageType.trim())).toEqual(['output_stream_data', 'acknowledge']);
      await Promise.resolve();
      expect(sent).toHaveLength(3);
      const [ack, complete] = sent.slice(1).map(header);
      expect(ack).toMatchObject({ messageType: 'acknowledge'.padEnd(32, ' '), sequenceNumber: 0n, flags: 3n });
      expect(ack!.payloadType).toBe(0);
      expect(JSON.parse(ack!.payload.toString())).toEqual({
        AcknowledgedMessageType: 'input_stream_data',
        AcknowledgedMessageId: GOLDEN_MESSAGE_ID,
        AcknowledgedMessageSequenceNumber: 0,
        IsSequentialMessage: true,
      });
      expect(complete).toMatchObject({ sequenceNumber: 1n, flags: 0n, payloadType: 7 });
      expect(JSON.parse(complete!.payload.toString())).toEqual({
        HandshakeTimeToComplete: expect.any(Number),
        CustomerMessage: '',
      });
      expect(agent.clientVersion).toBe('1.2.0.0');
      expect(agent.stats.rejected).toBe(0);
    } finally {
      agent.end('');
    }
  });

  it('drops a HandshakeResponse with a bad digest without acking it, and says why', () => {
    const sent: Buffer[] = [];
    const agent = agentSession();
    try {
      agent.attach((frame) => sent.push(frame));
      const corrupted = Buffer.from(GOLDEN_HANDSHAKE_RESPONSE);
      corrupted.writeUInt8(corrupted.readUInt8(80) ^ 0xff, 80);
      agent.receive(corrupted);
      expect(sent).toHaveLength(1); // only the HandshakeRequest
      expect(agent.rejections).toEqual([expect.stringMatching(/PayloadDigest on input_stream_data/)]);
    } finally {
      agent.end('');
    }
  });
});

describe('emulator wire codec: flags and channel_closed (§5.3, §10)', () => {
  it('writes a Flag payload as a 4-byte big-endian value', () => {
    expect(hex(flagBytes(FlagValues.connectToPortError))).toBe('00000003');
    expect(hex(flagBytes(FlagValues.terminateSession))).toBe('00000002');
  });

  it('writes channel_closed with seq 0, PayloadType 0 and an Output', () => {
    const frame = header(writeChannelClosed('alice-0625cb834d1273961', 'bye', new Date('2021-10-01T09:24:34.917Z')));
    expect(frame).toMatchObject({ messageType: 'channel_closed'.padEnd(32, ' '), sequenceNumber: 0n, payloadType: 0 });
    expect(JSON.parse(frame.payload.toString())).toMatchObject({
      CreatedDate: '2021-10-01T09:24:34.917Z',
      SessionId: 'alice-0625cb834d1273961',
      MessageType: 'channel_closed',
      SchemaVersion: 1,
      Output: 'bye',
    });
  });
});

describe('emulator smux v1 framing against the observed frames (§8.3)', () => {
  it('writes SYN, PSH "ping", NOP and FIN as the plugin does', () => {
    expect(hex(smuxFrame(Cmd.syn, 3))).toBe(GOLDEN_SMUX.syn);
    expect(hex(smuxFrame(Cmd.psh, 3, Buffer.from('ping')))).toBe(GOLDEN_SMUX.pshPing);
    expect(hex(smuxFrame(Cmd.nop, 0))).toBe(GOLDEN_SMUX.nop);
    expect(hex(smuxFrame(Cmd.fin, 3))).toBe(GOLDEN_SMUX.fin);
  });

  it('reads them back from a stream cut one byte at a time', () => {
    const stream = Buffer.from(GOLDEN_SMUX.syn + GOLDEN_SMUX.pshPing + GOLDEN_SMUX.nop + GOLDEN_SMUX.fin, 'hex');
    const reader = new SmuxReader();
    const frames = [...stream].flatMap((byte) => reader.feed(Buffer.from([byte])));
    expect(frames).toEqual([
      { cmd: Cmd.syn, sid: 3, data: Buffer.alloc(0) },
      { cmd: Cmd.psh, sid: 3, data: Buffer.from('ping') },
      { cmd: Cmd.nop, sid: 0, data: Buffer.alloc(0) },
      { cmd: Cmd.fin, sid: 3, data: Buffer.alloc(0) },
    ]);
  });

  it('splits data into PSH frames of at most 32768 bytes', () => {
    const frames = smuxPush(5, Buffer.alloc(32768 + 10, 7));
    expect(frames.map((frame) => hex(frame.subarray(0, 8)))).toEqual(['0102008005000000', '01020a0005000000']);
  });

  it('ends the session on a version other than 1 or an unknown command (UPD is v2 only)', () => {
    expect(() => new SmuxReader().feed(Buffer.from('0200000003000000', 'hex'))).toThrow(/version 2/);
    expect(() => new SmuxReader().feed(Buffer.from('0104000003000000', 'hex'))).toThrow(/command 4/);
  });
});

describe('the emulator keeps its own codec', () => {
  it('imports nothing from the client under actions/shared/src/ssm', () => {
    const clientDir = join(REPO, 'actions', 'shared', 'src', 'ssm');
    const files = readdirSync(EMULATOR_DIR).filter((name) => name.endsWith('.ts'));
    expect(files).toEqual(expect.arrayContaining(['wire.ts', 'smux-wire.ts', 'emulator.ts']));
    const offending = files.flatMap((name) => {
      const source = readFileSync(join(EMULATOR_DIR, name), 'utf8');
      const specifiers = [...source.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((match) => match[1]!);
      return specifiers
        .filter((specifier) => specifier.startsWith('.'))
        .map((specifier) => resolve(EMULATOR_DIR, specifier))
        .filter((path) => !relative(clientDir, path).startsWith('..'))
        .map((path) => `${name} imports ${relative(REPO, path)}`);
    });
    expect(offending).toEqual([]);
  });
});
