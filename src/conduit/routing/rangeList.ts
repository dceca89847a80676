import type { ByteRange } from './requestScan';

/**
 * Ranges in the first block, and in each further one. The first is small: most lists
 * (a short request's messages, a message's content blocks) hold a few ranges, and the
 * gateway makes two or three lists per request; a 64 KB block for each, zeroed, cost
 * more than the whole scan of a 4 KB request. Further blocks are of 64 KB, which the
 * allocator hands out again from freed memory.
 */
const FIRST_BLOCK = 32;
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
  // Made on the first push: a content block's outline lists nothing, and each typed array
  // is an allocation outside the JS heap.
  private first: Int32Array | null = null;
  private readonly blocks: Int32Array<ArrayBuffer>[] = [];
  /** How many ranges there are. */
  length = 0;
  // Where the next range goes: the block being filled, its next slot, and the slots left in
  // it (a push is two stores and three counters: no division, no lookup of its block).
  private filling: Int32Array | null = null;
  private at2 = 0;
  private left = 0;

  push(start: number, end: number): void {
    if (this.left === 0) this.nextBlock();
    const k = this.at2;
    const block = this.filling!;
    block[k] = start;
    block[k + 1] = end;
    this.at2 = k + 2;
    this.left--;
    this.length++;
  }

  /** Moves on to the next block: the first, or a 64 KB one (kept from before a clear, or new). */
  private nextBlock(): void {
    if (this.length === 0) {
      this.filling = this.first ??= new Int32Array(2 * FIRST_BLOCK);
      this.at2 = 0;
      this.left = FIRST_BLOCK;
      return;
    }
    const index = (this.length - FIRST_BLOCK) / RANGES_PER_BLOCK;
    if (index === this.blocks.length) this.blocks.push(new Int32Array(2 * RANGES_PER_BLOCK));
    this.filling = this.blocks[index];
    this.at2 = 0;
    this.left = RANGES_PER_BLOCK;
  }

  clear(): void {
    this.length = 0;
    this.left = 0; // the next push starts at the first block again
  }

  /** The range at `index` (0 ≤ index < length). */
  at(index: number): ByteRange {
    if (index < FIRST_BLOCK) return [this.first![2 * index], this.first![2 * index + 1]];
    const slot = (index - FIRST_BLOCK) % RANGES_PER_BLOCK;
    const block = this.blocks[(index - FIRST_BLOCK - slot) / RANGES_PER_BLOCK];
    return [block[2 * slot], block[2 * slot + 1]];
  }

  last(): ByteRange | null {
    return this.length > 0 ? this.at(this.length - 1) : null;
  }
}
