/**
 * When a gateway VS Code started stops by itself: once it has had clients (or a closing
 * window asked for it) and no client has held a lease for a grace period. The grace lets a
 * reloading window take its lease again; leases that expire count as ended, so windows
 * that crashed without releasing theirs still let it stop. A gateway the person started is
 * never stopped from here.
 */
import type { GatewayStarter } from '../../protocol/leases';
import type { LeaseRegistry } from './leases';

export const DEFAULT_IDLE_GRACE_MS = 15_000;

export interface IdleStopOptions {
  leases: LeaseRegistry;
  startedBy: GatewayStarter;
  /** Asks the process to stop the gateway (it closes and exits); called at most once. */
  stop: (reason: string) => void;
  graceMs?: number;
  /** Runs `fn` in `ms`; returns what cancels it (tests pass a clock they move by hand). */
  schedule?: (fn: () => void, ms: number) => () => void;
}

function scheduleTimer(fn: () => void, ms: number): () => void {
  const timer = setTimeout(fn, ms);
  timer.unref(); // the server keeps the process alive, not this
  return () => clearTimeout(timer);
}

export class IdleStop {
  private graceMs: number;
  /** When a client last asked for a stop once idle; null until one has. */
  private requestedAt: number | null = null;
  private cancelWake: () => void = () => {};
  private stopped = false;
  private readonly unsubscribe: () => void;

  constructor(private readonly o: IdleStopOptions) {
    this.graceMs = o.graceMs ?? DEFAULT_IDLE_GRACE_MS;
    this.unsubscribe = o.leases.onChange(() => this.check());
  }

  get applies(): boolean {
    return this.o.startedBy === 'vscode';
  }

  /** A closing window's request: stop once no client holds a lease for `graceMs`. False when the person started the gateway. */
  request(graceMs: number): boolean {
    if (!this.applies) return false;
    this.requestedAt = this.o.leases.now();
    this.graceMs = graceMs;
    this.check();
    return true;
  }

  /** Milliseconds until the gateway stops for want of clients; null while one holds it, or when it will not stop by itself. */
  stopsIn(): number | null {
    const at = this.stopAt();
    return at === null ? null : Math.max(0, at - this.o.leases.now());
  }

  close(): void {
    this.cancelWake();
    this.unsubscribe();
  }

  private stopAt(): number | null {
    if (!this.applies || this.stopped) return null;
    const idleSince = this.o.leases.idleSince();
    if (idleSince === null && (this.requestedAt === null || this.o.leases.nextExpiry() !== null)) return null;
    return Math.max(idleSince ?? -Infinity, this.requestedAt ?? -Infinity) + this.graceMs;
  }

  /** Stops now if it is time; otherwise wakes up when it may be (a lease expiring, the grace ending). */
  private check(): void {
    this.cancelWake();
    if (!this.applies || this.stopped) return;
    const now = this.o.leases.now();
    const stopAt = this.stopAt();
    if (stopAt !== null && stopAt <= now) {
      this.stopped = true;
      this.unsubscribe();
      this.o.stop(`no client has held the gateway for ${Math.round(this.graceMs / 1000)} s (VS Code started it; its windows have closed)`);
      return;
    }
    const wakeAt = stopAt ?? this.o.leases.nextExpiry();
    if (wakeAt === null) return;
    this.cancelWake = (this.o.schedule ?? scheduleTimer)(() => this.check(), Math.max(0, wakeAt - now) + 1);
  }
}
