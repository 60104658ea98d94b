/**
 * The emulator's own smux v1 framing (xtaci/smux, the agent's `smux.Server`), written from the
 * protocol reference §8.3 and not shared with the client's smux module, so that the two can
 * disagree when one is wrong. Frame: ver (1) · cmd · length (uint16 LE) · stream id (uint32 LE) ·
 * data. Little-endian, unlike the data-channel header.
 */

export const SMUX_V1 = 1;
export const Cmd = { syn: 0, fin: 1, psh: 2, nop: 3 } as const;
export type CmdValue = (typeof Cmd)[keyof typeof Cmd];
const HEADER = 8;
/** smux's DefaultConfig MaxFrameSize: the largest PSH the agent sends. */
export const MAX_PSH = 32768;

export interface SmuxWireFrame {
  readonly cmd: CmdValue;
  readonly sid: number;
  readonly data: Buffer;
}

export function smuxFrame(cmd: CmdValue, sid: number, data: Buffer = Buffer.alloc(0)): Buffer {
  if (data.length > 0xffff) throw new RangeError(`smux length field is 16 bits; got ${data.length} bytes of data`);
  const header = Buffer.alloc(HEADER);
  header[0] = SMUX_V1;
  header[1] = cmd;
  header.writeUInt16LE(data.length, 2);
  header.writeUInt32LE(sid, 4);
  return data.length === 0 ? header : Buffer.concat([header, data]);
}

/** `data` as PSH frames of at most MAX_PSH bytes. */
export function smuxPush(sid: number, data: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  for (let at = 0; at < data.length; at += MAX_PSH)
    frames.push(smuxFrame(Cmd.psh, sid, data.subarray(at, at + MAX_PSH)));
  return frames;
}

/**
 * Cuts frames out of the Output byte stream, which arrives in pieces of at most 1024 bytes with
 * no regard to frame boundaries. A version other than 1 or an unknown command is a protocol error:
 * smux ends the session.
 */
export class SmuxReader {
  private chunks: Buffer[] = [];
  private size = 0;

  feed(bytes: Buffer): SmuxWireFrame[] {
    this.chunks.push(bytes);
    this.size += bytes.length;
    const frames: SmuxWireFrame[] = [];
    let buffer = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
    let at = 0;
    while (buffer.length - at >= HEADER) {
      const version = buffer[at]!;
      const cmd = buffer[at + 1]!;
      if (version !== SMUX_V1) throw new Error(`smux frame version ${version}, expected ${SMUX_V1}`);
      if (cmd > Cmd.nop) throw new Error(`smux command ${cmd} is not SYN, FIN, PSH or NOP`);
      const length = buffer.readUInt16LE(at + 2);
      if (buffer.length - at < HEADER + length) break;
      frames.push({
        cmd: cmd as CmdValue,
        sid: buffer.readUInt32LE(at + 4),
        data: Buffer.from(buffer.subarray(at + HEADER, at + HEADER + length)),
      });
      at += HEADER + length;
    }
    buffer = buffer.subarray(at);
    this.chunks = buffer.length ? [buffer] : [];
    this.size = buffer.length;
    return frames;
  }
}
