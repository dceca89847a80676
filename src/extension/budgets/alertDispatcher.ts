/**
 * Delivers the gateway's budget alerts to the person exactly once: an alert arrives on the
 * event stream as it is raised, and the unacknowledged ones are fetched again whenever the
 * gateway (re)connects, so none is lost while VS Code was closed. An alert is shown only in
 * a window that has its project open (so two windows on one gateway don't both show it),
 * then acknowledged, which keeps it from coming back. No 'vscode' import: the extension
 * passes in how to show one.
 */
import type { BudgetAlert } from '../../protocol/budgets';

export interface AlertSource {
  /** The alerts not yet acknowledged (ROUTES.budgetAlerts). */
  pending(): Promise<BudgetAlert[]>;
  /** ROUTES.ackBudgetAlert. */
  acknowledge(id: string): Promise<void>;
}

export interface AlertDispatcherOptions {
  source: AlertSource;
  /** Whether this window has the project open (its workspace key). */
  ownsProject: (projectKey: string) => boolean;
  /** Shows the alert; resolves once it is on screen (not when the person answers). */
  show: (alert: BudgetAlert) => void;
  onError: (message: string) => void;
  /**
   * Alerts that arrive this close together are shown as one (the highest of each budget):
   * one expensive request can cross 50, 80 and 100 % at once. Default 100 ms.
   */
  coalesceMs?: number;
}

export class BudgetAlertDispatcher {
  /** Ids shown by this window: the stream and a catch-up fetch can both bring one. */
  private readonly shown = new Set<string>();
  /** One delivery at a time, in arrival order. */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly o: AlertDispatcherOptions) {}

  private burst: BudgetAlert[] = [];
  private burstDone: Promise<void> | null = null;

  /** An alert from the event stream; resolves once it (or the higher alert it came with) is shown. */
  receive(alert: BudgetAlert): Promise<void> {
    this.burst.push(alert);
    this.burstDone ??= new Promise<void>((resolve) => {
      setTimeout(() => {
        const alerts = this.burst;
        this.burst = [];
        this.burstDone = null;
        resolve(this.enqueue(() => this.deliverAll(alerts)));
      }, this.o.coalesceMs ?? 100);
    });
    return this.burstDone;
  }

  /** Shows what was raised while no window listened (call when the gateway connects). */
  catchUp(): Promise<void> {
    return this.enqueue(async () => {
      let alerts: BudgetAlert[];
      try {
        alerts = await this.o.source.pending();
      } catch (err) {
        this.o.onError(`budget alerts: ${(err as Error).message}`);
        return;
      }
      await this.deliverAll(alerts);
    });
  }

  /** Shows the highest alert of each budget; the lower ones of the same budget are acknowledged unseen. */
  private async deliverAll(alerts: BudgetAlert[]): Promise<void> {
    for (const alert of latestPerBudget(alerts)) await this.deliver(alert);
    for (const alert of alerts) {
      if (!alert.acknowledgedAt && !this.shown.has(alert.id) && this.o.ownsProject(alert.status.projectKey)) await this.ack(alert.id);
    }
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(step, step);
    return this.queue;
  }

  private async deliver(alert: BudgetAlert): Promise<void> {
    if (alert.acknowledgedAt || this.shown.has(alert.id) || !this.o.ownsProject(alert.status.projectKey)) return;
    this.shown.add(alert.id);
    this.o.show(alert);
    await this.ack(alert.id);
  }

  private async ack(id: string): Promise<void> {
    try {
      await this.o.source.acknowledge(id);
    } catch (err) {
      this.o.onError(`could not acknowledge budget alert ${id}: ${(err as Error).message}`);
    }
  }
}

/**
 * Of the alerts of one budget and period, the one that matters most: the highest threshold
 * (a forecast counts below 100 %, above 80 %). Keeps the order of the input otherwise.
 */
export function latestPerBudget(alerts: BudgetAlert[]): BudgetAlert[] {
  const rank = (a: BudgetAlert) => (a.kind === 'forecast' ? 90 : a.threshold ?? 0);
  const best = new Map<string, BudgetAlert>();
  for (const a of alerts) {
    const s = a.status;
    const key = JSON.stringify([s.scope, s.projectKey, s.agentId, s.period, s.periodStart]);
    const current = best.get(key);
    if (!current || rank(a) > rank(current)) best.set(key, a);
  }
  const keep = new Set(best.values());
  return alerts.filter((a) => keep.has(a));
}

/** Notification severity: reaching the budget or heading past it warns; 50 % and 80 % inform. */
export function alertSeverity(alert: BudgetAlert): 'warning' | 'information' {
  return alert.kind === 'forecast' || (alert.threshold ?? 0) >= 100 ? 'warning' : 'information';
}

/**
 * The alert's sentence as a notification shows it. Names come from outside (folder and
 * agent names): VS Code turns "[text](target)" in a notification into a link, so that
 * shape is broken up.
 */
export function notificationText(alert: BudgetAlert): string {
  return `Conduit: ${alert.message.replace(/\]\s*\(/g, '] (')}`;
}
