import type { ByteRange } from './requestScan';

/**
 * Byte ranges in one growing Int32Array: no object per range, since a long session's
 * request lists every message of the conversation (and a body may list 200,000 tiny ones).
 * A range becomes a ByteRange only when it is read.
 */
export class RangeList {
  private bounds = new Int32Array(256);
  /** How many ranges there are. */
  length = 0;

  push(start: number, end: number): void {
    if (2 * this.length + 2 > this.bounds.length) {
      const grown = new Int32Array(this.bounds.length * 2);
      grown.set(this.bounds);
      this.bounds = grown;
    }
    this.bounds[2 * this.length] = start;
    this.bounds[2 * this.length + 1] = end;
    this.length++;
  }

  clear(): void {
    this.length = 0;
  }

  /** The range at `index` (0 ≤ index < length). */
  at(index: number): ByteRange {
    return [this.bounds[2 * index], this.bounds[2 * index + 1]];
  }

  last(): ByteRange | null {
    return this.length > 0 ? this.at(this.length - 1) : null;
  }
}
