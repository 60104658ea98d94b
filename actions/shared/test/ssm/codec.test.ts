import { createHash, randomUUID } from 'node:crypto';
import {
  Flag,
  HeaderFlag,
  MessageFormatError,
  MessageType,
  PayloadType,
  compareVersions,
  decodeMessage,
  encodeAcknowledge,
  encodeMessage,
  flagPayload,
  readFlag,
  readSwappedUuid,
  writeSwappedUuid,
} from '../../src/ssm/codec.js';
import { GOLDEN_HANDSHAKE_RESPONSE } from '../../../../test/helpers/ssm-emulator/golden.js';

/**
 * The first 120 bytes of the HandshakeResponse the official plugin sent (protocol reference §4,
 * observed), from the one copy of the golden bytes the emulator's tests use too.
 */
const GOLDEN_HEADER = GOLDEN_HANDSHAKE_RESPONSE.subarray(0, 120);

describe('ClientMessage codec against the golden header', () => {
  it('reads the golden header field by field', () => {
    expect(GOLDEN_HEADER.length).toBe(120);
    expect(GOLDEN_HEADER.readUInt32BE(0)).toBe(116);
    expect(GOLDEN_HEADER.toString('ascii', 4, 36)).toBe('input_stream_data'.padEnd(32, ' '));
    expect(readSwappedUuid(GOLDEN_HEADER, 64)).toBe('bc8d59d7-8763-4638-9ede-3ee9f52ccd40');
    expect(GOLDEN_HEADER.readUInt32BE(112)).toBe(PayloadType.HandshakeResponse);
    expect(GOLDEN_HEADER.readUInt32BE(116)).toBe(145);
  });

  it('encodes the same header bytes for the same fields (digest aside, whose payload is not recorded)', () => {
    const payload = Buffer.alloc(145, 0x20);
    const frame = encodeMessage({
      messageType: MessageType.InputStreamData,
      createdDate: Number(GOLDEN_HEADER.readBigUInt64BE(40)),
      sequenceNumber: 0n,
      flags: HeaderFlag.None,
      messageId: 'bc8d59d7-8763-4638-9ede-3ee9f52ccd40',
      payloadType: PayloadType.HandshakeResponse,
      payload,
    });
    expect(frame.subarray(0, 80)).toEqual(GOLDEN_HEADER.subarray(0, 80));
    expect(frame.subarray(112, 120)).toEqual(GOLDEN_HEADER.subarray(112, 120));
    expect(frame.subarray(80, 112)).toEqual(createHash('sha256').update(payload).digest());
    expect(frame.subarray(120)).toEqual(payload);
  });
});

describe('codec', () => {
  it('round-trips every field', () => {
    const payload = Buffer.from('hello');
    const frame = encodeMessage({
      messageType: MessageType.OutputStreamData,
      sequenceNumber: 42n,
      flags: HeaderFlag.Syn,
      messageId: '01234567-89ab-cdef-0123-456789abcdef',
      payloadType: PayloadType.Output,
      payload,
      createdDate: 1_700_000_000_000,
    });
    expect(decodeMessage(frame)).toEqual({
      messageType: 'output_stream_data',
      schemaVersion: 1,
      createdDate: 1_700_000_000_000,
      sequenceNumber: 42n,
      flags: 1n,
      messageId: '01234567-89ab-cdef-0123-456789abcdef',
      payloadType: 1,
      payload,
    });
  });

  it('gives every message a fresh version-4 id, across refills of the random pool', () => {
    const ids = Array.from(
      { length: 1000 },
      () =>
        decodeMessage(encodeMessage({ messageType: MessageType.InputStreamData, payload: Buffer.from('x') })).messageId,
    );
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('writes a correct digest on every message, acknowledgements included, and dates past 32 bits', () => {
    const ack = encodeAcknowledge({ messageType: 'output_stream_data', messageId: randomUUID(), sequenceNumber: 9n });
    expect(ack.subarray(80, 112)).toEqual(createHash('sha256').update(ack.subarray(120)).digest());
    const quoted = encodeAcknowledge({ messageType: 'odd"type\\', messageId: 'id', sequenceNumber: 1n });
    expect(JSON.parse(quoted.subarray(120).toString()).AcknowledgedMessageType).toBe('odd"type\\');
    const big = encodeMessage({ messageType: MessageType.OutputStreamData, createdDate: 2 ** 45 + 7, payload: ack });
    expect(big.readBigUInt64BE(40)).toBe(2n ** 45n + 7n);
    expect(big.subarray(80, 112)).toEqual(createHash('sha256').update(ack).digest());
  });

  it('swaps the UUID halves on the wire', () => {
    const buffer = Buffer.alloc(16);
    writeSwappedUuid('00112233-4455-6677-8899-aabbccddeeff', buffer, 0);
    expect(buffer.toString('hex')).toBe('8899aabbccddeeff0011223344556677');
  });

  it('drops a frame whose payload does not match its digest', () => {
    const frame = encodeMessage({
      messageType: MessageType.OutputStreamData,
      payloadType: 1,
      payload: Buffer.from('abc'),
    });
    frame[120] = 0x78;
    expect(() => decodeMessage(frame)).toThrow(MessageFormatError);
  });

  it('rejects short frames, empty types and a zero date, but lets publication messages through', () => {
    expect(() => decodeMessage(Buffer.alloc(50))).toThrow(/shorter than the header/);
    const untyped = encodeMessage({ messageType: '' });
    expect(() => decodeMessage(untyped)).toThrow(/Empty message type/);
    expect(() => decodeMessage(encodeMessage({ messageType: MessageType.OutputStreamData, createdDate: 0 }))).toThrow(
      /Zero CreatedDate/,
    );
    expect(
      decodeMessage(encodeMessage({ messageType: MessageType.PausePublication, createdDate: 0 })).messageType,
    ).toBe('pause_publication');
  });

  it('accepts NUL-padded types (as some clients write them)', () => {
    const frame = encodeMessage({ messageType: MessageType.Acknowledge, payload: Buffer.from('{}') });
    frame.fill(0, 4 + 'acknowledge'.length, 36);
    expect(decodeMessage(frame).messageType).toBe('acknowledge');
  });

  it('builds acknowledgements as the service expects them', () => {
    const ack = decodeMessage(
      encodeAcknowledge({
        messageType: 'output_stream_data',
        messageId: '01234567-89ab-cdef-0123-456789abcdef',
        sequenceNumber: 7n,
      }),
    );
    expect(ack).toMatchObject({ messageType: 'acknowledge', sequenceNumber: 0n, flags: 3n, payloadType: 0 });
    expect(JSON.parse(ack.payload.toString())).toEqual({
      AcknowledgedMessageType: 'output_stream_data',
      AcknowledgedMessageId: '01234567-89ab-cdef-0123-456789abcdef',
      AcknowledgedMessageSequenceNumber: 7,
      IsSequentialMessage: true,
    });
  });

  it('encodes flags as 4-byte big-endian payloads', () => {
    expect(flagPayload(Flag.TerminateSession)).toEqual(Buffer.from([0, 0, 0, 2]));
    const message = decodeMessage(
      encodeMessage({
        messageType: MessageType.InputStreamData,
        payloadType: PayloadType.Flag,
        payload: flagPayload(Flag.ConnectToPortError),
      }),
    );
    expect(readFlag(message)).toBe(3);
  });

  it.each([
    ['3.0.222.0', '3.0.196.0', 1],
    ['3.0.196.0', '3.0.196.0', 0],
    ['3.1.1476.0', '3.1.1511.0', -1],
    ['1.2.650.0', '1.2.331.0', 1],
    ['abc', '1.0', NaN],
  ])('compareVersions(%s, %s) has the sign of %s', (a, b, expected) => {
    const result = compareVersions(a, b);
    if (Number.isNaN(expected)) expect(result).toBeNaN();
    else expect(Math.sign(result)).toBe(expected);
  });
});
