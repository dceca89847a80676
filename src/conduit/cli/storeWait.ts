/**
 * The CLI's readers of the usage store (`conduit usage`) on a gateway whose store is still
 * opening (a first start creates it: a few seconds; the gateway answers 503 meanwhile):
 * they wait for it, saying so once on stderr, instead of failing.
 */

/** What the CLI prints (once) while it waits. */
export const WAITING_LINE = 'waiting for the usage store...';

/** The gateway's answer while its store opens (LedgerUnavailableError 'opening', HTTP 503). */
export function storeOpening(err: unknown): boolean {
  const e = err as { status?: unknown; message?: unknown } | null;
  return e?.status === 503 && typeof e.message === 'string' && /still opening/.test(e.message);
}

export interface StoreWaitOptions {
  /** Give up (the last error is thrown) after this long. */
  maxWaitMs?: number;
  intervalMs?: number;
  /** Where the waiting line goes (stderr). */
  say?: (line: string) => void;
}

/** Runs `read`, and again every `intervalMs` while the store is opening. */
export async function whenStoreOpen<T>(read: () => Promise<T>, options: StoreWaitOptions = {}): Promise<T> {
  const deadline = Date.now() + (options.maxWaitMs ?? 60_000);
  const say = options.say ?? ((line: string) => process.stderr.write(`${line}\n`));
  let said = false;
  for (;;) {
    try {
      return await read();
    } catch (err) {
      if (!storeOpening(err) || Date.now() >= deadline) throw err;
      if (!said) say(WAITING_LINE);
      said = true;
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200));
  }
}
