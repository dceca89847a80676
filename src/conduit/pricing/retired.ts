/**
 * Claude models Anthropic has retired (or announced a retirement date for), from Anthropic's
 * model deprecations page and the price tables of ../shared/PRICES.md (rows marked †, and
 * the SDK's end-of-life dates). A request for a retired id fails upstream or is served by
 * whatever a proxy maps it to; the analytics mark it so people see who still asks for it.
 * The replacement named is the current model of the same family (Anthropic's own
 * recommendation at the time may itself be retired since).
 */

export interface Retirement {
  /** The date the model stopped being served, YYYY-MM-DD. */
  since: string;
  replacement: string | null;
}

/** By base id: a dated id or a provider's spelling of it ("…-20241022", "…@20241022", "….-v2:0") matches too. */
const RETIRED: Record<string, Retirement> = {
  'claude-instant-1.2': { since: '2024-11-06', replacement: 'claude-haiku-4-5' },
  'claude-instant-1': { since: '2024-11-06', replacement: 'claude-haiku-4-5' },
  'claude-1': { since: '2024-11-06', replacement: 'claude-haiku-4-5' },
  'claude-2.0': { since: '2025-07-21', replacement: 'claude-sonnet-5-5' },
  'claude-2.1': { since: '2025-07-21', replacement: 'claude-sonnet-5-5' },
  'claude-2': { since: '2025-07-21', replacement: 'claude-sonnet-5-5' },
  'claude-3-sonnet-20240229': { since: '2025-07-21', replacement: 'claude-sonnet-5-5' },
  'claude-3-5-sonnet-20240620': { since: '2025-10-22', replacement: 'claude-sonnet-5-5' },
  'claude-3-5-sonnet-20241022': { since: '2025-10-22', replacement: 'claude-sonnet-5-5' },
  'claude-3-5-sonnet-latest': { since: '2025-10-22', replacement: 'claude-sonnet-5-5' },
  'claude-3-opus-20240229': { since: '2026-01-05', replacement: 'claude-opus-5-5' },
  'claude-3-opus-latest': { since: '2026-01-05', replacement: 'claude-opus-5-5' },
  'claude-3-5-haiku-20241022': { since: '2026-02-19', replacement: 'claude-haiku-4-5' },
  'claude-3-5-haiku-latest': { since: '2026-02-19', replacement: 'claude-haiku-4-5' },
  'claude-3-7-sonnet-20250219': { since: '2026-02-19', replacement: 'claude-sonnet-5-5' },
  'claude-3-7-sonnet-latest': { since: '2026-02-19', replacement: 'claude-sonnet-5-5' },
  'claude-sonnet-4-5-20250929': { since: '2026-11-30', replacement: 'claude-sonnet-5-5' },
  'claude-sonnet-4-5': { since: '2026-11-30', replacement: 'claude-sonnet-5-5' },
  'claude-opus-4-5-20251101': { since: '2027-01-22', replacement: 'claude-opus-5-5' },
  'claude-opus-4-5': { since: '2027-01-22', replacement: 'claude-opus-5-5' },
};

/** "us.anthropic.claude-3-5-sonnet-20241022-v2:0", "claude-3-5-sonnet-v2@20241022" → the base id the table names. */
function baseIds(model: string): string[] {
  const id = model.toLowerCase().replace(/^(?:[a-z]{2}\.)?anthropic[./]/, '');
  const out = [id];
  const vertex = /^(.*?)(?:-v\d+)?@(\d{8})$/.exec(id);
  if (vertex) out.push(`${vertex[1]}-${vertex[2]}`);
  const bedrock = /^(.*-\d{8})(?:-v\d+(?::\d+)?)?$/.exec(id);
  if (bedrock) out.push(bedrock[1]);
  return out;
}

/** The model's retirement if it is retired by `today` (YYYY-MM-DD); null for a model still served. */
export function retirementOf(model: string, today: string): Retirement | null {
  for (const id of baseIds(model)) {
    const r = Object.hasOwn(RETIRED, id) ? RETIRED[id] : undefined;
    if (r) return r.since <= today ? r : null;
  }
  return null;
}
