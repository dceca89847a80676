import type { ByteRange } from './requestScan';

/** Ranges per block: 64 KB blocks, which the allocator hands out again from freed memory. */
const RANGES_PER_BLOCK = 8192;

/**
 * Byte ranges in fixed blocks of an Int32Array each: no object per range, since a long
 * session's request lists every message of the conversation (and a body may list 200,000
 * tiny ones). Blocks, not one array grown by doubling: growing copied the ranges again and
 * again into fresh memory, and those copies and first touches were the largest single
 * item in the profile of a scan of 200k tiny messages. A range becomes a ByteRange only
 * when it is read.
 */
export class RangeList {
  private readonly blocks: Int32Array[] = [];
  /** How many ranges there are. */
  length = 0;

  push(start: number, end: number): void {
    const slot = this.length % RANGES_PER_BLOCK;
    const index = (this.length - slot) / RANGES_PER_BLOCK;
    if (index === this.blocks.length) this.blocks.push(new Int32Array(2 * RANGES_PER_BLOCK));
    const block = this.blocks[index];
    block[2 * slot] = start;
    block[2 * slot + 1] = end;
    this.length++;
  }

  clear(): void {
    this.length = 0;
  }

  /** The range at `index` (0 ≤ index < length). */
  at(index: number): ByteRange {
    const slot = index % RANGES_PER_BLOCK;
    const block = this.blocks[(index - slot) / RANGES_PER_BLOCK];
    return [block[2 * slot], block[2 * slot + 1]];
  }

  last(): ByteRange | null {
    return this.length > 0 ? this.at(this.length - 1) : null;
  }
}
