/**
 * One life of the plugin worker thread (worker.ts): loads the given plugin files within a
 * time limit, then runs routing calls. When the thread blocks or ends, runningFile() names
 * the plugin whose code it was running; pluginRouter.ts decides what to do about it.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ChannelClient, ChannelTimeoutError } from '../../protocol/channel';
import { isFromWorker, isRouteAnswer, RUNNING_SLOT, type PluginContext, type PluginInfo, type PluginWorkerProtocol, type RouteAnswer, type WorkerStart } from './protocol';

export interface PluginThreadOptions {
  timeoutMs: number;
  loadTimeoutMs: number;
  maxConsecutiveTimeouts: number;
  env: Record<string, string>;
}

export interface PluginThreadEvents {
  /** The worker dropped a plugin that kept not answering. */
  dropped(file: string, reason: string): void;
  /** Plugin code threw outside any call, or a call had problems. */
  problem(text: string): void;
  /**
   * The thread ended by itself after loading (process.exit() or a fatal error in plugin
   * code); file: the plugin that did it (null: unknown). exit: "exit code N[: error]".
   */
  ended(file: string | null, exit: string): void;
}

export type LoadOutcome =
  | { kind: 'loaded'; plugins: PluginInfo[]; errors: string[] }
  /** file: the plugin that was loading when it failed (null: none was). */
  | { kind: 'failed'; file: string | null; reason: string }
  | { kind: 'stopped' };

export type { RouteAnswer } from './protocol';

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

export class PluginThread {
  /** Resolves once, when loading succeeded, failed or was cut short by stop(). */
  readonly loaded: Promise<LoadOutcome>;
  private readonly worker: Worker;
  private readonly running = new Int32Array(new SharedArrayBuffer(4));
  /** Routing calls; each one's time limit is the caller's. */
  private readonly channel: ChannelClient<PluginWorkerProtocol>;
  private stopping = false;

  constructor(private readonly files: string[], options: PluginThreadOptions, events: PluginThreadEvents) {
    Atomics.store(this.running, RUNNING_SLOT, -1);
    const start: WorkerStart = {
      files,
      timeoutMs: options.timeoutMs,
      maxConsecutiveTimeouts: options.maxConsecutiveTimeouts,
      running: this.running.buffer as SharedArrayBuffer,
    };
    // Kept referenced while loading: an unreferenced worker that ends (a plugin calling
    // process.exit() at load) lets the process exit before the 'exit' event arrives, and
    // the gateway would end silently with code 0 in the middle of its start-up.
    this.worker = new Worker(workerFile(), { workerData: start, env: options.env });
    this.channel = new ChannelClient<PluginWorkerProtocol>({
      send: (envelope) => this.worker.postMessage(envelope),
      timeoutMs: options.timeoutMs,
      validate: { route: isRouteAnswer },
    });

    this.loaded = new Promise((resolve) => {
      let loadLimit: NodeJS.Timeout | undefined;
      let ready = false;
      let fatal: Error | null = null;
      this.worker.on('message', (m: unknown) => {
        if (this.channel.receive(m)) return;
        if (!isFromWorker(m)) return; // plugin code can post too: only the worker's own messages count
        switch (m.kind) {
          case 'loading':
            loadLimit = setTimeout(() => {
              resolve({ kind: 'failed', file: this.runningFile(), reason: `did not finish loading within ${options.loadTimeoutMs} ms` });
              this.stop();
            }, options.loadTimeoutMs);
            break;
          case 'loaded':
            clearTimeout(loadLimit);
            ready = true;
            this.worker.unref(); // from now on the server keeps the process alive
            resolve({ kind: 'loaded', plugins: m.plugins, errors: m.errors });
            break;
          case 'dropped':
            events.dropped(m.file, m.reason);
            break;
          case 'problem':
            events.problem(m.text);
            break;
        }
      });
      this.worker.on('error', (err) => { fatal = err; });
      this.worker.once('exit', (code) => {
        clearTimeout(loadLimit);
        const file = this.runningFile();
        this.failPending();
        if (this.stopping) return resolve({ kind: 'stopped' });
        const exit = `exit code ${code}${fatal ? `: ${fatal.message}` : ''}`;
        if (!ready) resolve({ kind: 'failed', file, reason: `ended the plugin thread (${exit}) while loading` });
        else events.ended(file, exit);
      });
    });
  }

  /** The plugin whose code the thread is running now, if any. */
  runningFile(): string | null {
    return this.files[Atomics.load(this.running, RUNNING_SLOT)] ?? null;
  }

  /**
   * One routing call; 'timeout' when no answer came within limitMs (the thread may be
   * blocked), 'ended' when the thread ended or was stopped first.
   */
  route(context: PluginContext, limitMs: number): Promise<RouteAnswer | 'timeout' | 'ended'> {
    return this.channel.request('route', context, limitMs).then(
      (answer) => answer,
      // A malformed answer routes without plugins too (the thread's code is not to be trusted).
      (err: Error) => (err instanceof ChannelTimeoutError ? 'timeout' : 'ended'),
    );
  }

  stop(): void {
    this.stopping = true;
    this.failPending();
    void this.worker.terminate();
  }

  /** Calls in flight route without plugins. */
  private failPending(): void {
    this.channel.failAll(new Error('the plugin thread ended'));
  }
}
