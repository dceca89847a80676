/**
 * Runs custom router plugins for the gateway, in a worker thread (pluginThread.ts,
 * worker.ts). Nothing a plugin does can stop the gateway from starting or serving:
 *  - loading has a time limit; a plugin that loops at load is disabled and the rest loaded
 *    again without it;
 *  - a plugin that ends the thread (process.exit()) at load or in customRouter is disabled
 *    and the thread restarted with the others;
 *  - each call has a time limit, past which the request routes without plugins; a plugin
 *    that blocks the thread is disabled and the thread replaced, and one whose calls time
 *    out several times in a row is disabled.
 * Disabled plugins stay disabled until the gateway restarts; status lists them with why.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { SessionContext } from '../../protocol/sessionContext';
import type { RequestContext } from '../../protocol/usage';
import type { ProviderConfig } from '../core/config';
import type { Logger } from '../core/log';
import type { RequestFacts } from '../routing/requestFacts';
import { pluginEnvironment } from './pluginEnvironment';
import { PluginThread } from './pluginThread';
import type { PluginContext, PluginInfo } from './protocol';

export type { PluginInfo } from './protocol';

/** A plugin as status shows it. */
export type PluginState = PluginInfo & ({ state: 'loaded' } | { state: 'disabled'; reason: string });

export interface PluginRouterOptions {
  /** The gateway's environment; the thread gets it without secrets. */
  env: NodeJS.ProcessEnv;
  /** The configured providers: their apiKeyEnv variables are kept from plugins too. */
  providers: () => Record<string, ProviderConfig>;
}

/** Loading is quick for any sensible plugin; the limit only has to catch one that never finishes. */
const DEFAULT_LOAD_TIMEOUT_MS = 5_000;
const MAX_CONSECUTIVE_TIMEOUTS = 3;
/** Thread ends that no plugin can be blamed for (plugin code exiting from a timer) before plugins are turned off. */
const MAX_UNEXPLAINED_ENDS = 3;

export class PluginRouter {
  private thread: PluginThread | null = null;
  private loading: Promise<void> | null = null;
  private loaded: PluginInfo[] = [];
  private readonly disabled = new Map<string, PluginState & { state: 'disabled' }>();
  private readonly loadTimeoutMs: number;
  /** Thread ends in a row with no plugin to blame; an answer in between resets it. */
  private unexplainedEnds = 0;

  constructor(private readonly dir: string, private readonly timeoutMs: number, private readonly log: Logger, private readonly options: PluginRouterOptions) {
    this.loadTimeoutMs = positiveNumber(options.env.CONDUIT_PLUGIN_LOAD_TIMEOUT_MS) ?? DEFAULT_LOAD_TIMEOUT_MS;
  }

  /** Whether there is anything to run: avoids the worker round trip when no plugin is installed. */
  get active(): boolean { return this.loaded.length > 0; }

  /** The loaded plugins, then the disabled ones with the reason. */
  get plugins(): PluginState[] {
    return [...this.loaded.map((p): PluginState => ({ ...p, state: 'loaded' })), ...this.disabled.values()];
  }

  /** Loads the plugins (again). Resolves when they are loaded, within the load limit per attempt. */
  start(): Promise<void> {
    this.thread?.stop();
    this.thread = null;
    const loading = this.load().finally(() => { if (this.loading === loading) this.loading = null; });
    this.loading = loading;
    return loading;
  }

  async route(facts: RequestFacts, ctx: SessionContext, request: RequestContext): Promise<{ model: string; plugin: string } | null> {
    if (this.loading) await this.loading; // the thread is being replaced: route with the plugins it will hold
    const thread = this.thread;
    if (!thread || !this.loaded.length) return null;
    // The worker limits each plugin to timeoutMs; this outer limit catches a plugin that
    // blocks the worker's thread so its own timer never fires.
    const answer = await thread.route(pluginContext(facts, ctx, request), this.timeoutMs * Math.max(1, this.loaded.length) + 100);
    if (answer === 'timeout') {
      if (thread === this.thread) this.replaceThread(thread.runningFile(), 'blocked the plugin thread', 'the plugin thread stopped answering');
      return null;
    }
    if (answer === 'ended') return null; // the thread's end is handled where it is seen
    this.unexplainedEnds = 0;
    return answer.model && answer.plugin ? { model: answer.model, plugin: answer.plugin } : null;
  }

  stop(): void {
    this.thread?.stop();
    this.thread = null;
  }

  private async load(): Promise<void> {
    for (;;) {
      const files = this.pluginFiles();
      if (!files.length) {
        this.loaded = [];
        return;
      }
      this.log.info(`plugins: loading ${files.map((f) => path.basename(f)).join(', ')}`);
      const thread = new PluginThread(files, {
        timeoutMs: this.timeoutMs,
        loadTimeoutMs: this.loadTimeoutMs,
        maxConsecutiveTimeouts: MAX_CONSECUTIVE_TIMEOUTS,
        env: pluginEnvironment(this.options.env, Object.values(this.options.providers()).flatMap((p) => p.apiKeyEnv ?? [])),
      }, {
        dropped: (file, reason) => this.disable(file, reason),
        problem: (text) => this.log.warn(`plugin ${text}`),
        ended: (file, exit) => {
          if (thread === this.thread) this.replaceThread(file, `ended the plugin thread (${exit})`, `the plugin thread ended (${exit})`);
        },
      });
      this.thread = thread;
      const outcome = await thread.loaded;
      if (outcome.kind === 'stopped') return;
      if (outcome.kind === 'loaded') {
        this.loaded = outcome.plugins;
        for (const e of outcome.errors) this.log.warn(`plugin ${e}`);
        if (outcome.plugins.length) this.log.info(`plugins: ${outcome.plugins.map((p) => `${p.name}${p.version ? `@${p.version}` : ''}`).join(', ')}`);
        return;
      }
      thread.stop();
      this.thread = null;
      if (!outcome.file) {
        // Not a plugin's doing (the thread itself could not start): go on without plugins.
        this.loaded = [];
        this.log.error(`plugins are off until the gateway restarts: loading failed with no plugin running (${outcome.reason})`);
        return;
      }
      this.disable(outcome.file, outcome.reason);
    }
  }

  /** The plugin files, in name order, without the disabled ones. */
  private pluginFiles(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.js') || f.endsWith('.cjs'))
      .sort()
      .map((f) => path.join(this.dir, f))
      .filter((file) => !this.disabled.has(file));
  }

  private disable(file: string, reason: string): void {
    const info = this.loaded.find((p) => p.file === file) ?? { name: path.basename(file, path.extname(file)), version: null, file };
    this.loaded = this.loaded.filter((p) => p.file !== file);
    this.disabled.set(file, { ...info, state: 'disabled', reason });
    this.log.error(`plugin ${info.name} (${file}) ${reason}; it is disabled until the gateway restarts`);
  }

  /** The thread blocked or ended: disable the plugin that did it, if known, and start again with the others. */
  private replaceThread(culprit: string | null, reason: string, unexplained: string): void {
    if (culprit) {
      this.disable(culprit, reason);
    } else if (++this.unexplainedEnds >= MAX_UNEXPLAINED_ENDS) {
      this.log.error(`${unexplained} with no plugin running, ${this.unexplainedEnds} times in a row; plugins are off until the gateway restarts`);
      this.stop();
      this.loaded = [];
      return;
    } else {
      this.log.error(`${unexplained} with no plugin running; restarting it`);
    }
    void this.start();
  }
}

function positiveNumber(value: string | undefined): number | null {
  const n = Number(value);
  return value && Number.isFinite(n) && n > 0 ? n : null;
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
