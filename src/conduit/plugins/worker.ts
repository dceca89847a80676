/**
 * The plugin worker: loads the plugin files it is given and runs their customRouter in a
 * thread of its own, so a plugin that throws, hangs, loops or returns garbage cannot
 * stall or crash the gateway. Before running any plugin code it writes that plugin's
 * index to a shared slot: when the thread blocks or ends, the gateway reads the slot to
 * know which plugin to disable (pluginThread.ts).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { isModelId } from '../../protocol/modelId';
import { channelServer, type ResponseEnvelope } from '../../protocol/channel';
import { RUNNING_SLOT, type FromWorker, type PluginContext, type PluginWorkerProtocol, type RouteAnswer, type WorkerStart } from './protocol';

interface LoadedPlugin {
  index: number;
  name: string;
  version: string | null;
  file: string;
  customRouter: (context: PluginContext) => unknown;
  /** Calls in a row that timed out. */
  timeouts: number;
}

const start = workerData as WorkerStart;
const running = new Int32Array(start.running);
let plugins: LoadedPlugin[] = [];

function post(message: FromWorker | ResponseEnvelope): void {
  parentPort!.postMessage(message);
}

/** Runs plugin code with the plugin's index in the shared slot. */
function asPlugin<T>(index: number, run: () => T): T {
  Atomics.store(running, RUNNING_SLOT, index);
  try {
    return run();
  } finally {
    Atomics.store(running, RUNNING_SLOT, -1);
  }
}

function load(): void {
  post({ kind: 'loading' });
  const errors: string[] = [];
  for (const [index, file] of start.files.entries()) {
    const f = path.basename(file);
    try {
      const instance = asPlugin(index, () => {
        let exported = createRequire(file)(file);
        if (exported && typeof exported === 'object' && 'default' in exported && !('customRouter' in exported)) exported = exported.default;
        // Existing router plugins export a class; an object with customRouter works too.
        return typeof exported === 'function' ? new exported() : exported;
      });
      if (!instance || typeof instance.customRouter !== 'function') {
        errors.push(`${f}: exports no customRouter(context) (export a class or an object that has one)`);
        continue;
      }
      plugins.push({
        index,
        name: typeof instance.name === 'string' && instance.name ? instance.name : path.basename(f, path.extname(f)),
        version: typeof instance.version === 'string' ? instance.version : null,
        file,
        customRouter: instance.customRouter.bind(instance),
        timeouts: 0,
      });
    } catch (err) {
      errors.push(`${f}: failed to load: ${(err as Error)?.message ?? String(err)}`);
    }
  }
  post({ kind: 'loaded', plugins: plugins.map(({ name, version, file }) => ({ name, version, file })), errors });
}

class TimedOut extends Error {}

/** The gateway reads the call's problems before its answer (messages keep their order). */
async function route(context: PluginContext): Promise<RouteAnswer> {
  const problems: string[] = [];
  const answer = (model: string | null, plugin: string | null): RouteAnswer => {
    for (const text of problems) post({ kind: 'problem', text });
    return { model, plugin };
  };
  for (const p of [...plugins]) {
    if (!plugins.includes(p)) continue; // dropped meanwhile by a concurrent call
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        Promise.resolve().then(() => asPlugin(p.index, () => p.customRouter(structuredClone(context)))),
        new Promise((_, reject) => { timer = setTimeout(() => reject(new TimedOut(`no answer within ${start.timeoutMs} ms`)), start.timeoutMs); }),
      ]);
      p.timeouts = 0;
      if (result === null || result === undefined) continue;
      if (typeof result === 'string' && isModelId(result)) return answer(result, p.name);
      problems.push(`${p.name}: returned ${describeValue(result)}, expected a model id or null`);
    } catch (err) {
      problems.push(`${p.name}: ${(err as Error)?.message ?? String(err)}`);
      if (err instanceof TimedOut) countTimeout(p);
      else p.timeouts = 0;
    } finally {
      clearTimeout(timer);
    }
  }
  return answer(null, null);
}

/** A plugin that keeps not answering would add the full time limit to every request. */
function countTimeout(p: LoadedPlugin): void {
  p.timeouts++;
  if (p.timeouts < start.maxConsecutiveTimeouts || !plugins.includes(p)) return;
  plugins = plugins.filter((other) => other !== p);
  post({ kind: 'dropped', file: p.file, reason: `gave no answer within ${start.timeoutMs} ms ${p.timeouts} times in a row` });
}

function describeValue(v: unknown): string {
  if (typeof v === 'string') return `the string ${JSON.stringify(v.slice(0, 60))}`;
  if (Array.isArray(v)) return 'a list';
  return v === null ? 'null' : typeof v;
}

/**
 * process.exit() called later than the call that caused it (from a plugin's timer or
 * promise) finds the slot empty: name the plugin whose file is nearest the top of the
 * stack instead, so the gateway still knows whom to disable.
 */
const exitThread = process.exit.bind(process);
process.exit = ((code?: number) => {
  const index = pluginOnStack();
  if (index >= 0) Atomics.store(running, RUNNING_SLOT, index);
  return exitThread(code);
}) as typeof process.exit;

function pluginOnStack(): number {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 100;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  let found = -1;
  let foundAt = Infinity;
  for (const [index, file] of start.files.entries()) {
    const at = stack.indexOf(`${file}:`);
    if (at >= 0 && at < foundAt) [found, foundAt] = [index, at];
  }
  return found;
}

// Plugin code that throws from a timer or leaves a rejection unhandled would otherwise end
// this thread, and with it every plugin: report it and go on.
process.on('uncaughtException', (err) => post({ kind: 'problem', text: `code threw outside customRouter: ${err?.message ?? String(err)}` }));
process.on('unhandledRejection', (err) => post({ kind: 'problem', text: `code left a promise rejection unhandled: ${(err as Error)?.message ?? String(err)}` }));

const serve = channelServer<PluginWorkerProtocol>({ send: post, handlers: { route } });
parentPort!.on('message', (m: unknown) => { serve(m); });
load();
