/** IPv4 CIDR containment, for security group rules against subnet ranges. */

function parse(cidr: string): { base: number; bits: number } | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr.trim());
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const bits = Number(match[5]);
  if (octets.some((o) => o > 255) || bits > 32) return undefined;
  return { base: octets.reduce((acc, o) => acc * 256 + o, 0), bits };
}

/** Whether every address of `inner` is in `outer` (false when either is not an IPv4 CIDR). */
export function cidrContains(outer: string, inner: string): boolean {
  const a = parse(outer);
  const b = parse(inner);
  if (!a || !b || b.bits < a.bits) return false;
  const size = 2 ** (32 - a.bits);
  return Math.floor(a.base / size) === Math.floor(b.base / size);
}
