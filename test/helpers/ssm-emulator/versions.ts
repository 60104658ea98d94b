/**
 * The agent's version comparisons (reference §8.1): dotted numeric versions compared part by part,
 * a missing part counting as 0. An unparsable version compares as NaN, so every ordered test on it
 * (`> 0`, `>= 0`, `<= 0`) is false.
 */
export function versionCompare(a: string, b: string): number {
  const parts = (version: string): number[] | undefined =>
    /^\d+(\.\d+)*$/.test(version) ? version.split('.').map(Number) : undefined;
  const left = parts(a);
  const right = parts(b);
  if (!left || !right) return NaN;
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}
