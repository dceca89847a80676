/**
 * Refreshes a view at most once per interval however many changes ask for it: the first
 * request runs after `intervalMs`, every request that comes meanwhile rides along with it,
 * and a request during a refresh runs once more after it. Under a steady stream of changes
 * (an 'ingested' event per batch, a usage event per request) a view refreshes on a beat,
 * never in a storm, and never falls behind for good as a plain debounce would.
 * No 'vscode' import: timers are passed in for tests.
 */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const NODE_TIMERS: Timers = { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };

export class RefreshThrottle {
  private timer: unknown = null;
  private running = false;
  private again = false;
  private disposed = false;

  constructor(private readonly refresh: () => Promise<void> | void, private readonly intervalMs: number, private readonly timers: Timers = NODE_TIMERS) {}

  request(): void {
    if (this.disposed) return;
    if (this.running) { this.again = true; return; }
    this.timer ??= this.timers.setTimeout(() => void this.run(), this.intervalMs);
  }

  private async run(): Promise<void> {
    this.timer = null;
    this.running = true;
    try {
      await this.refresh();
    } catch { /* a refresh that fails shows its own error in the view; the next change tries again */ }
    this.running = false;
    if (this.again) {
      this.again = false;
      this.request();
    }
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
  }
}
