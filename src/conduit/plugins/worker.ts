/**
 * The plugin worker: loads CONDUIT_HOME/plugins/*.js and runs their customRouter in a
 * thread of its own, so a plugin that throws, hangs, loops or returns garbage cannot
 * stall or crash the gateway. The gateway gives each routing call a time limit and
 * replaces this worker when a plugin blocks it.
 */
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { RUNNING_SLOT, type FromWorker, type PluginContext, type ToWorker } from './protocol';

interface LoadedPlugin {
  name: string;
  version: string | null;
  file: string;
  customRouter: (context: PluginContext) => unknown;
}

const running = new Int32Array(workerData.running as SharedArrayBuffer);
const disabled = new Set<string>(workerData.disabled as string[]);
let plugins: LoadedPlugin[] = [];
let timeoutMs = 250;

function post(message: FromWorker): void {
  parentPort!.postMessage(message);
}

function load(dir: string): void {
  const errors: string[] = [];
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.js') || f.endsWith('.cjs')).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') errors.push(`${dir}: ${(err as Error).message}`);
  }
  const requireFrom = createRequire(path.join(dir, 'index.js'));
  plugins = [];
  for (const f of files) {
    const file = path.join(dir, f);
    if (disabled.has(file)) continue;
    try {
      let exported = requireFrom(file);
      if (exported && typeof exported === 'object' && 'default' in exported && !('customRouter' in exported)) exported = exported.default;
      // The seed's plugins export a class; an object with customRouter works too.
      const instance = typeof exported === 'function' ? new exported() : exported;
      if (!instance || typeof instance.customRouter !== 'function') {
        errors.push(`${f}: exports no customRouter(context) (export a class or an object that has one)`);
        continue;
      }
      plugins.push({
        name: typeof instance.name === 'string' && instance.name ? instance.name : path.basename(f, path.extname(f)),
        version: typeof instance.version === 'string' ? instance.version : null,
        file,
        customRouter: instance.customRouter.bind(instance),
      });
    } catch (err) {
      errors.push(`${f}: failed to load: ${(err as Error).message}`);
    }
  }
  post({ kind: 'loaded', plugins: plugins.map(({ name, version, file }) => ({ name, version, file })), errors });
}

const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,199}$/;

async function route(id: number, context: PluginContext): Promise<void> {
  const problems: string[] = [];
  for (let i = 0; i < plugins.length; i++) {
    const p = plugins[i];
    Atomics.store(running, RUNNING_SLOT, i);
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        Promise.resolve().then(() => p.customRouter(structuredClone(context))),
        new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs); }),
      ]);
      if (result === null || result === undefined) continue;
      if (typeof result === 'string' && MODEL_ID.test(result)) {
        Atomics.store(running, RUNNING_SLOT, -1);
        post({ kind: 'routed', id, model: result, plugin: p.name, problems });
        return;
      }
      problems.push(`${p.name}: returned ${describeValue(result)}, expected a model id or null`);
    } catch (err) {
      problems.push(`${p.name}: ${(err as Error)?.message ?? String(err)}`);
    } finally {
      clearTimeout(timer);
    }
  }
  Atomics.store(running, RUNNING_SLOT, -1);
  post({ kind: 'routed', id, model: null, plugin: null, problems });
}

function describeValue(v: unknown): string {
  if (typeof v === 'string') return `the string ${JSON.stringify(v.slice(0, 60))}`;
  if (Array.isArray(v)) return 'a list';
  return v === null ? 'null' : typeof v;
}

parentPort!.on('message', (m: ToWorker) => {
  if (m.kind === 'load') {
    timeoutMs = m.timeoutMs;
    load(m.dir);
  } else {
    void route(m.id, m.context);
  }
});
