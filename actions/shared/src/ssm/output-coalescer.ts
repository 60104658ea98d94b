/**
 * Packs the forwarded byte stream into as few data-channel messages as it can: full messages of
 * `maxPayload` bytes leave at once, and what is left waits until the current callback is done, so
 * that the small writes of one local read (an smux SYN and the request behind it) travel in one
 * message. Each message costs a digest, a header and an acknowledgement on both sides; an HTTP
 * request used to take two messages where it now takes one. A write never waits for I/O: the
 * transport then sends the messages of the whole turn of the event loop in one socket write.
 */
export class OutputCoalescer {
  private readonly chunks: Buffer[] = [];
  private pending = 0;
  private scheduled = false;

  constructor(
    private readonly send: (payload: Buffer) => void,
    private readonly maxPayload: number,
  ) {}

  /** Bytes written and not sent yet. */
  get buffered(): number {
    return this.pending;
  }

  write(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes);
    this.pending += bytes.length;
    while (this.pending >= this.maxPayload) this.send(this.take(this.maxPayload));
    if (this.pending > 0 && !this.scheduled) {
      this.scheduled = true;
      process.nextTick(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  /** Sends what waits now: before any other message, so that nothing overtakes the stream's bytes. */
  flush(): void {
    if (this.pending > 0) this.send(this.take(this.pending));
  }

  /** Forgets what waits (the session ended). */
  clear(): void {
    this.chunks.length = 0;
    this.pending = 0;
  }

  /** The next `length` bytes: a view when the first chunk holds them, else one copy. */
  private take(length: number): Buffer {
    this.pending -= length;
    const first = this.chunks[0]!;
    if (first.length === length) {
      this.chunks.shift();
      return first;
    }
    if (first.length > length) {
      this.chunks[0] = first.subarray(length);
      return first.subarray(0, length);
    }
    const out = Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
      const chunk = this.chunks[0]!;
      const count = Math.min(chunk.length, length - filled);
      chunk.copy(out, filled, 0, count);
      filled += count;
      if (count === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(count);
    }
    return out;
  }
}
