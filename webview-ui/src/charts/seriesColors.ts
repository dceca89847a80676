/**
 * One colour per model (or agent, or project) wherever it appears: the daily chart, the
 * requests/tokens bars, cost by model, the tables' swatches. A key's colour is chosen once
 * from a hash of the key itself, never from its rank (which changes with the range), and
 * remembered (the view persists assign()'s table), so a model keeps its colour across ranges
 * and reloads; a second key whose hash lands on a taken slot takes the next free one.
 *
 * The palette is the theme's own chart colours (--vscode-charts-*, High Contrast's included)
 * followed by the same colours mixed toward the foreground: 12 distinct colours that keep
 * the theme's contrast (tints on dark themes, shades on light ones).
 */
import type { ThemeColors } from './chartTheme.js';

/** key → palette slot, per kind of key ('model', 'agent', 'project'). */
export type ColorSlots = Record<string, Record<string, number>>;

function hash(text: string): number {
  // FNV-1a: stable across sessions and machines.
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function parseHex(color: string): [number, number, number] | null {
  const m = /^#([0-9a-f]{6})(?:[0-9a-f]{2})?$/i.exec(color.trim());
  if (!m) return null;
  const n = Number.parseInt(m[1], 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** a mixed toward b by t (0..1); colours that are not #rrggbb stay as they are. */
export function mix(a: string, b: string, t: number): string {
  const x = parseHex(a);
  const y = parseHex(b);
  if (!x || !y) return a;
  return `#${x.map((v, i) => Math.round(v + (y[i] - v) * t).toString(16).padStart(2, '0')).join('')}`;
}

export function palette(theme: ThemeColors): string[] {
  const base = theme.series;
  return [...base, ...base.map((c) => mix(c, theme.foreground, 0.45))];
}

export class SeriesColors {
  constructor(private slots: ColorSlots = {}) {}

  /** The persisted table (saved with the view's state). */
  get table(): ColorSlots {
    return this.slots;
  }

  /** The palette slot of a key, assigned at first sight from its hash. */
  slot(kind: string, key: string, size: number): number {
    const table = (this.slots[kind] ??= {});
    const known = table[key];
    if (known !== undefined && known < size) return known;
    const taken = new Set(Object.values(table));
    const start = hash(`${kind}:${key}`) % size;
    let slot = start;
    // Linear probing while free slots remain; beyond the palette's size colours repeat.
    if (taken.size < size) while (taken.has(slot)) slot = (slot + 1) % size;
    table[key] = slot;
    return slot;
  }

  color(theme: ThemeColors, kind: string, key: string): string {
    const colors = palette(theme);
    return colors[this.slot(kind, key, colors.length)];
  }
}
