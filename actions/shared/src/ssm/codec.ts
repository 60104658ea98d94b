/**
 * The Session Manager data-channel message ("ClientMessage"): a 120-byte big-endian header and a
 * payload. Layout, padding, the swapped UUID halves and the SHA-256 digest follow the protocol
 * reference (shared/reference/ssm-port-forwarding.md §4); golden bytes are in the tests.
 */
import * as crypto from 'node:crypto';
import { createHash, randomFillSync } from 'node:crypto';

export const HEADER_LENGTH = 116;
export const PAYLOAD_OFFSET = HEADER_LENGTH + 4;

export const MessageType = {
  InputStreamData: 'input_stream_data',
  OutputStreamData: 'output_stream_data',
  Acknowledge: 'acknowledge',
  ChannelClosed: 'channel_closed',
  StartPublication: 'start_publication',
  PausePublication: 'pause_publication',
} as const;

export const PayloadType = {
  Output: 1,
  Error: 2,
  Size: 3,
  Parameter: 4,
  HandshakeRequest: 5,
  HandshakeResponse: 6,
  HandshakeComplete: 7,
  EncChallengeRequest: 8,
  EncChallengeResponse: 9,
  Flag: 10,
  StdErr: 11,
  ExitCode: 12,
} as const;

export const Flag = {
  DisconnectToPort: 1,
  TerminateSession: 2,
  ConnectToPortError: 3,
} as const;

/** Header flags: SYN on a stream's first message, and what acknowledgements carry. */
export const HeaderFlag = { None: 0n, Syn: 1n, Ack: 3n } as const;

export interface ClientMessage {
  readonly messageType: string;
  readonly schemaVersion: number;
  readonly createdDate: number;
  readonly sequenceNumber: bigint;
  readonly flags: bigint;
  readonly messageId: string;
  readonly payloadType: number;
  readonly payload: Buffer;
}

export class MessageFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MessageFormatError';
  }
}

/** Writes a UUID with its halves swapped: bytes 0-7 ← UUID bytes 8-15, bytes 8-15 ← UUID bytes 0-7. */
export function writeSwappedUuid(uuid: string, target: Buffer, offset: number): void {
  const bytes = Buffer.from(uuid.replace(/-/g, ''), 'hex');
  if (bytes.length !== 16) throw new MessageFormatError(`Not a UUID: ${uuid}`);
  bytes.copy(target, offset, 8, 16);
  bytes.copy(target, offset + 8, 0, 8);
}

/**
 * Random bytes for message ids, drawn from a pool refilled 256 ids at a time: one randomFillSync
 * call per message (one per acknowledgement, too) was 8% of a download's CPU.
 */
const randomPool = Buffer.allocUnsafe(16 * 256);
let randomPoolOffset = randomPool.length;

/** Writes a random version-4 UUID with swapped halves (bytes 6 and 8 carry the version and variant). */
function randomUuidInto(target: Buffer, offset: number): void {
  if (randomPoolOffset === randomPool.length) {
    randomFillSync(randomPool);
    randomPoolOffset = 0;
  }
  randomPool.copy(target, offset, randomPoolOffset, randomPoolOffset + 16);
  randomPoolOffset += 16;
  // Swapped layout: UUID bytes 8-15 come first, so UUID byte 8 is at offset, byte 6 at offset + 14.
  target[offset + 14] = (target[offset + 14]! & 0x0f) | 0x40;
  target[offset] = (target[offset]! & 0x3f) | 0x80;
}

export function readSwappedUuid(source: Buffer, offset: number): string {
  const low = source.toString('hex', offset + 8, offset + 16);
  const high = source.toString('hex', offset, offset + 8);
  return `${low.slice(0, 8)}-${low.slice(8, 12)}-${low.slice(12)}-${high.slice(0, 4)}-${high.slice(4)}`;
}

/** SHA-256 in one call where Node has crypto.hash (20.12+, 21.7+): no Hash object per message. */
const sha256: (data: Buffer) => Buffer =
  typeof crypto.hash === 'function'
    ? (data) => crypto.hash('sha256', data, 'buffer')
    : (data) => createHash('sha256').update(data).digest();

const EMPTY = Buffer.alloc(0);

/** Bytes 0-35 (header length and the space-padded type) for each message type seen. */
const headerStarts = new Map<string, Buffer>();

function headerStart(messageType: string): Buffer {
  let start = headerStarts.get(messageType);
  if (!start) {
    if (messageType.length > 32) throw new MessageFormatError(`Message type too long: ${messageType}`);
    start = Buffer.alloc(36);
    start.writeUInt32BE(HEADER_LENGTH, 0);
    start.write(messageType.padEnd(32, ' '), 4, 32, 'ascii');
    if (headerStarts.size < 64) headerStarts.set(messageType, start);
  }
  return start;
}

/** CreatedDate as two 32-bit halves: no BigInt per message. */
function writeDate(buffer: Buffer, milliseconds: number): void {
  buffer.writeUInt32BE(Math.floor(milliseconds / 0x1_0000_0000), 40);
  buffer.writeUInt32BE(milliseconds % 0x1_0000_0000, 44);
}

/**
 * Allocates a frame for a payload of `payloadLength` bytes and writes every header field but the
 * digest and payload (each byte of the header is written: the buffer is not zero-filled).
 */
function frameWithHeader(
  message: Partial<ClientMessage> & Pick<ClientMessage, 'messageType'>,
  payloadLength: number,
): Buffer {
  const buffer = Buffer.allocUnsafe(PAYLOAD_OFFSET + payloadLength);
  headerStart(message.messageType).copy(buffer, 0);
  buffer.writeUInt32BE(message.schemaVersion ?? 1, 36);
  writeDate(buffer, message.createdDate ?? Date.now());
  buffer.writeBigInt64BE(message.sequenceNumber ?? 0n, 48);
  buffer.writeBigUInt64BE(message.flags ?? HeaderFlag.None, 56);
  if (message.messageId) writeSwappedUuid(message.messageId, buffer, 64);
  else randomUuidInto(buffer, 64); // a fresh v4 UUID, written swapped without a string round trip
  buffer.writeUInt32BE(message.payloadType ?? 0, 112);
  buffer.writeUInt32BE(payloadLength, 116);
  return buffer;
}

/** One Buffer per message: the header, then the payload copied once; the digest hashes it in place. */
export function encodeMessage(message: Partial<ClientMessage> & Pick<ClientMessage, 'messageType'>): Buffer {
  const payload = message.payload ?? EMPTY;
  const buffer = frameWithHeader(message, payload.length);
  payload.copy(buffer, PAYLOAD_OFFSET);
  sha256(payload).copy(buffer, 80);
  return buffer;
}

/** Message types as written (32 bytes, padded) to their trimmed form: a handful of distinct values. */
const typeNames = new Map<string, string>();

function readMessageType(frame: Buffer): string {
  const raw = frame.toString('latin1', 4, 36);
  let name = typeNames.get(raw);
  if (name === undefined) {
    name = raw.replace(/^[\s\0]+|[\s\0]+$/g, '');
    if (typeNames.size < 64) typeNames.set(raw, name);
  }
  return name;
}

/**
 * Decodes one binary frame. Throws MessageFormatError for a frame a peer must drop (short header,
 * empty type, zero date, or a payload whose SHA-256 does not match the digest): the sender then
 * retransmits, as with the official plugin.
 */
export function decodeMessage(frame: Buffer): ClientMessage {
  if (frame.length < PAYLOAD_OFFSET)
    throw new MessageFormatError(`Frame of ${frame.length} bytes is shorter than the header`);
  const headerLength = frame.readUInt32BE(0);
  if (headerLength === 0 || headerLength + 4 > frame.length)
    throw new MessageFormatError(`Bad header length ${headerLength}`);
  const messageType = readMessageType(frame);
  const payload = frame.subarray(headerLength + 4);
  const message: ClientMessage = {
    messageType,
    schemaVersion: frame.readUInt32BE(36),
    createdDate: frame.readUInt32BE(40) * 0x1_0000_0000 + frame.readUInt32BE(44),
    sequenceNumber: frame.readBigInt64BE(48),
    flags: frame.readBigUInt64BE(56),
    messageId: readSwappedUuid(frame, 64),
    payloadType: frame.readUInt32BE(112),
    payload,
  };
  if (messageType === MessageType.StartPublication || messageType === MessageType.PausePublication) return message;
  if (messageType === '') throw new MessageFormatError('Empty message type');
  if (message.createdDate === 0) throw new MessageFormatError('Zero CreatedDate');
  const declaredLength = frame.readUInt32BE(116);
  // The plugin verifies every digest (§4) and so do we: the agent does not, so this is the only
  // check a corrupted or truncated payload meets before it reaches a local socket.
  if (declaredLength !== 0 && sha256(payload).compare(frame, 80, 112) !== 0)
    throw new MessageFormatError(`Payload digest mismatch on ${messageType}`);
  return message;
}

/**
 * The acknowledgement of one stream message (seq 0, flags 3, JSON body), written straight into its
 * frame: one allocation, and the digest of the body as written.
 */
export function encodeAcknowledge(acked: Pick<ClientMessage, 'messageType' | 'messageId' | 'sequenceNumber'>): Buffer {
  // The same text JSON.stringify gives for these four fields, without building an object per ack;
  // the type and id come off the wire, so they are escaped as JSON strings.
  const body =
    `{"AcknowledgedMessageType":${JSON.stringify(acked.messageType)},` +
    `"AcknowledgedMessageId":${JSON.stringify(acked.messageId)},` +
    `"AcknowledgedMessageSequenceNumber":${Number(acked.sequenceNumber)},"IsSequentialMessage":true}`;
  const length = Buffer.byteLength(body);
  const buffer = frameWithHeader({ messageType: MessageType.Acknowledge, flags: HeaderFlag.Ack }, length);
  buffer.write(body, PAYLOAD_OFFSET, length, 'utf8');
  sha256(buffer.subarray(PAYLOAD_OFFSET)).copy(buffer, 80);
  return buffer;
}

export interface AcknowledgeContent {
  readonly AcknowledgedMessageType: string;
  readonly AcknowledgedMessageId: string;
  readonly AcknowledgedMessageSequenceNumber: number;
  readonly IsSequentialMessage: boolean;
}

export function parseJsonPayload<T>(message: ClientMessage): T {
  try {
    return JSON.parse(message.payload.toString('utf8')) as T;
  } catch {
    throw new MessageFormatError(`${message.messageType} payload is not JSON`);
  }
}

export function flagPayload(flag: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(flag, 0);
  return payload;
}

export function readFlag(message: ClientMessage): number {
  if (message.payload.length < 4) throw new MessageFormatError('Flag payload shorter than 4 bytes');
  return message.payload.readUInt32BE(0);
}

/** The four-part numeric version compare the plugin uses: positive when a > b; NaN when unparsable. */
export function compareVersions(a: string, b: string): number {
  const parse = (version: string): number[] | undefined => {
    const parts = version.split('.');
    return parts.every((part) => /^\d+$/.test(part)) ? parts.map(Number) : undefined;
  };
  const left = parse(a);
  const right = parse(b);
  if (!left || !right) return NaN;
  const length = Math.max(left.length, right.length);
  for (let i = 0; i < length; i++) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}
