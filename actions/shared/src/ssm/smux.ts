/**
 * smux protocol version 1 (xtaci/smux), the multiplexing the SSM agent runs over the Output byte
 * stream of a port session: 8-byte little-endian frame headers (ver, cmd, length, stream id).
 */

export const SMUX_VERSION = 1;
export const SmuxCommand = { Syn: 0, Fin: 1, Psh: 2, Nop: 3 } as const;
export type SmuxCommandValue = (typeof SmuxCommand)[keyof typeof SmuxCommand];
export const SMUX_HEADER_SIZE = 8;
/** smux's default MaxFrameSize: the largest PSH payload. */
export const SMUX_MAX_FRAME = 32768;
/** Client stream ids are odd and start at 3 (nextStreamID = 1, += 2 before use). */
export const FIRST_CLIENT_STREAM_ID = 3;

export interface SmuxFrame {
  readonly command: SmuxCommandValue;
  readonly streamId: number;
  readonly data: Buffer;
}

export class SmuxProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SmuxProtocolError';
  }
}

export function encodeFrame(command: SmuxCommandValue, streamId: number, data: Buffer = Buffer.alloc(0)): Buffer {
  if (data.length > 0xffff) throw new SmuxProtocolError(`smux frame payload of ${data.length} bytes exceeds 65535`);
  const frame = Buffer.alloc(SMUX_HEADER_SIZE + data.length);
  frame.writeUInt8(SMUX_VERSION, 0);
  frame.writeUInt8(command, 1);
  frame.writeUInt16LE(data.length, 2);
  frame.writeUInt32LE(streamId, 4);
  data.copy(frame, SMUX_HEADER_SIZE);
  return frame;
}

/** PSH frames for `data`, each at most `maxFrame` bytes. */
export function encodeData(streamId: number, data: Buffer, maxFrame = SMUX_MAX_FRAME): Buffer[] {
  const frames: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += maxFrame) {
    frames.push(encodeFrame(SmuxCommand.Psh, streamId, data.subarray(offset, offset + maxFrame)));
  }
  return frames;
}

/**
 * Reassembles frames from a byte stream cut at arbitrary points (data-channel messages carry at
 * most 1024 bytes each). A bad version or command is a protocol error that ends the session.
 *
 * Chunks are kept in a list and each frame's data is copied once when it is complete: a 32 KiB PSH
 * frame arrives in 32 messages, and joining the buffer on every push copied it ~16 times over. A
 * frame that lies inside one chunk is handed out as a view of it, without a copy.
 */
export class FrameParser {
  private chunks: Buffer[] = [];
  /** Bytes of chunks[0] already consumed. */
  private offset = 0;
  private total = 0;
  private readonly header = Buffer.alloc(SMUX_HEADER_SIZE);

  push(chunk: Buffer): SmuxFrame[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.total += chunk.length;
    }
    const frames: SmuxFrame[] = [];
    while (this.total >= SMUX_HEADER_SIZE) {
      const header = this.peek(SMUX_HEADER_SIZE);
      const version = header.readUInt8(0);
      const command = header.readUInt8(1);
      if (version !== SMUX_VERSION) throw new SmuxProtocolError(`smux version ${version}, expected ${SMUX_VERSION}`);
      if (command > SmuxCommand.Nop) throw new SmuxProtocolError(`unknown smux command ${command}`);
      const length = header.readUInt16LE(2);
      if (this.total < SMUX_HEADER_SIZE + length) break;
      const streamId = header.readUInt32LE(4);
      this.skip(SMUX_HEADER_SIZE);
      frames.push({ command: command as SmuxCommandValue, streamId, data: this.take(length) });
    }
    return frames;
  }

  get buffered(): number {
    return this.total;
  }

  /** The next `length` bytes without consuming them (a view when they lie in one chunk). */
  private peek(length: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length - this.offset >= length) return first.subarray(this.offset, this.offset + length);
    this.copyOut(this.header, length, false);
    return this.header;
  }

  private skip(length: number): void {
    this.copyOut(undefined, length, true);
  }

  /** Consumes `length` bytes: a view of one chunk when possible, else one copy. */
  private take(length: number): Buffer {
    if (length === 0) return Buffer.alloc(0);
    const first = this.chunks[0]!;
    if (first.length - this.offset >= length) {
      const view = first.subarray(this.offset, this.offset + length);
      this.advance(length);
      return view;
    }
    const data = Buffer.allocUnsafe(length);
    this.copyOut(data, length, true);
    return data;
  }

  /** Copies the next `length` bytes into target (when given), consuming them when `consume`. */
  private copyOut(target: Buffer | undefined, length: number, consume: boolean): void {
    let copied = 0;
    let index = 0;
    let offset = this.offset;
    while (copied < length) {
      const chunk = this.chunks[index]!;
      const count = Math.min(chunk.length - offset, length - copied);
      target?.set(chunk.subarray(offset, offset + count), copied);
      copied += count;
      offset += count;
      if (offset === chunk.length) {
        index++;
        offset = 0;
      }
    }
    if (consume) {
      this.chunks.splice(0, index);
      this.offset = offset;
      this.total -= length;
    }
  }

  private advance(length: number): void {
    this.offset += length;
    this.total -= length;
    if (this.offset === this.chunks[0]!.length) {
      this.chunks.shift();
      this.offset = 0;
    }
  }
}
