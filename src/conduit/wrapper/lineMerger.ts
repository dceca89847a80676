/**
 * Interleaves extra lines (conduit_metadata) into a child's NDJSON output without ever
 * splitting, changing or dropping one of the child's lines: the child's bytes pass
 * through as they come, and an extra line is written only where the child's output is
 * at a line boundary.
 */
export class LineMerger {
  /** The child has written part of a line that has not ended yet. */
  private midLine = false;
  private readonly waiting: string[] = [];

  constructor(private readonly write: (text: string | Buffer) => void) {}

  pushChild(chunk: Buffer): void {
    if (chunk.length === 0) return;
    const lastNewline = chunk.lastIndexOf(0x0a);
    if (lastNewline < 0) {
      this.write(chunk);
      this.midLine = true;
      return;
    }
    // Up to the chunk's last newline the child's lines are whole: extra lines may follow.
    this.write(lastNewline === chunk.length - 1 ? chunk : chunk.subarray(0, lastNewline + 1));
    this.midLine = false;
    this.flushWaiting();
    if (lastNewline < chunk.length - 1) {
      this.write(chunk.subarray(lastNewline + 1));
      this.midLine = true;
    }
  }

  /** Adds a line (without its newline); written now, or when the child's line ends. */
  pushExtra(line: string): void {
    this.waiting.push(`${line}\n`);
    if (!this.midLine) this.flushWaiting();
  }

  /**
   * The child is done. Its unterminated last line, if any, stays as it was: waiting
   * extra lines go after a newline that ends it (the only byte ever added to it, so
   * that each line of the merged output is whole).
   */
  end(): void {
    if (this.midLine && this.waiting.length) {
      this.write('\n');
      this.midLine = false;
    }
    this.flushWaiting();
  }

  private flushWaiting(): void {
    if (this.waiting.length === 0) return;
    this.write(this.waiting.join(''));
    this.waiting.length = 0;
  }
}
