/**
 * Chart.js glue shared by the views: colours from the --vscode-* variables of the current
 * theme (re-read when VS Code switches theme: it rewrites the body's class and the
 * variables), defaults without animation (live updates of large ranges stay cheap), and a
 * read-only look at each chart's data for tests. Each view registers only the Chart.js
 * controllers, elements and scales it uses.
 */
import { Chart, type ChartTypeRegistry } from 'chart.js';

/**
 * A chart of any of the registered types: one Chart<T> per type, since Chart.js's options
 * (callbacks that take a context of type T) make Chart<'bar'> no Chart<'bar' | 'line'>.
 */
export type AnyChart = { [T in keyof ChartTypeRegistry]: Chart<T> }[keyof ChartTypeRegistry];

export interface ThemeColors {
  foreground: string;
  muted: string;
  grid: string;
  background: string;
  /** Series colours in order: blue, green, yellow, orange, purple, red. */
  series: string[];
  fontFamily: string;
  fontSize: number;
}

function cssVar(style: CSSStyleDeclaration, ...names: string[]): string {
  for (const name of names) {
    const value = style.getPropertyValue(name).trim();
    if (value) return value;
  }
  return '';
}

export function readTheme(): ThemeColors {
  const style = getComputedStyle(document.body);
  // CanvasText: the system text colour, only when the page has no theme variables at all.
  const foreground = cssVar(style, '--vscode-charts-foreground', '--vscode-foreground') || 'CanvasText';
  const series = ['blue', 'green', 'yellow', 'orange', 'purple', 'red']
    .map((c) => cssVar(style, `--vscode-charts-${c}`))
    .filter(Boolean);
  return {
    foreground,
    muted: cssVar(style, '--vscode-descriptionForeground') || foreground,
    grid: cssVar(style, '--vscode-charts-lines', '--vscode-widget-border', '--vscode-panel-border') || foreground,
    background: cssVar(style, '--vscode-editor-background', '--vscode-sideBar-background') || 'Canvas',
    series: series.length ? series : [foreground],
    fontFamily: cssVar(style, '--vscode-font-family') || 'sans-serif',
    fontSize: Number.parseFloat(cssVar(style, '--vscode-font-size')) || 13,
  };
}

export function seriesColor(theme: ThemeColors, index: number): string {
  return theme.series[index % theme.series.length];
}

/** The same colour with an alpha, for fills ("#rrggbb" and "rgb()" forms; others as they are). */
export function withAlpha(color: string, alpha: number): string {
  const hex = /^#([0-9a-f]{6})$/i.exec(color);
  if (hex) return `#${hex[1]}${Math.round(alpha * 255).toString(16).padStart(2, '0')}`;
  const short = /^#([0-9a-f])([0-9a-f])([0-9a-f])$/i.exec(color);
  if (short) return `#${short[1]}${short[1]}${short[2]}${short[2]}${short[3]}${short[3]}${Math.round(alpha * 255).toString(16).padStart(2, '0')}`;
  const rgb = /^rgba?\(([^,]+),([^,]+),([^,)]+)/i.exec(color);
  if (rgb) return `rgba(${rgb[1].trim()}, ${rgb[2].trim()}, ${rgb[3].trim()}, ${alpha})`;
  return color;
}

function applyDefaults(theme: ThemeColors): void {
  Chart.defaults.color = theme.foreground;
  Chart.defaults.borderColor = theme.grid;
  Chart.defaults.font.family = theme.fontFamily;
  Chart.defaults.font.size = Math.max(10, theme.fontSize - 1);
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.responsive = true;
}

type Restyle = (chart: AnyChart, theme: ThemeColors) => void;
const tracked = new Map<string, { chart: AnyChart; restyle: Restyle }>();
let theme: ThemeColors | null = null;

export function currentTheme(): ThemeColors {
  if (!theme) {
    theme = readTheme();
    applyDefaults(theme);
    watchTheme();
  }
  return theme;
}

/** Keeps a chart's colours in step with the theme; restyle sets them from a ThemeColors. */
export function trackChart(name: string, chart: AnyChart, restyle: Restyle): void {
  tracked.set(name, { chart, restyle });
  restyle(chart, currentTheme());
  // Not update('none'): in that mode Chart.js keeps the elements' shared options (their
  // colours) as they were. Animations are off, so a full update costs no animation.
  chart.update();
}

function restyleAll(): void {
  theme = readTheme();
  applyDefaults(theme);
  for (const { chart, restyle } of tracked.values()) {
    chart.options.color = theme.foreground;
    restyle(chart, theme);
    chart.update();
  }
}

let watching = false;
function watchTheme(): void {
  if (watching) return;
  watching = true;
  let queued = false;
  const observer = new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      restyleAll();
    });
  });
  observer.observe(document.body, { attributes: true, attributeFilter: ['class', 'style', 'data-vscode-theme-kind'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
}

/** Axis and legend colours of a chart with x/y scales. */
export function styleScales(chart: AnyChart, theme: ThemeColors): void {
  const scales = chart.options.scales ?? {};
  for (const scale of Object.values(scales)) {
    if (!scale) continue;
    const s = scale as { ticks?: { color?: unknown }; grid?: { color?: unknown }; border?: { color?: unknown }; title?: { color?: unknown } };
    s.ticks = { ...(s.ticks ?? {}), color: theme.foreground };
    s.grid = { ...(s.grid ?? {}), color: withAlpha(theme.grid, 0.35) };
    s.border = { ...(s.border ?? {}), color: theme.grid };
    if (s.title) s.title = { ...s.title, color: theme.muted };
  }
  const legend = chart.options.plugins?.legend;
  if (legend) legend.labels = { ...(legend.labels ?? {}), color: theme.foreground };
}

// Tests read what each chart shows (labels, data, colours), never the chart objects themselves.
(window as unknown as { __conduitCharts?: () => Record<string, unknown> }).__conduitCharts = () => {
  const out: Record<string, unknown> = {};
  for (const [name, { chart }] of tracked) {
    out[name] = {
      type: (chart.config as { type?: string }).type,
      labels: [...(chart.data.labels ?? [])],
      datasets: chart.data.datasets.map((d) => ({
        label: d.label ?? null, data: [...d.data], backgroundColor: d.backgroundColor ?? null, borderColor: d.borderColor ?? null,
      })),
      // What the tooltip shows now (title, breakdown lines, footer), or null when it is hidden.
      tooltip: chart.tooltip && chart.tooltip.opacity > 0 && chart.tooltip.getActiveElements().length
        ? { title: [...chart.tooltip.title], lines: [...chart.tooltip.beforeBody, ...chart.tooltip.body.flatMap((b) => b.lines)].filter(Boolean), footer: [...chart.tooltip.footer] }
        : null,
      // Each axis's labels as drawn, with the box each takes on the canvas (CSS pixels).
      axes: Object.fromEntries(Object.entries(chart.scales).map(([id, scale]) => [id, scale.getLabelItems().map((item) => {
        const text = String(item.label);
        chart.ctx.save();
        chart.ctx.font = (item.font as { string: string }).string;
        const width = chart.ctx.measureText(text).width;
        chart.ctx.restore();
        const [x, y] = item.options.translation ?? [0, 0];
        const left = item.options.textAlign === 'center' ? x - width / 2 : item.options.textAlign === 'right' ? x - width : x;
        return { text, left, right: left + width, y };
      })])),
    };
  }
  return out;
};
