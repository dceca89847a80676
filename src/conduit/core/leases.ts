/**
 * The clients that hold the gateway: each lease lasts until it is released or its time is up
 * without a renewal. Times are on a monotonic clock (performance.now): a machine that sleeps
 * does not find every lease expired when it wakes, and a clock set back does not revive one.
 */
import { performance } from 'node:perf_hooks';
import type { LeaseClient, LeaseInfo } from '../../protocol/leases';

interface Lease {
  client: LeaseClient;
  expiresAt: number;
}

export class TooManyLeasesError extends Error {
  constructor(readonly limit: number) {
    super(`the gateway already holds ${limit} leases; release some first`);
  }
}

export class LeaseRegistry {
  private readonly leases = new Map<string, Lease>();
  /** When the last lease ended (released or expired); null until one has. */
  private lastEndedAt: number | null = null;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly now: () => number = () => performance.now(),
    /** A client that leaks ids (a new one per renewal) must not grow the gateway's memory. */
    private readonly limit = 1000,
  ) {}

  /** Takes the lease `id`, or renews it: it now holds for `ttlMs`. */
  renew(id: string, client: LeaseClient, ttlMs: number): LeaseInfo {
    this.prune();
    if (!this.leases.has(id) && this.leases.size >= this.limit) throw new TooManyLeasesError(this.limit);
    this.leases.set(id, { client, expiresAt: this.now() + ttlMs });
    this.changed();
    return this.info(id, this.leases.get(id)!);
  }

  /** Ends the lease `id`; false when there was none (already released, expired or never taken). */
  release(id: string): boolean {
    this.prune();
    if (!this.leases.delete(id)) return false;
    if (this.leases.size === 0) this.lastEndedAt = this.now();
    this.changed();
    return true;
  }

  /** The leases that still hold, soonest to expire first. */
  live(): LeaseInfo[] {
    this.prune();
    return [...this.leases].map(([id, lease]) => this.info(id, lease)).sort((a, b) => a.expiresInSeconds - b.expiresInSeconds);
  }

  /** Since when no client has held a lease: null while one does, and before any ever did. */
  idleSince(): number | null {
    this.prune();
    return this.leases.size === 0 ? this.lastEndedAt : null;
  }

  /** When the next lease expires unless renewed; null when none is held. */
  nextExpiry(): number | null {
    this.prune();
    let next: number | null = null;
    for (const { expiresAt } of this.leases.values()) next = next === null ? expiresAt : Math.min(next, expiresAt);
    return next;
  }

  /** Calls `listener` after each renewal and release (expiry is seen by asking, see nextExpiry). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private prune(): void {
    const now = this.now();
    for (const [id, lease] of this.leases) {
      if (lease.expiresAt > now) continue;
      this.leases.delete(id);
      // The last to go decides when the gateway became idle.
      this.lastEndedAt = Math.max(this.lastEndedAt ?? -Infinity, lease.expiresAt);
    }
  }

  private info(id: string, lease: Lease): LeaseInfo {
    return { id, client: lease.client, expiresInSeconds: Math.max(0, Math.round((lease.expiresAt - this.now()) / 1000)) };
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
