/**
 * Runs custom router plugins for the gateway, in a worker thread (see worker.ts). Each
 * call has a time limit; past it the request routes without plugins. A plugin that
 * blocks the worker's thread is found through a shared slot the worker writes, the
 * worker is replaced, and that plugin is left out from then on.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SessionContext } from '../../protocol/sessionContext';
import type { RequestContext } from '../../protocol/usage';
import type { Logger } from '../core/log';
import type { RequestFacts } from '../routing/requestFacts';
import { RUNNING_SLOT, type FromWorker, type PluginContext, type ToWorker } from './protocol';

export interface PluginInfo { name: string; version: string | null; file: string }

function workerFile(): string | URL {
  // Bundled: dist/plugin-worker.js beside dist/conduit.js.
  if (!__filename.endsWith('.ts')) return path.join(__dirname, 'plugin-worker.js');
  // From source (tests under tsx): Node 20 does not apply the loader inherited through
  // execArgv (--import tsx) to a worker's .ts entry ("Unknown file extension"), but it
  // does to what the entry requires; so a one-line JavaScript entry requires worker.ts.
  const file = path.join(__dirname, 'worker.ts');
  const bootstrap = `import { createRequire } from 'node:module'; createRequire(${JSON.stringify(file)})(${JSON.stringify(file)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`);
}

export class PluginRouter {
  private worker: Worker | null = null;
  private readonly running = new Int32Array(new SharedArrayBuffer(4));
  private readonly pending = new Map<number, (r: { model: string | null; plugin: string | null }) => void>();
  private readonly disabled = new Set<string>();
  private nextId = 1;
  private loaded: PluginInfo[] = [];
  private ready: Promise<void> | null = null;

  constructor(private readonly dir: string, private readonly timeoutMs: number, private readonly log: Logger) {}

  /** Whether there is anything to run: avoids the worker round trip when no plugin is installed. */
  get active(): boolean { return this.loaded.length > 0; }
  get plugins(): PluginInfo[] { return this.loaded; }

  /** Loads the plugins (again). Resolves when the worker has loaded them. */
  start(): Promise<void> {
    this.stopWorker();
    if (!existsSync(this.dir) || !readdirSync(this.dir).some((f) => f.endsWith('.js') || f.endsWith('.cjs'))) {
      this.loaded = [];
      return Promise.resolve();
    }
    const worker = new Worker(workerFile(), { workerData: { running: this.running.buffer, disabled: [...this.disabled] } });
    this.worker = worker;
    worker.unref();
    this.ready = new Promise((resolve) => {
      const onMessage = (m: FromWorker) => {
        if (m.kind === 'loaded') {
          this.loaded = m.plugins;
          for (const e of m.errors) this.log.warn(`plugin ${e}`);
          if (m.plugins.length) this.log.info(`plugins: ${m.plugins.map((p) => `${p.name}${p.version ? `@${p.version}` : ''}`).join(', ')}`);
          resolve();
        } else {
          for (const p of m.problems) this.log.warn(`plugin ${p}`);
          this.pending.get(m.id)?.({ model: m.model, plugin: m.plugin });
          this.pending.delete(m.id);
        }
      };
      worker.on('message', onMessage);
      worker.once('error', (err) => {
        this.log.error(`plugin worker failed: ${err.message}`);
        resolve();
        this.failPending();
        if (this.worker === worker) this.worker = null;
      });
      worker.once('exit', () => {
        this.failPending();
        if (this.worker === worker) { this.worker = null; this.loaded = []; }
        resolve();
      });
    });
    this.post({ kind: 'load', dir: this.dir, timeoutMs: this.timeoutMs });
    return this.ready;
  }

  async route(facts: RequestFacts, ctx: SessionContext, request: RequestContext): Promise<{ model: string; plugin: string } | null> {
    if (!this.worker || !this.loaded.length) return null;
    const id = this.nextId++;
    const context = pluginContext(facts, ctx, request);
    const answer = await new Promise<{ model: string | null; plugin: string | null } | 'timeout'>((resolve) => {
      // The worker limits each plugin to timeoutMs; this outer limit catches a plugin that
      // blocks the worker's thread so its own timer never fires.
      const limit = this.timeoutMs * Math.max(1, this.loaded.length) + 100;
      const timer = setTimeout(() => { this.pending.delete(id); resolve('timeout'); }, limit);
      this.pending.set(id, (r) => { clearTimeout(timer); resolve(r); });
      this.post({ kind: 'route', id, context });
    });
    if (answer === 'timeout') {
      this.replaceBlockedWorker();
      return null;
    }
    return answer.model && answer.plugin ? { model: answer.model, plugin: answer.plugin } : null;
  }

  stop(): void {
    this.stopWorker();
  }

  private replaceBlockedWorker(): void {
    const index = Atomics.load(this.running, RUNNING_SLOT);
    const culprit = this.loaded[index];
    if (culprit) {
      this.disabled.add(culprit.file);
      this.log.error(`plugin ${culprit.name} (${culprit.file}) blocked the plugin thread; it is disabled until the gateway restarts`);
    } else {
      this.log.error('the plugin thread stopped answering; restarting it');
    }
    void this.start();
  }

  private post(m: ToWorker): void {
    this.worker?.postMessage(m);
  }

  private failPending(): void {
    for (const resolve of this.pending.values()) resolve({ model: null, plugin: null });
    this.pending.clear();
  }

  private stopWorker(): void {
    const w = this.worker;
    this.worker = null;
    this.failPending();
    if (w) void w.terminate();
    Atomics.store(this.running, RUNNING_SLOT, -1);
  }
}

export function pluginContext(facts: RequestFacts, ctx: SessionContext, request: RequestContext): PluginContext {
  return {
    requestedModel: facts.requestedModel,
    tokenCount: facts.tokenCount,
    stream: facts.stream,
    thinking: { type: facts.thinkingType, budgetTokens: facts.thinkingBudget },
    hasWebSearchTool: facts.hasWebSearchTool,
    lastUserMessage: facts.lastUserText(),
    sessionId: request.sessionId ?? null,
    claudeSessionId: request.claudeSessionId ?? null,
    synapseContext: {
      projectId: ctx.projectId ?? null,
      agentId: ctx.agentId ?? null,
      agentType: ctx.agentType ?? null,
      projectModelConfig: ctx.projectModelConfig ?? null,
      agentModelConfig: ctx.agentModelConfig ?? null,
    },
  };
}
