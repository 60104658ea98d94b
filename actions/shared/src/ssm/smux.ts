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
 */
export class FrameParser {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): SmuxFrame[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: SmuxFrame[] = [];
    while (this.pending.length >= SMUX_HEADER_SIZE) {
      const version = this.pending.readUInt8(0);
      const command = this.pending.readUInt8(1);
      if (version !== SMUX_VERSION) throw new SmuxProtocolError(`smux version ${version}, expected ${SMUX_VERSION}`);
      if (command > SmuxCommand.Nop) throw new SmuxProtocolError(`unknown smux command ${command}`);
      const length = this.pending.readUInt16LE(2);
      if (this.pending.length < SMUX_HEADER_SIZE + length) break;
      frames.push({
        command: command as SmuxCommandValue,
        streamId: this.pending.readUInt32LE(4),
        data: Buffer.from(this.pending.subarray(SMUX_HEADER_SIZE, SMUX_HEADER_SIZE + length)),
      });
      this.pending = this.pending.subarray(SMUX_HEADER_SIZE + length);
    }
    return frames;
  }

  get buffered(): number {
    return this.pending.length;
  }
}
