/**
 * The gateway's clients and how long it lives. One gateway serves every VS Code window and
 * every conduit-claude session of a person; each of them holds a lease while it uses the
 * gateway and renews it before it expires. A gateway VS Code started stops once no client
 * has held a lease for a grace period; a gateway the person started (`conduit start`, or a
 * conduit-claude in a terminal) runs until the person stops it.
 *
 * Routes (src/protocol/routes.ts):
 *   ROUTES.leases         → LeasesStatus
 *   ROUTES.renewLease     LeaseRenewal → LeaseInfo (takes or renews the lease)
 *   ROUTES.releaseLease   → { released: boolean }
 *   ROUTES.stopWhenIdle   StopWhenIdleRequest → StopWhenIdleAnswer
 */
import * as v from 'valibot';
import { ValidationError, numberSchema, parseWith, looseObjectOf } from './validate';

/**
 * Set to "vscode" in the environment of a gateway the extension starts. Any other value, or
 * none, means the person started it, and then nothing but the person stops it.
 */
export const STARTED_BY_ENV = 'CONDUIT_STARTED_BY';
export type GatewayStarter = 'vscode' | 'person';

export const LEASE_CLIENTS = ['vscode-window', 'conduit-claude'] as const;
export type LeaseClient = (typeof LEASE_CLIENTS)[number];

/** Lease ids: what a client makes up for itself (a window's or a session's random id). */
export const LEASE_ID = /^[A-Za-z0-9._:-]{1,200}$/;
export const MAX_LEASE_SECONDS = 3600;
export const MAX_GRACE_SECONDS = 600;

export const leaseRenewalSchema = looseObjectOf({
  client: v.picklist(LEASE_CLIENTS, `expected one of ${LEASE_CLIENTS.join(', ')}`),
  /** How long the lease holds without a renewal. */
  ttlSeconds: numberSchema({ min: 1, max: MAX_LEASE_SECONDS }),
}, { ttlSeconds: 'is required', client: `expected one of ${LEASE_CLIENTS.join(', ')}` });
export type LeaseRenewal = v.InferOutput<typeof leaseRenewalSchema>;

export interface LeaseInfo {
  id: string;
  client: LeaseClient;
  expiresInSeconds: number;
}

export interface LeasesStatus {
  startedBy: GatewayStarter;
  /** Live leases only: an expired one no longer counts. */
  leases: LeaseInfo[];
  /** Seconds until the gateway stops for want of clients; null while a client holds it, or when it will not stop by itself. */
  stopsInSeconds: number | null;
}

export const stopWhenIdleSchema = looseObjectOf({
  /** How long the gateway waits, once no lease is left, for a client to come back (a window reloading). */
  graceSeconds: numberSchema({ min: 0, max: MAX_GRACE_SECONDS }),
}, { graceSeconds: 'is required' });
export type StopWhenIdleRequest = v.InferOutput<typeof stopWhenIdleSchema>;

export interface StopWhenIdleAnswer {
  /** Whether the gateway will stop once no client holds a lease (false: the person started it). */
  willStop: boolean;
  leases: number;
}

export function parseLeaseId(raw: string): string {
  if (!LEASE_ID.test(raw)) throw new ValidationError('lease id', 'expected 1 to 200 letters, digits, ".", "_", ":" or "-"');
  return raw;
}

export function parseLeaseRenewal(value: unknown): LeaseRenewal {
  return parseWith(leaseRenewalSchema, value, 'body');
}

export function parseStopWhenIdle(value: unknown): StopWhenIdleRequest {
  return parseWith(stopWhenIdleSchema, value, 'body');
}
