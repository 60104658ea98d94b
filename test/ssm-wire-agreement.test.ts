/**
 * The client's codec (actions/shared/src/ssm/codec.ts, smux.ts) and the emulator's own
 * (test/helpers/ssm-emulator/wire.ts, smux-wire.ts) must agree on the reference's golden bytes and
 * read each other's output. The emulator no longer borrows the client's framing, so a framing
 * mistake on either side (UUID halves, padding, digest, offsets, flags, smux endianness) fails here
 * instead of passing silently because both ends make it.
 */
import {
  MessageType,
  PayloadType,
  decodeMessage,
  encodeAcknowledge,
  encodeMessage,
  flagPayload,
  parseJsonPayload,
  type AcknowledgeContent,
} from '../actions/shared/src/ssm/codec.js';
import { FrameParser, SmuxCommand, encodeFrame } from '../actions/shared/src/ssm/smux.js';
import { GOLDEN_HANDSHAKE_RESPONSE, GOLDEN_MESSAGE_ID, GOLDEN_SMUX, hex } from './helpers/ssm-emulator/golden.js';
import { Cmd, SmuxReader, smuxFrame } from './helpers/ssm-emulator/smux-wire.js';
import {
  HeaderFlags,
  MessageTypes,
  WireRejection,
  flagBytes,
  jsonOf,
  readWireMessage,
  writeAck,
  writeChannelClosed,
  writeWireMessage,
  type AckBody,
  type WireMessageFields,
} from './helpers/ssm-emulator/wire.js';

/** Messages both sides send in a port session, with every header field set. */
const SAMPLES: Record<string, Required<WireMessageFields>> = {
  'client data': {
    messageType: 'input_stream_data',
    schemaVersion: 1,
    createdDate: 1_795_896_702_916,
    sequenceNumber: 7n,
    flags: 0n,
    messageId: '0f0e0d0c-0b0a-4908-8706-050403020100',
    payloadType: 1,
    payload: Buffer.from('0100000003000000', 'hex'),
  },
  'client TerminateSession flag': {
    messageType: 'input_stream_data',
    schemaVersion: 1,
    createdDate: 1_795_896_702_917,
    sequenceNumber: 8n,
    flags: 0n,
    messageId: 'a1b2c3d4-e5f6-4789-9abc-def012345678',
    payloadType: 10,
    payload: Buffer.from('00000002', 'hex'),
  },
  'agent HandshakeRequest': {
    messageType: 'output_stream_data',
    schemaVersion: 1,
    createdDate: 1_795_896_702_900,
    sequenceNumber: 0n,
    flags: 1n,
    messageId: 'ffffffff-0000-4000-8000-000000000001',
    payloadType: 5,
    payload: Buffer.from('{"AgentVersion":"3.3.987.0","RequestedClientActions":[]}'),
  },
  'agent data past 2^32': {
    messageType: 'output_stream_data',
    schemaVersion: 1,
    createdDate: 1_795_896_702_918,
    sequenceNumber: 0x1_0000_0005n,
    flags: 0n,
    messageId: '12345678-9abc-4def-8123-456789abcdef',
    payloadType: 1,
    payload: Buffer.alloc(1024, 0xab),
  },
  'empty payload': {
    messageType: 'output_stream_data',
    schemaVersion: 1,
    createdDate: 1_795_896_702_919,
    sequenceNumber: 3n,
    flags: 0n,
    messageId: '00000000-0000-4000-8000-00000000000a',
    payloadType: 1,
    payload: Buffer.alloc(0),
  },
};

describe('client and emulator codecs agree on the golden HandshakeResponse (§4)', () => {
  it('both read the same fields from it', () => {
    const client = decodeMessage(GOLDEN_HANDSHAKE_RESPONSE);
    const emulator = readWireMessage(GOLDEN_HANDSHAKE_RESPONSE);
    expect(client).toEqual(emulator);
    expect(client.messageId).toBe(GOLDEN_MESSAGE_ID);
  });

  it('the client writes it byte for byte, as the emulator does', () => {
    const fields = {
      messageType: MessageType.InputStreamData,
      createdDate: 0x1a223c8f7c4,
      sequenceNumber: 0n,
      flags: 0n,
      messageId: GOLDEN_MESSAGE_ID,
      payloadType: PayloadType.HandshakeResponse,
      payload: GOLDEN_HANDSHAKE_RESPONSE.subarray(120),
    };
    expect(hex(encodeMessage(fields))).toBe(hex(GOLDEN_HANDSHAKE_RESPONSE));
    expect(hex(writeWireMessage(fields))).toBe(hex(GOLDEN_HANDSHAKE_RESPONSE));
  });
});

describe.each(Object.entries(SAMPLES))('%s', (_name, fields) => {
  it('the client writes the same bytes as the emulator', () => {
    expect(hex(encodeMessage(fields))).toBe(hex(writeWireMessage(fields)));
  });

  it('the emulator reads what the client writes', () => {
    expect(readWireMessage(encodeMessage(fields))).toEqual(fields);
  });

  it('the client reads what the emulator writes', () => {
    expect(decodeMessage(writeWireMessage(fields))).toEqual(fields);
  });
});

describe('messages without a given id (each side draws a random UUID)', () => {
  it('read back the same id on both sides, however they were written', () => {
    for (const frame of [
      encodeMessage({ messageType: MessageType.InputStreamData, payload: Buffer.from('x') }),
      writeWireMessage({ messageType: MessageTypes.output, payload: Buffer.from('y') }),
    ]) {
      const id = readWireMessage(frame).messageId;
      expect(decodeMessage(frame).messageId).toBe(id);
      // The plugin draws version-4 UUIDs: version nibble and variant bits where RFC 4122 puts them.
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
  });
});

describe('acknowledges cross both ways (§5.4)', () => {
  it('the emulator reads the client ack of an emulator message', () => {
    const fields = SAMPLES['agent HandshakeRequest']!;
    const ack = readWireMessage(encodeAcknowledge(decodeMessage(writeWireMessage(fields))));
    expect(ack).toMatchObject({
      messageType: 'acknowledge',
      sequenceNumber: 0n,
      flags: HeaderFlags.ack,
      payloadType: 0,
    });
    expect(jsonOf<AckBody>(ack)).toEqual({
      AcknowledgedMessageType: 'output_stream_data',
      AcknowledgedMessageId: fields.messageId,
      AcknowledgedMessageSequenceNumber: 0,
      IsSequentialMessage: true,
    });
  });

  it('the client reads the emulator ack of a client message', () => {
    const fields = SAMPLES['client data']!;
    const ack = decodeMessage(writeAck(readWireMessage(encodeMessage(fields))));
    expect(ack).toMatchObject({ messageType: 'acknowledge', sequenceNumber: 0n, flags: 3n, payloadType: 0 });
    expect(parseJsonPayload<AcknowledgeContent>(ack)).toEqual({
      AcknowledgedMessageType: 'input_stream_data',
      AcknowledgedMessageId: fields.messageId,
      AcknowledgedMessageSequenceNumber: 7,
      IsSequentialMessage: true,
    });
  });

  it('the client reads the emulator channel_closed and its Output', () => {
    const closed = decodeMessage(writeChannelClosed('alice-0625cb834d1273961', 'Your session timed out.'));
    expect(closed.messageType).toBe('channel_closed');
    expect(parseJsonPayload<{ Output: string }>(closed).Output).toBe('Your session timed out.');
  });
});

describe('both sides drop the same broken frames (§4)', () => {
  const good = (): Buffer => encodeMessage(SAMPLES['client data']!);
  const broken: Record<string, (frame: Buffer) => void> = {
    'a payload byte changed (digest mismatch)': (frame) => (frame[frame.length - 1]! ^= 0x01),
    'a digest byte changed': (frame) => (frame[95]! ^= 0x80),
    'CreatedDate 0': (frame) => frame.fill(0, 40, 48),
    'no MessageType': (frame) => frame.fill(0x20, 4, 36),
  };
  it.each(Object.entries(broken))('%s', (_name, breakIt) => {
    const frame = good();
    breakIt(frame);
    expect(() => readWireMessage(frame)).toThrow(WireRejection);
    expect(() => decodeMessage(frame)).toThrow();
  });
});

describe('client and emulator smux framing agree (§8.3)', () => {
  it('both write the observed frames', () => {
    const golden = [GOLDEN_SMUX.syn, GOLDEN_SMUX.pshPing, GOLDEN_SMUX.nop, GOLDEN_SMUX.fin];
    expect(
      [
        encodeFrame(SmuxCommand.Syn, 3),
        encodeFrame(SmuxCommand.Psh, 3, Buffer.from('ping')),
        encodeFrame(SmuxCommand.Nop, 0),
        encodeFrame(SmuxCommand.Fin, 3),
      ].map(hex),
    ).toEqual(golden);
    expect(
      [
        smuxFrame(Cmd.syn, 3),
        smuxFrame(Cmd.psh, 3, Buffer.from('ping')),
        smuxFrame(Cmd.nop, 0),
        smuxFrame(Cmd.fin, 3),
      ].map(hex),
    ).toEqual(golden);
  });

  it('each reads the other side’s frames from an arbitrarily cut stream', () => {
    const payload = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251));
    const clientStream = Buffer.concat([
      encodeFrame(SmuxCommand.Syn, 0x01020305),
      encodeFrame(SmuxCommand.Psh, 0x01020305, payload),
      encodeFrame(SmuxCommand.Fin, 0x01020305),
    ]);
    const emulatorStream = Buffer.concat([
      smuxFrame(Cmd.psh, 0x01020305, payload),
      smuxFrame(Cmd.nop, 0),
      smuxFrame(Cmd.fin, 0x01020305),
    ]);
    const cut = (stream: Buffer): Buffer[] => {
      const pieces: Buffer[] = [];
      for (let at = 0, size = 1; at < stream.length; at += size, size = (size * 7) % 1024 || 1)
        pieces.push(stream.subarray(at, at + size));
      return pieces;
    };
    const reader = new SmuxReader();
    expect(cut(clientStream).flatMap((piece) => reader.feed(piece))).toEqual([
      { cmd: Cmd.syn, sid: 0x01020305, data: Buffer.alloc(0) },
      { cmd: Cmd.psh, sid: 0x01020305, data: payload },
      { cmd: Cmd.fin, sid: 0x01020305, data: Buffer.alloc(0) },
    ]);
    const parser = new FrameParser();
    expect(cut(emulatorStream).flatMap((piece) => parser.push(piece))).toEqual([
      { command: SmuxCommand.Psh, streamId: 0x01020305, data: payload },
      { command: SmuxCommand.Nop, streamId: 0, data: Buffer.alloc(0) },
      { command: SmuxCommand.Fin, streamId: 0x01020305, data: Buffer.alloc(0) },
    ]);
  });

  it('a Flag payload is the same 4 big-endian bytes on both sides (§5.3)', () => {
    for (const flag of [1, 2, 3]) {
      expect(hex(flagPayload(flag))).toBe(`0000000${flag}`);
      expect(hex(flagBytes(flag))).toBe(`0000000${flag}`);
    }
  });
});
