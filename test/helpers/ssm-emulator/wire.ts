/**
 * The emulator's own reading and writing of Session Manager data-channel messages, written from the
 * protocol reference (shared/reference/ssm-port-forwarding.md §4-5), NOT shared with the client's
 * codec: a framing mistake on either side then shows up as a disagreement (see
 * test/ssm-wire-agreement.test.ts) instead of passing every test on both.
 *
 * The layout, offset by offset (all integers big-endian; payload at HeaderLength + 4 = 120):
 *   0 HeaderLength u32 (116) · 4 MessageType 32 ASCII, space padded · 36 SchemaVersion u32 ·
 *   40 CreatedDate u64 ms · 48 SequenceNumber i64 · 56 Flags u64 · 64 MessageId 16 bytes, the UUID's
 *   least-significant half first · 80 SHA-256(payload) 32 bytes · 112 PayloadType u32 ·
 *   116 PayloadLength u32 · 120 payload.
 */
import * as crypto from 'node:crypto';
import { createHash, randomFillSync, randomUUID } from 'node:crypto';

/** Where each header field starts, as the reference's table gives it. */
export const OFFSET = {
  headerLength: 0,
  messageType: 4,
  schemaVersion: 36,
  createdDate: 40,
  sequenceNumber: 48,
  flags: 56,
  messageId: 64,
  digest: 80,
  payloadType: 112,
  payloadLength: 116,
  payload: 120,
} as const;

/** The HeaderLength every writer puts in: the offset of PayloadLength. */
export const WIRE_HEADER_LENGTH = OFFSET.payloadLength;
const TYPE_WIDTH = OFFSET.schemaVersion - OFFSET.messageType;

export const MessageTypes = {
  input: 'input_stream_data',
  output: 'output_stream_data',
  acknowledge: 'acknowledge',
  channelClosed: 'channel_closed',
  startPublication: 'start_publication',
  pausePublication: 'pause_publication',
} as const;

export const PayloadTypes = {
  output: 1,
  handshakeRequest: 5,
  handshakeResponse: 6,
  handshakeComplete: 7,
  flag: 10,
} as const;

/** Values of a Flag (PayloadType 10) payload. */
export const FlagValues = { disconnectToPort: 1, terminateSession: 2, connectToPortError: 3 } as const;

/** Header Flags: SYN (bit 0) on the agent's seq 0, SYN|FIN on acknowledgements, none otherwise. */
export const HeaderFlags = { none: 0n, syn: 1n, ack: 3n } as const;

/** One data-channel message as the emulator sees it. */
export interface WireMessage {
  readonly messageType: string;
  readonly schemaVersion: number;
  /** Epoch milliseconds. */
  readonly createdDate: number;
  readonly sequenceNumber: bigint;
  readonly flags: bigint;
  /** Canonical hyphenated lowercase UUID. */
  readonly messageId: string;
  readonly payloadType: number;
  readonly payload: Buffer;
}

/** A frame a peer must drop without acknowledging it (the sender then retransmits). */
export class WireRejection extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireRejection';
  }
}

/** The 16 bytes of a UUID as they travel: UUID bytes 8-15, then UUID bytes 0-7. */
export function uuidToWire(uuid: string): Buffer {
  const hex = uuid.replaceAll('-', '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new WireRejection(`Expected a UUID for MessageId, got '${uuid}'`);
  return Buffer.from(hex.slice(16) + hex.slice(0, 16), 'hex');
}

/** The UUID whose wire form is `bytes` (16 bytes, least-significant half first). */
export function uuidFromWire(bytes: Buffer): string {
  const hex = bytes.toString('hex'); // UUID bytes 8-15 are hex[0..16], bytes 0-7 are hex[16..32]
  return `${hex.slice(16, 24)}-${hex.slice(24, 28)}-${hex.slice(28, 32)}-${hex.slice(0, 4)}-${hex.slice(4, 16)}`;
}

/** SHA-256 in one call where Node has crypto.hash (≥ 20.12), which spares a Hash object per message. */
export const sha256: (bytes: Buffer) => Buffer =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (bytes) =>
        (crypto as unknown as { hash(a: string, d: Buffer, f: 'buffer'): Buffer }).hash('sha256', bytes, 'buffer')
    : (bytes) => createHash('sha256').update(bytes).digest();

/**
 * Random message ids for the emulator's own messages, written straight into the frame from a pool
 * refilled 256 ids at a time, without a UUID string made and parsed back per message. Version and
 * variant bits are set as in a v4 UUID.
 */
const idPool = Buffer.allocUnsafe(16 * 256);
let idPoolOffset = idPool.length;
function randomIdInto(frame: Buffer, offset: number): void {
  if (idPoolOffset === idPool.length) {
    randomFillSync(idPool);
    idPoolOffset = 0;
  }
  idPool.copy(frame, offset, idPoolOffset, idPoolOffset + 16);
  idPoolOffset += 16;
  // Wire order is UUID bytes 8-15 then 0-7: UUID byte 6 (version) is frame byte 14, byte 8 (variant) frame byte 0.
  frame[offset + 14] = (frame[offset + 14]! & 0x0f) | 0x40;
  frame[offset] = (frame[offset]! & 0x3f) | 0x80;
}

export interface WireMessageFields {
  readonly messageType: string;
  readonly payload?: Buffer;
  /** @default 0 */
  readonly payloadType?: number;
  /** @default 0n */
  readonly sequenceNumber?: bigint;
  /** @default HeaderFlags.none */
  readonly flags?: bigint;
  /** @default a fresh random UUID */
  readonly messageId?: string;
  /** @default now */
  readonly createdDate?: number;
  /** @default 1 */
  readonly schemaVersion?: number;
}

/** One frame: the 120-byte header (space-padded type, swapped UUID, SHA-256 digest) and the payload. */
export function writeWireMessage(fields: WireMessageFields): Buffer {
  const payload = fields.payload ?? Buffer.alloc(0);
  if (fields.messageType.length > TYPE_WIDTH)
    throw new WireRejection(`MessageType '${fields.messageType}' is longer than ${TYPE_WIDTH} characters`);
  const frame = Buffer.allocUnsafe(OFFSET.payload + payload.length); // every header byte is written below
  frame.writeUInt32BE(WIRE_HEADER_LENGTH, OFFSET.headerLength);
  frame.fill(0x20, OFFSET.messageType, OFFSET.schemaVersion); // writers pad with spaces, not NULs
  frame.write(fields.messageType, OFFSET.messageType, 'ascii');
  frame.writeUInt32BE(fields.schemaVersion ?? 1, OFFSET.schemaVersion);
  frame.writeBigUInt64BE(BigInt(fields.createdDate ?? Date.now()), OFFSET.createdDate);
  frame.writeBigInt64BE(fields.sequenceNumber ?? 0n, OFFSET.sequenceNumber);
  frame.writeBigUInt64BE(fields.flags ?? HeaderFlags.none, OFFSET.flags);
  if (fields.messageId === undefined) randomIdInto(frame, OFFSET.messageId);
  else uuidToWire(fields.messageId).copy(frame, OFFSET.messageId);
  sha256(payload).copy(frame, OFFSET.digest);
  frame.writeUInt32BE(fields.payloadType ?? 0, OFFSET.payloadType);
  frame.writeUInt32BE(payload.length, OFFSET.payloadLength);
  payload.copy(frame, OFFSET.payload);
  return frame;
}

function isPadding(byte: number): boolean {
  return byte === 0x20 || byte === 0 || (byte >= 0x09 && byte <= 0x0d);
}

/** The known MessageTypes as bytes, so that a frame's type is matched without decoding it. */
const KNOWN_TYPES = Object.values(MessageTypes).map((type) => ({ type, bytes: Buffer.from(type, 'latin1') }));

/** The MessageType field without the padding around it (spaces or NULs, both seen from writers). */
function readMessageType(frame: Buffer): string {
  let start = OFFSET.messageType;
  let end = OFFSET.schemaVersion;
  while (start < end && isPadding(frame[start]!)) start++;
  while (end > start && isPadding(frame[end - 1]!)) end--;
  for (const known of KNOWN_TYPES) {
    if (known.bytes.length === end - start && frame.compare(known.bytes, 0, known.bytes.length, start, end) === 0)
      return known.type;
  }
  return frame.toString('latin1', start, end);
}

/**
 * Reads one binary frame, checking what the service side can rely on: a header long enough, a
 * HeaderLength that points inside the frame, a MessageType and a CreatedDate (publication messages
 * are exempt), a PayloadLength equal to the bytes that follow, and, for a non-empty payload, its
 * SHA-256. The real agent skips the digest check (§4 allows either); the emulator checks it so that
 * a client writing a wrong digest fails against it rather than passing against a lenient peer.
 */
export function readWireMessage(frame: Buffer): WireMessage {
  if (frame.length < OFFSET.payload)
    throw new WireRejection(`Expected at least ${OFFSET.payload} header bytes, got a ${frame.length}-byte frame`);
  const headerLength = frame.readUInt32BE(OFFSET.headerLength);
  if (headerLength === 0 || headerLength + 4 > frame.length)
    throw new WireRejection(`HeaderLength ${headerLength} does not fit a ${frame.length}-byte frame (expected 116)`);
  const messageType = readMessageType(frame);
  const payload = frame.subarray(headerLength + 4);
  const message: WireMessage = {
    messageType,
    schemaVersion: frame.readUInt32BE(OFFSET.schemaVersion),
    createdDate: Number(frame.readBigUInt64BE(OFFSET.createdDate)),
    sequenceNumber: frame.readBigInt64BE(OFFSET.sequenceNumber),
    flags: frame.readBigUInt64BE(OFFSET.flags),
    messageId: uuidFromWire(frame.subarray(OFFSET.messageId, OFFSET.digest)),
    payloadType: frame.readUInt32BE(OFFSET.payloadType),
    payload,
  };
  if (messageType === MessageTypes.startPublication || messageType === MessageTypes.pausePublication) return message;
  if (messageType === '') throw new WireRejection('Empty MessageType');
  if (message.createdDate === 0) throw new WireRejection(`CreatedDate is 0 on ${messageType}`);
  const declared = frame.readUInt32BE(headerLength);
  if (declared !== payload.length)
    throw new WireRejection(`PayloadLength ${declared} on ${messageType}, but ${payload.length} payload bytes follow`);
  if (declared !== 0 && !sha256(payload).equals(frame.subarray(OFFSET.digest, OFFSET.payloadType)))
    throw new WireRejection(`PayloadDigest on ${messageType} is not the SHA-256 of its payload`);
  return message;
}

/** The JSON body of an acknowledge (reference §5.4). */
export interface AckBody {
  readonly AcknowledgedMessageType: string;
  readonly AcknowledgedMessageId: string;
  readonly AcknowledgedMessageSequenceNumber: number;
  readonly IsSequentialMessage: boolean;
}

/** The acknowledge of one stream message: seq 0, flags 3, PayloadType 0, the JSON body. */
export function writeAck(
  acked: Pick<WireMessage, 'messageType' | 'messageId' | 'sequenceNumber'>,
  fields: Pick<WireMessageFields, 'messageId' | 'createdDate'> = {},
): Buffer {
  const body: AckBody = {
    AcknowledgedMessageType: acked.messageType,
    AcknowledgedMessageId: acked.messageId,
    AcknowledgedMessageSequenceNumber: Number(acked.sequenceNumber),
    IsSequentialMessage: true,
  };
  return writeWireMessage({
    ...fields,
    messageType: MessageTypes.acknowledge,
    flags: HeaderFlags.ack,
    payload: Buffer.from(JSON.stringify(body)),
  });
}

/** channel_closed: seq 0, PayloadType 0, JSON with an ISO-8601 CreatedDate and the Output reason. */
export function writeChannelClosed(sessionId: string, output: string, now = new Date()): Buffer {
  const body = {
    MessageId: randomUUID(),
    CreatedDate: now.toISOString(),
    DestinationId: randomUUID(),
    SessionId: sessionId,
    MessageType: MessageTypes.channelClosed,
    SchemaVersion: 1,
    Output: output,
  };
  return writeWireMessage({
    messageType: MessageTypes.channelClosed,
    createdDate: now.getTime(),
    payload: Buffer.from(JSON.stringify(body)),
  });
}

/** A message's payload as JSON; a rejection (drop, the sender resends) when it is not JSON. */
export function jsonOf<T>(message: WireMessage): T {
  try {
    return JSON.parse(message.payload.toString('utf8')) as T;
  } catch {
    throw new WireRejection(`Expected a JSON payload on ${message.messageType} (PayloadType ${message.payloadType})`);
  }
}

/** A Flag payload: the flag value as a 4-byte big-endian uint32. */
export function flagBytes(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value);
  return bytes;
}

export function flagOf(message: WireMessage): number {
  if (message.payload.length !== 4)
    throw new WireRejection(`Expected a 4-byte Flag payload, got ${message.payload.length} bytes`);
  return message.payload.readUInt32BE(0);
}
