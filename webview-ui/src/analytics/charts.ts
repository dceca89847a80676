/**
 * The analytics panel's charts: cost per day stacked by model, agent or project (the first
 * chart), requests and tokens per model, cost by model, and routing sources as labelled
 * horizontal bars. Every series is coloured by its key (SeriesColors), never by rank. Only
 * the Chart.js parts they use are registered. Data changes go through update('none').
 */
import {
  ArcElement, BarController, BarElement, CategoryScale, Chart, DoughnutController, Legend, LinearScale, Tooltip,
  type ChartDataset, type TooltipItem,
} from 'chart.js';
import type { AnalyticsData, DailyBreakdown, DailyGroupBy } from '../../../src/protocol/webviewMessages.js';
import { currentTheme, styleScales, trackChart, withAlpha, type AnyChart, type ThemeColors } from '../charts/chartTheme.js';
import { costTickLabel } from '../charts/costAxis.js';
import type { SeriesColors } from '../charts/seriesColors.js';
import { formatPercent, sourceLabel } from '../shared/format.js';
import { formatCount, formatUsd } from '../../../src/protocol/format.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, DoughnutController, ArcElement, Tooltip, Legend);

export type ChartName = 'daily' | 'modelUsage' | 'costByModel' | 'sources';

const dayLabel = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
/** "Dec 3" for a YYYY-MM-DD (a calendar day: no zone shift). */
export function formatDay(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? date : dayLabel.format(d);
}

function describe(canvas: HTMLCanvasElement, text: string): void {
  canvas.setAttribute('aria-label', text.length > 600 ? `${text.slice(0, 600)}…` : text);
}

/** A stacked bar's breakdown, most first, for the tooltip that follows the pointer. */
function tooltipBreakdown(items: TooltipItem<'bar'>[]): string[] {
  return [...items]
    .filter((i) => (i.parsed.y ?? 0) > 0)
    .sort((a, b) => (b.parsed.y ?? 0) - (a.parsed.y ?? 0))
    .map((i) => `${i.dataset.label}: ${formatUsd(i.parsed.y)}`);
}

export class AnalyticsCharts {
  private readonly daily: AnyChart;
  private readonly modelUsage: AnyChart;
  private readonly costByModel: AnyChart;
  private readonly sources: AnyChart;
  private last: { data: AnalyticsData; groupBy: DailyGroupBy } | null = null;

  constructor(private readonly canvases: Record<ChartName, HTMLCanvasElement>, private readonly colors: SeriesColors) {
    currentTheme();
    for (const canvas of Object.values(canvases)) canvas.setAttribute('role', 'img');
    const restyle = () => (chart: AnyChart, theme: ThemeColors) => {
      styleScales(chart, theme);
      if (this.last) this.colorize(theme);
    };
    this.daily = new Chart<'bar'>(canvases.daily, {
      type: 'bar',
      data: { labels: [], datasets: [] },
      options: {
        // The tooltip follows the pointer over the whole day's column, not only a bar.
        interaction: { mode: 'index', intersect: false },
        scales: {
          x: { stacked: true, grid: { display: false }, ticks: { autoSkip: true, maxRotation: 0, autoSkipPadding: 8 } },
          y: { stacked: true, beginAtZero: true, ticks: { callback: costTickLabel, maxTicksLimit: 6 } },
        },
        plugins: {
          legend: { position: 'bottom', labels: { boxWidth: 12, boxHeight: 12 } },
          tooltip: {
            callbacks: {
              label: () => '',
              beforeBody: (items) => tooltipBreakdown(items as TooltipItem<'bar'>[]),
              footer: (items) => {
                const total = items.reduce((n, i) => n + (i.parsed.y ?? 0), 0);
                return `Total: ${formatUsd(total)}`;
              },
            },
            filter: () => true,
          },
        },
        layout: { padding: { top: 4 } },
      },
    });
    trackChart('daily', this.daily, restyle());
    this.modelUsage = new Chart(canvases.modelUsage, {
      type: 'bar',
      data: { labels: [], datasets: [{ label: 'Requests', data: [], yAxisID: 'y' }, { label: 'Tokens', data: [], yAxisID: 'y1' }] },
      options: {
        interaction: { mode: 'index', intersect: false },
        scales: {
          x: { ticks: { autoSkip: false, maxRotation: 30, callback(value) { const l = String(this.getLabelForValue(Number(value))); return l.length > 22 ? `${l.slice(0, 21)}…` : l; } } },
          // Axis names in the legend and tooltip, not as titles that crowd the ticks.
          y: { beginAtZero: true, position: 'left', ticks: { precision: 0, callback: (v) => formatCount(Number(v)) } },
          y1: { beginAtZero: true, position: 'right', grid: { drawOnChartArea: false }, ticks: { callback: (v) => formatCount(Number(v)) } },
        },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${formatCount(ctx.parsed.y ?? 0)}` } },
        },
      },
    });
    trackChart('modelUsage', this.modelUsage, restyle());
    this.costByModel = new Chart(canvases.costByModel, {
      type: 'doughnut',
      data: { labels: [], datasets: [{ label: 'Cost (USD)', data: [] }] },
      options: {
        plugins: {
          legend: { position: 'bottom', labels: { boxWidth: 12, boxHeight: 12 } },
          tooltip: { callbacks: { label: (ctx) => `${ctx.label}: ${String(ctx.label).endsWith('(price unknown)') ? 'price unknown' : formatUsd(ctx.parsed as number)}` } },
        },
      },
    });
    trackChart('costByModel', this.costByModel, (chart, theme) => {
      const legend = chart.options.plugins?.legend;
      if (legend) legend.labels = { ...(legend.labels ?? {}), color: theme.foreground };
      if (this.last) this.colorize(theme);
    });
    this.sources = new Chart(canvases.sources, {
      type: 'bar',
      data: { labels: [], datasets: [{ label: 'Requests', data: [] }] },
      options: {
        indexAxis: 'y',
        scales: { x: { beginAtZero: true, ticks: { precision: 0, callback: (v) => formatCount(Number(v)) } }, y: { grid: { display: false } } },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: (ctx) => this.sourceTooltip(ctx.dataIndex) } },
        },
      },
    });
    trackChart('sources', this.sources, restyle());
  }

  private sourceTooltip(index: number): string {
    const s = this.last?.data.sources[index];
    if (!s) return '';
    return `${formatCount(s.requests)} requests · ${formatUsd(s.cost ?? null)} · ${formatPercent(s.share ?? null)} of requests`;
  }

  /** Colours of every series from its key (the theme changed, or the data did). */
  private colorize(theme: ThemeColors): void {
    if (!this.last) return;
    const { data, groupBy } = this.last;
    const daily = data.daily?.[groupBy];
    for (const ds of this.daily.data.datasets as (ChartDataset<'bar'> & { key?: string })[]) {
      ds.backgroundColor = this.colors.color(theme, groupBy, ds.key ?? '');
      ds.borderColor = theme.background;
      ds.borderWidth = daily && daily.keys.length > 1 ? { top: 1 } as never : 0;
    }
    const models = this.modelUsage.data.labels as string[];
    const [requests, tokens] = this.modelUsage.data.datasets as ChartDataset<'bar'>[];
    // Requests in the model's colour, tokens in the same colour lighter: one colour per model everywhere.
    requests.backgroundColor = models.map((m) => this.colors.color(theme, 'model', m));
    tokens.backgroundColor = models.map((m) => withAlpha(this.colors.color(theme, 'model', m), 0.45));
    tokens.borderColor = models.map((m) => this.colors.color(theme, 'model', m));
    tokens.borderWidth = 1;
    const costModels = (this.costByModel.data as { modelKeys?: string[] }).modelKeys ?? [];
    const slice = this.costByModel.data.datasets[0] as ChartDataset<'doughnut'>;
    slice.backgroundColor = costModels.map((m) => this.colors.color(theme, 'model', m));
    slice.borderColor = theme.background;
    const bars = this.sources.data.datasets[0] as ChartDataset<'bar'>;
    bars.backgroundColor = data.sources.map((s) => this.colors.color(theme, 'source', s.source));
  }

  update(data: AnalyticsData, groupBy: DailyGroupBy): void {
    const theme = currentTheme();
    this.last = { data, groupBy };
    this.updateDaily(data.daily?.[groupBy] ?? null);
    const bars = [...data.models].sort((a, b) => b.requests - a.requests);
    this.modelUsage.data.labels = bars.map((m) => m.model);
    this.modelUsage.data.datasets[0].data = bars.map((m) => m.requests);
    this.modelUsage.data.datasets[1].data = bars.map((m) => m.tokens);
    describe(this.canvases.modelUsage, `Requests and tokens per model: ${bars.map((m) => `${m.model} ${formatCount(m.requests)} requests, ${formatCount(m.tokens)} tokens`).join('; ') || 'none'}`);
    // Priced models by cost; a model without a price is its own entry, never left out.
    const priced = data.models.filter((m) => m.cost !== null && m.priceKnown !== false).sort((a, b) => (b.cost ?? 0) - (a.cost ?? 0));
    const unpriced = data.models.filter((m) => m.cost === null || m.priceKnown === false);
    const costKeys = [...priced, ...unpriced].map((m) => m.model);
    this.costByModel.data.labels = [...priced.map((m) => m.model), ...unpriced.map((m) => `${m.model} (price unknown)`)];
    (this.costByModel.data as { modelKeys?: string[] }).modelKeys = costKeys;
    this.costByModel.data.datasets[0].data = [...priced.map((m) => m.cost ?? 0), ...unpriced.map(() => 0)];
    describe(this.canvases.costByModel, `Cost by model: ${[...priced.map((m) => `${m.model} ${formatUsd(m.cost)}`), ...unpriced.map((m) => `${m.model} price unknown`)].join('; ') || 'none'}`);
    this.sources.data.labels = data.sources.map((s) => sourceLabel(s.source));
    this.sources.data.datasets[0].data = data.sources.map((s) => s.requests);
    describe(this.canvases.sources, `Routing decision sources: ${data.sources.map((s) => `${sourceLabel(s.source)} ${s.requests} requests`).join('; ') || 'none'}`);
    this.colorize(theme);
    for (const chart of [this.daily, this.modelUsage, this.costByModel, this.sources]) chart.update();
  }

  private updateDaily(daily: DailyBreakdown | null): void {
    const chart = this.daily;
    if (!daily) {
      chart.data.labels = [];
      chart.data.datasets = [];
      describe(this.canvases.daily, 'Cost per day: not available from this gateway');
      return;
    }
    chart.data.labels = daily.days.map((d) => formatDay(d.date));
    chart.data.datasets = daily.keys.map((k) => ({
      key: k.key,
      label: k.label,
      data: daily.days.map((d) => d.byKey[k.key]?.cost ?? 0),
      stack: 'cost',
    }));
    describe(this.canvases.daily, `Cost per day by ${daily.groupBy}: ${daily.days.filter((d) => (d.cost ?? 0) > 0).map((d) => `${formatDay(d.date)} ${formatUsd(d.cost)}`).join('; ') || 'no cost'}`);
  }
}
