/**
 * The analytics panel's four charts. Only the Chart.js parts they use are registered, so
 * the rest of Chart.js is left out of the bundle. Data changes go through update('none'):
 * no animation, no re-layout of the legend unless labels change.
 */
import {
  ArcElement, BarController, BarElement, CategoryScale, Chart, DoughnutController, Filler, Legend, LinearScale,
  LineController, LineElement, PieController, PointElement, Tooltip, type ChartDataset,
} from 'chart.js';
import type { AnalyticsData } from '../../../src/protocol/webviewMessages.js';
import { currentTheme, seriesColor, styleScales, trackChart, withAlpha, type AnyChart, type ThemeColors } from '../charts/chartTheme.js';
import { costTickLabel } from '../charts/costAxis.js';
import { formatBucket, formatCost, formatTokens, sourceLabel } from '../shared/format.js';
import { bucketSizeMs } from './model.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, DoughnutController, PieController, ArcElement,
  LineController, LineElement, PointElement, Filler, Tooltip, Legend);

/** Slices beyond this many are summed into "Other" (a month can see many models). */
const MAX_SLICES = 8;
const MAX_BARS = 12;

export type ChartName = 'modelUsage' | 'costByModel' | 'costOverTime' | 'sources';


function topN<T>(items: T[], n: number, value: (t: T) => number, label: (t: T) => string): { labels: string[]; values: number[] } {
  const sorted = [...items].sort((a, b) => value(b) - value(a));
  const head = sorted.slice(0, n);
  const labels = head.map(label);
  const values = head.map(value);
  const rest = sorted.slice(n).reduce((sum, t) => sum + value(t), 0);
  if (sorted.length > n) {
    labels.push('Other');
    values.push(rest);
  }
  return { labels, values };
}

/** Replaces a chart's labels and data in place and redraws without animation. */
function setData(chart: AnyChart, labels: string[], data: number[][], beforeDraw?: (chart: AnyChart) => void): void {
  chart.data.labels = labels;
  chart.data.datasets.forEach((dataset: { data: unknown[] }, i: number) => {
    dataset.data = data[i] ?? [];
  });
  beforeDraw?.(chart);
  chart.update('none');
}

function sliceColors(chart: AnyChart, theme: ThemeColors): void {
  const n = chart.data.labels?.length ?? 0;
  for (const dataset of chart.data.datasets as ChartDataset<'doughnut' | 'pie'>[]) {
    dataset.backgroundColor = Array.from({ length: n }, (_, i) => seriesColor(theme, i));
    dataset.borderColor = theme.background;
    dataset.hoverBorderColor = theme.foreground;
  }
  const legend = chart.options.plugins?.legend;
  if (legend) legend.labels = { ...(legend.labels ?? {}), color: theme.foreground };
}

function describe(canvas: HTMLCanvasElement, text: string): void {
  canvas.setAttribute('aria-label', text.length > 600 ? `${text.slice(0, 600)}…` : text);
}

function styleBars(chart: AnyChart, theme: ThemeColors): void {
  styleScales(chart, theme);
  const [requests, tokens] = chart.data.datasets as ChartDataset<'bar'>[];
  requests.backgroundColor = seriesColor(theme, 0);
  tokens.backgroundColor = withAlpha(seriesColor(theme, 1), 0.8);
}

function styleLine(chart: AnyChart, theme: ThemeColors): void {
  styleScales(chart, theme);
  const line = chart.data.datasets[0] as ChartDataset<'line'>;
  line.borderColor = seriesColor(theme, 0);
  line.backgroundColor = withAlpha(seriesColor(theme, 0), 0.2);
  line.pointBackgroundColor = seriesColor(theme, 0);
}

export class AnalyticsCharts {
  private readonly modelUsage: AnyChart;
  private readonly costByModel: AnyChart;
  private readonly costOverTime: AnyChart;
  private readonly sources: AnyChart;

  constructor(private readonly canvases: Record<ChartName, HTMLCanvasElement>) {
    currentTheme();
    for (const canvas of Object.values(canvases)) canvas.setAttribute('role', 'img');
    this.modelUsage = new Chart(canvases.modelUsage, {
      type: 'bar',
      data: { labels: [], datasets: [{ label: 'Requests', data: [], yAxisID: 'y' }, { label: 'Tokens', data: [], yAxisID: 'y1' }] },
      options: {
        scales: {
          y: { beginAtZero: true, position: 'left', title: { display: true, text: 'Requests' }, ticks: { precision: 0 } },
          y1: { beginAtZero: true, position: 'right', title: { display: true, text: 'Tokens' }, grid: { drawOnChartArea: false } },
        },
        plugins: { legend: { position: 'bottom' } },
      },
    });
    trackChart('modelUsage', this.modelUsage, styleBars);
    this.costByModel = new Chart(canvases.costByModel, {
      type: 'doughnut',
      data: { labels: [], datasets: [{ label: 'Cost (USD)', data: [] }] },
      options: {
        plugins: {
          legend: { position: 'bottom' },
          tooltip: { callbacks: { label: (ctx) => `${ctx.label}: ${formatCost(ctx.parsed as number)}` } },
        },
      },
    });
    trackChart('costByModel', this.costByModel, sliceColors);
    this.costOverTime = new Chart(canvases.costOverTime, {
      type: 'line',
      data: { labels: [], datasets: [{ label: 'Cost (USD)', data: [], fill: true, tension: 0.25, pointRadius: 2 }] },
      options: {
        scales: { y: { beginAtZero: true, ticks: { callback: costTickLabel } }, x: {} },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: (ctx) => formatCost(ctx.parsed.y) } },
        },
      },
    });
    trackChart('costOverTime', this.costOverTime, styleLine);
    this.sources = new Chart(canvases.sources, {
      type: 'pie',
      data: { labels: [], datasets: [{ label: 'Requests', data: [] }] },
      options: { plugins: { legend: { position: 'bottom' } } },
    });
    trackChart('sources', this.sources, sliceColors);
  }

  update(data: AnalyticsData, parts: Partial<Record<'models' | 'timeseries' | 'sources', boolean>> = { models: true, timeseries: true, sources: true }): void {
    const theme = currentTheme();
    if (parts.models) {
      const bars = [...data.models].sort((a, b) => b.requests - a.requests).slice(0, MAX_BARS);
      setData(this.modelUsage, bars.map((m) => m.model), [bars.map((m) => m.requests), bars.map((m) => m.tokens)]);
      describe(this.canvases.modelUsage, `Requests and tokens per model: ${bars.map((m) => `${m.model} ${m.requests} requests, ${formatTokens(m.tokens)} tokens`).join('; ') || 'none'}`);
      const slices = topN(data.models.filter((m) => (m.cost ?? 0) > 0), MAX_SLICES, (m) => m.cost ?? 0, (m) => m.model);
      setData(this.costByModel, slices.labels, [slices.values], (chart) => sliceColors(chart, theme));
      describe(this.canvases.costByModel, `Cost by model: ${slices.labels.map((l, i) => `${l} ${formatCost(slices.values[i])}`).join('; ') || 'none'}`);
    }
    if (parts.timeseries) {
      const bucket = bucketSizeMs(data) >= 24 * 3_600_000 ? 'day' : 'hour';
      setData(this.costOverTime, data.timeseries.map((p) => formatBucket(p.bucketStart, bucket)), [data.timeseries.map((p) => p.cost)]);
      describe(this.canvases.costOverTime, `Cost over time, per ${bucket}: ${data.timeseries.filter((p) => p.cost > 0).map((p) => `${formatBucket(p.bucketStart, bucket)} ${formatCost(p.cost)}`).join('; ') || 'no cost'}`);
    }
    if (parts.sources) {
      const slices = topN(data.sources, MAX_SLICES, (s) => s.requests, (s) => sourceLabel(s.source));
      setData(this.sources, slices.labels, [slices.values], (chart) => sliceColors(chart, theme));
      describe(this.canvases.sources, `Routing decision sources: ${slices.labels.map((l, i) => `${l} ${slices.values[i]} requests`).join('; ') || 'none'}`);
    }
  }
}
