/**
 * Golden bytes from the protocol reference (shared/reference/ssm-port-forwarding.md), shared by the
 * emulator's wire test and the client/emulator agreement test. Data only: nothing here encodes.
 */

/** Lower-case hex of a buffer, for readable comparisons. */
export function hex(bytes: Buffer): string {
  return bytes.toString('hex');
}

const fromDump = (lines: readonly string[]): Buffer => Buffer.from(lines.join('').replaceAll(' ', ''), 'hex');

/** The MessageId of the observed HandshakeResponse (dump bytes 72-79, then 64-71). */
export const GOLDEN_MESSAGE_ID = 'bc8d59d7-8763-4638-9ede-3ee9f52ccd40';

/**
 * The HandshakeResponse the official plugin sent (§4, [observed]), all 265 bytes. The reference
 * prints the 120-byte header and elides the 145-byte payload; the payload below is the §5.4
 * HandshakeResponse with ClientVersion "1.2.0.0" (a source build), and its SHA-256 is exactly the
 * digest the dump shows (bytes 80-111), which is what pins it down.
 */
export const GOLDEN_HANDSHAKE_RESPONSE = Buffer.concat([
  fromDump([
    '00 00 00 74 69 6e 70 75 74 5f 73 74 72 65 61 6d',
    '5f 64 61 74 61 20 20 20 20 20 20 20 20 20 20 20',
    '20 20 20 20 00 00 00 01 00 00 01 a2 23 c8 f7 c4',
    '00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00',
    '9e de 3e e9 f5 2c cd 40 bc 8d 59 d7 87 63 46 38',
    '20 04 d0 4a d8 20 9c 74 50 2b e0 48 3e 13 7a 24',
    '91 99 ff 82 58 76 6d fd 64 64 4e c0 6d db f6 6a',
    '00 00 00 06 00 00 00 91',
  ]),
  Buffer.from(
    '{"ClientVersion":"1.2.0.0","ProcessedClientActions":[{"ActionType":"SessionType","ActionStatus":1,' +
      '"ActionResult":null,"Error":""}],"Errors":null}',
  ),
]);

/** smux v1 frames the plugin sent (§8.3, [observed]), as hex. */
export const GOLDEN_SMUX = {
  syn: '0100000003000000',
  pshPing: '010204000300000070696e67',
  nop: '0103000000000000',
  fin: '0101000003000000',
} as const;
