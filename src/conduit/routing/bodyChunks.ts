/**
 * A request body as the socket delivered it: a list of chunks, never concatenated.
 *
 * Why: on this kind of machine (a VM that hands memory back to its host) every fresh
 * megabyte costs about 3 ms of page faults, and a 2 MB body used to be copied twice into
 * fresh memory (joined when read, joined again when its model was replaced): more than
 * the whole pass-through proxy costs. The chunks are kept as read; the scan reads them
 * through one reused contiguous copy (withContiguous), and the body goes upstream as the
 * same chunks with the model's bytes spliced in (splice), so no byte is copied into new
 * memory on the way.
 */

export type BodyChunks = readonly Buffer[];

/** The total length of the chunks. */
export function bodyLength(chunks: BodyChunks): number {
  let n = 0;
  for (const c of chunks) n += c.length;
  return n;
}

/**
 * The chunks with bytes [start, end) replaced by `replacement`; the others are the same
 * memory (subarrays), not copies.
 */
export function splice(chunks: BodyChunks, start: number, end: number, replacement: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  let placed = false;
  for (const c of chunks) {
    const cEnd = at + c.length;
    if (cEnd <= start) out.push(c);
    else if (at >= end) {
      if (!placed) out.push(replacement);
      placed = true;
      out.push(c);
    } else {
      if (at < start) out.push(c.subarray(0, start - at));
      if (!placed) out.push(replacement);
      placed = true;
      if (cEnd > end) out.push(c.subarray(end - at));
    }
    at = cEnd;
  }
  if (!placed) out.push(replacement);
  return out;
}

// One contiguous copy, reused by every scan: scans are synchronous, so no two use it at
// once. It is dropped after a while without use, so that a large body leaves no lasting
// footprint; bodies over SCRATCH_MAX are copied into memory of their own.
const SCRATCH_MAX = 16 * 1024 * 1024;
const SCRATCH_IDLE_MS = 30_000;
let scratch: Buffer | null = null;
let scratchUsed = 0;
let scratchTimer: NodeJS.Timeout | null = null;
let scratchBusy = false;
/**
 * The chunks whose bytes the scratch buffer holds: the latest prompt is read through the
 * same view as the request's scan just before it, and copying megabytes again cost as
 * much as a fifth of that scan (chunks are never written to once read).
 */
let scratchHolds: BodyChunks | null = null;

/**
 * Calls `use` with the chunks' bytes as one Buffer: the only chunk itself, or a copy in
 * the reused scratch buffer. The view is valid only during the call: nothing of it may
 * be kept (strings and numbers read from it are copies; byte offsets stay valid for the
 * chunks).
 */
export function withContiguous<T>(chunks: BodyChunks, use: (view: Buffer) => T): T {
  if (chunks.length === 1) return use(chunks[0]);
  const length = bodyLength(chunks);
  if (scratchBusy || length > SCRATCH_MAX) return use(copyInto(Buffer.allocUnsafeSlow(length), chunks));
  if (!scratch || scratch.length < length) {
    scratch = Buffer.allocUnsafeSlow(Math.min(SCRATCH_MAX, Math.max(length, 2 * (scratch?.length ?? 0), 256 * 1024)));
    scratchHolds = null;
  }
  scratchUsed = Date.now();
  if (!scratchTimer) scratchTimer = setTimeout(dropIdleScratch, SCRATCH_IDLE_MS).unref();
  scratchBusy = true;
  try {
    if (scratchHolds !== chunks) {
      scratchHolds = null; // (a copy that throws leaves it unknown)
      copyInto(scratch, chunks);
      scratchHolds = chunks;
    }
    return use(scratch.subarray(0, length));
  } finally {
    scratchBusy = false;
  }
}

function copyInto(target: Buffer, chunks: BodyChunks): Buffer {
  let at = 0;
  for (const c of chunks) at += c.copy(target, at);
  return target;
}

function dropIdleScratch(): void {
  const idle = Date.now() - scratchUsed;
  scratchTimer = idle >= SCRATCH_IDLE_MS ? null : setTimeout(dropIdleScratch, SCRATCH_IDLE_MS - idle).unref();
  if (!scratchTimer) {
    scratch = null;
    scratchHolds = null;
  }
}
