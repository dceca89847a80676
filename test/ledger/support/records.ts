// Usage records as the gateway journals them, made deterministically for the ledger's
// tests and benchmark, and written to a journal folder the way Journal writes them.
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { RoutingSource } from '../../../src/protocol/routing';
import type { UsageRecord } from '../../../src/protocol/usage';

/** Small deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const PROJECT_KEYS = ['file:///work/alpha', 'file:///work/beta', 'gamma-project'];
export const AGENT_KEYS = ['reviewer', 'planner', 'coder'];
/** Models with the routing source that picks them; the last has no known price. */
export const MODEL_ROUTES: { model: string; source: RoutingSource; provider: string }[] = [
  { model: 'claude-sonnet-4-5', source: 'default', provider: 'anthropic' },
  { model: 'claude-haiku-4-5', source: 'background', provider: 'anthropic' },
  { model: 'claude-opus-4-5', source: 'reasoning', provider: 'anthropic' },
  { model: 'claude-sonnet-4-5', source: 'long-context', provider: 'anthropic' },
  { model: 'claude-opus-4-1', source: 'agent', provider: 'anthropic' },
  { model: 'mystery-model-1', source: 'plugin', provider: 'other' },
];

export interface RecordSetOptions {
  count: number;
  /** Time of the newest record; records go back `spanMs` from it. */
  end?: Date;
  spanMs?: number;
  seed?: number;
  idPrefix?: string;
  /** Share of records without a project (0..1). */
  noProject?: number;
}

const PRICES: Record<string, [number, number, number, number, number] | null> = {
  // input, output, cache write 5m, cache write 1h, cache read (USD per million tokens)
  'claude-sonnet-4-5': [3, 15, 3.75, 6, 0.3],
  'claude-haiku-4-5': [1, 5, 1.25, 2, 0.1],
  'claude-opus-4-5': [5, 25, 6.25, 10, 0.5],
  'claude-opus-4-1': [15, 75, 18.75, 30, 1.5],
  'mystery-model-1': null,
};

/** A deterministic set of records, oldest first (the journal's order). */
export function makeRecords(options: RecordSetOptions): UsageRecord[] {
  const rand = prng(options.seed ?? 7);
  const end = (options.end ?? new Date()).getTime();
  const span = options.spanMs ?? 3 * 24 * 3_600_000;
  const pick = <T>(items: readonly T[]) => items[Math.floor(rand() * items.length)];
  const out: UsageRecord[] = [];
  for (let i = 0; i < options.count; i++) {
    const endedAt = new Date(end - span + Math.floor(((i + rand()) / options.count) * span));
    const route = pick(MODEL_ROUTES);
    const failed = rand() < 0.03;
    const cacheRead = Math.floor(rand() * 40_000);
    const cw5 = rand() < 0.3 ? Math.floor(rand() * 3_000) : 0;
    const cw1 = rand() < 0.1 ? Math.floor(rand() * 2_000) : 0;
    const usage = failed ? null : {
      inputTokens: 10 + Math.floor(rand() * 4_000),
      outputTokens: 5 + Math.floor(rand() * 2_000),
      cacheCreationTokens: cw5 + cw1,
      cacheCreation5mTokens: cw5,
      cacheCreation1hTokens: cw1,
      cacheReadTokens: cacheRead,
    };
    const p = PRICES[route.model];
    const cost = usage && p
      ? Math.round(((usage.inputTokens * p[0] + usage.outputTokens * p[1] + cw5 * p[2] + cw1 * p[3] + cacheRead * p[4]) / 1e6) * 1e6) / 1e6
      : null;
    const project = rand() < (options.noProject ?? 0.1) ? undefined : pick(PROJECT_KEYS);
    const agent = project && rand() < 0.7 ? pick(AGENT_KEYS) : undefined;
    const session = `s-${Math.floor(i / 40) % 25}`;
    const durationMs = 200 + Math.floor(rand() * 20_000);
    const record: UsageRecord = {
      id: `${options.idPrefix ?? 'req'}-${i.toString().padStart(7, '0')}`,
      context: {
        sessionId: session,
        claudeSessionId: `claude-${session}`,
        ...(project ? { projectId: project } : {}),
        ...(agent ? { agentId: agent, agentType: 'subagent' } : {}),
      },
      decision: {
        model: route.model, provider: route.provider, source: route.source, rule: `rule for ${route.source}`,
        tokenCount: 1000 + Math.floor(rand() * 90_000), requestedModel: 'claude-sonnet-4-5',
        timestamp: new Date(endedAt.getTime() - durationMs).toISOString(),
      },
      usage,
      cost: usage ? (p ? { cost, costSource: `table:${route.model}`, priceVersion: 'test' } : { cost: null, costSource: 'unknown', priceVersion: null }) : { cost: null, costSource: 'no-usage', priceVersion: null },
      status: failed ? 529 : 200,
      ...(failed ? { error: 'overloaded_error' } : {}),
      stream: rand() < 0.8,
      durationMs,
      firstByteMs: 100 + Math.floor(rand() * 900),
      startedAt: new Date(endedAt.getTime() - durationMs).toISOString(),
      endedAt: endedAt.toISOString(),
      device: 'test-host',
    };
    out.push(record);
  }
  return out;
}

export function journalLine(record: UsageRecord): string {
  return `${JSON.stringify(record)}\n`;
}

/** Appends records to CONDUIT_HOME-style journal files (one per UTC day of endedAt). */
export function writeJournal(dir: string, records: UsageRecord[]): string[] {
  mkdirSync(dir, { recursive: true });
  const byDay = new Map<string, string[]>();
  for (const r of records) {
    const day = r.endedAt.slice(0, 10);
    let lines = byDay.get(day);
    if (!lines) byDay.set(day, (lines = []));
    lines.push(journalLine(r));
  }
  const files: string[] = [];
  for (const [day, lines] of byDay) {
    const file = path.join(dir, `${day}.ndjson`);
    appendFileSync(file, lines.join(''));
    files.push(file);
  }
  return files.sort();
}
