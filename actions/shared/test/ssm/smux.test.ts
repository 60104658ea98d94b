import { FrameParser, SmuxCommand, SmuxProtocolError, encodeData, encodeFrame } from '../../src/ssm/smux.js';

describe('smux v1 frames against the observed plugin bytes', () => {
  it.each([
    ['SYN for stream 3', encodeFrame(SmuxCommand.Syn, 3), '0100000003000000'],
    ['PSH "ping"', encodeFrame(SmuxCommand.Psh, 3, Buffer.from('ping')), '010204000300000070696e67'],
    ['NOP', encodeFrame(SmuxCommand.Nop, 0), '0103000000000000'],
    ['FIN', encodeFrame(SmuxCommand.Fin, 3), '0101000003000000'],
  ])('%s', (_name, frame, hex) => {
    expect(frame.toString('hex')).toBe(hex);
  });
});

describe('FrameParser', () => {
  it('reassembles frames cut at every possible point', () => {
    const stream = Buffer.concat([
      encodeFrame(SmuxCommand.Syn, 3),
      encodeFrame(SmuxCommand.Psh, 3, Buffer.from('hello world')),
      encodeFrame(SmuxCommand.Fin, 3),
    ]);
    for (let cut = 1; cut < stream.length; cut++) {
      const parser = new FrameParser();
      const frames = [...parser.push(stream.subarray(0, cut)), ...parser.push(stream.subarray(cut))];
      expect(frames.map((f) => [f.command, f.streamId, f.data.toString()])).toEqual([
        [0, 3, ''],
        [2, 3, 'hello world'],
        [1, 3, ''],
      ]);
      expect(parser.buffered).toBe(0);
    }
  });

  it('reassembles large frames spread over many 1024-byte messages and odd-sized chunks, byte for byte', () => {
    const data = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7919) % 251));
    const stream = Buffer.concat([
      encodeFrame(SmuxCommand.Syn, 3),
      ...encodeData(3, data),
      encodeFrame(SmuxCommand.Nop, 0),
      encodeFrame(SmuxCommand.Fin, 3),
    ]);
    for (const sizes of [[1024], [1, 7, 1024, 3, 40_000, 9]]) {
      const parser = new FrameParser();
      const frames = [];
      for (let offset = 0, i = 0; offset < stream.length; offset += sizes[i++ % sizes.length]!) {
        frames.push(...parser.push(stream.subarray(offset, offset + sizes[i % sizes.length]!)));
      }
      expect(frames.map((f) => f.command)).toEqual([0, 2, 2, 2, 2, 3, 1]);
      const received = Buffer.concat(frames.filter((f) => f.command === SmuxCommand.Psh).map((f) => f.data));
      expect(received.equals(data)).toBe(true);
      expect(parser.buffered).toBe(0);
    }
  });

  it('splits data into PSH frames of at most the frame size', () => {
    const frames = encodeData(5, Buffer.alloc(70_000, 1));
    expect(frames.map((frame) => frame.readUInt16LE(2))).toEqual([32768, 32768, 4464]);
    expect(frames.every((frame) => frame.readUInt32LE(4) === 5)).toBe(true);
  });

  it('fails on another version or an unknown command', () => {
    expect(() => new FrameParser().push(Buffer.from('0200000003000000', 'hex'))).toThrow(SmuxProtocolError);
    expect(() => new FrameParser().push(Buffer.from('0104000003000000', 'hex'))).toThrow(/unknown smux command 4/);
  });
});
