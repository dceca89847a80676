/**
 * The gateway's config.json as the supervisor sees it: a watch on the file (a gateway that
 * refused it at start is started again once it changes: a retry cannot fix a file), and the
 * reason of a change the running gateway refused (in its token-guarded status: /health
 * only says "refused", as the reason may quote the file).
 */
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { call, type GatewayAccess } from '../../conduit/client/call';
import { ROUTES } from '../../protocol/routes';
import type { ConfigStatus } from '../../protocol/configState';

/** Saves come as bursts of events (truncate, write, rename): one call after the burst. */
const SETTLE_MS = 200;

export class ConfigFileWatch {
  private watcher: FSWatcher | null = null;
  private settle: NodeJS.Timeout | undefined;

  constructor(private readonly file: string, private readonly changed: () => void) {}

  /** Watches the file's folder (the file may not exist yet); false when this file system cannot be watched. */
  start(): boolean {
    if (this.watcher) return true;
    try {
      this.watcher = watch(path.dirname(this.file), (_event, name) => {
        if (name !== null && name !== path.basename(this.file)) return;
        clearTimeout(this.settle);
        this.settle = setTimeout(this.changed, SETTLE_MS);
      });
      this.watcher.on('error', () => this.stop());
      this.watcher.unref();
      return true;
    } catch {
      return false;
    }
  }

  stop(): void {
    clearTimeout(this.settle);
    this.watcher?.close();
    this.watcher = null;
  }
}

/** Why the running gateway refused config.json, or null when it took it (or cannot say). */
export async function refusedConfigReason(gw: GatewayAccess): Promise<string | null> {
  try {
    const config = (await call(gw, ROUTES.status, {}) as { config?: ConfigStatus }).config;
    return config?.state === 'refused' ? config.error ?? 'config.json was refused (see the Conduit log)' : null;
  } catch {
    return null;
  }
}
