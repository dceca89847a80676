/**
 * claude run without the gateway: with the environment conduit-claude was given, untouched
 * (no ANTHROPIC_BASE_URL of the gateway's, no access token, no context header). Used when
 * the gateway is unavailable (fallback.ts) and when claude talks to a cloud provider
 * Conduit cannot stand in front of (cloudProviders.ts).
 */
import { spawn } from 'node:child_process';
import type { ClaudeLaunch } from '../client/claudeLaunch';
import { FallbackRecorder, type FallbackMetadataLine } from './fallback';
import { LineMerger } from './lineMerger';
import { ClaudeResultWatcher } from './sessionSummary';
import { childEnd, exitAs, forwardSignals } from './childExit';
import type { TelemetrySender } from './telemetry';

export interface DirectRun {
  launch: ClaudeLaunch;
  env: NodeJS.ProcessEnv;
  /**
   * With stream-json, one fallback metadata line per API request (on stdout and to the
   * telemetry endpoint); null: none at all (nothing Conduit could back).
   */
  fallback: { streamJson: boolean; context: { projectId?: string; agentId?: string }; telemetry: TelemetrySender | null } | null;
  onSpawnError: (err: Error) => void;
}

/** Runs claude to its end and exits as it did; never returns. */
export async function runDirect(run: DirectRun): Promise<void> {
  // The requests are seen only in claude's stream-json (its replies' message ids): without
  // it, stdout is claude's alone and there is no metadata, on stdout or to telemetry.
  const record = run.fallback?.streamJson ? run.fallback : null;
  const pipe = record !== null;
  const child = spawn(run.launch.file, run.launch.args, {
    env: run.env,
    stdio: ['inherit', pipe ? 'pipe' : 'inherit', 'inherit'],
    windowsVerbatimArguments: run.launch.windowsVerbatimArguments,
  });
  forwardSignals(child);
  const merger = new LineMerger((t) => process.stdout.write(t));
  if (pipe && record) {
    const emit = (line: FallbackMetadataLine) => {
      merger.pushExtra(JSON.stringify(line));
      record.telemetry?.send(line);
    };
    const recorder = new FallbackRecorder(record.context, emit);
    const watcher = new ClaudeResultWatcher(undefined, (line) => recorder.assistantLine(line));
    child.stdout!.on('data', (c: Buffer) => {
      merger.pushChild(c);
      watcher.push(c);
    });
    child.stdout!.once('end', () => watcher.end());
  }
  const [code, signal] = await childEnd(child, run.onSpawnError);
  merger.end();
  await record?.telemetry?.flush();
  await exitAs(code, signal);
}
