/**
 * Draws a Grafana dashboard's panels from Prometheus query_range results to a
 * PNG: a static page laid out on Grafana's 24-column grid, time series drawn
 * with uPlot (the chart library Grafana's own time series panel uses), in
 * headless Chromium. No Grafana runs here; the picture says so.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Dashboard, Panel } from './grafana-dashboard.js';
import { launchChromium } from '../../support/chromium.js';

const require = createRequire(import.meta.url);

export interface DrawnSeries {
  name: string;
  /** One value per timestamp of the page (null where the query had none). */
  values: Array<number | null>;
}

export interface RenderInput {
  dashboard: Dashboard;
  /** Seconds since the epoch, shared by every series. */
  timestamps: number[];
  /** Panel id -> its series, every target of the panel together. */
  series: Map<number, DrawnSeries[]>;
  /** Shown under the title: which variables had which values. */
  subtitle: string;
  caption: string;
  out: string;
  chromiumPath: string;
}

interface PanelData {
  type: string;
  title: string;
  gridPos: Panel['gridPos'];
  unit: string;
  min: number | null;
  max: number | null;
  decimals: number | null;
  thresholds: Array<{ color: string; value: number | null }>;
  series: DrawnSeries[];
}

const WIDTH = 1440;

export async function renderDashboardPng(input: RenderInput): Promise<void> {
  const panels: PanelData[] = input.dashboard.panels.map((panel) => {
    const defaults = (panel.fieldConfig?.defaults ?? {}) as NonNullable<NonNullable<Panel['fieldConfig']>['defaults']> & {
      thresholds?: { steps: Array<{ color: string; value: number | null }> };
    };
    return {
      type: panel.type,
      title: panel.title,
      gridPos: panel.gridPos,
      unit: defaults.unit ?? 'none',
      min: defaults.min ?? null,
      max: defaults.max ?? null,
      decimals: defaults.decimals ?? null,
      thresholds: defaults.thresholds?.steps ?? [],
      series: input.series.get(panel.id) ?? [],
    };
  });
  const payload = { title: input.dashboard.title, subtitle: input.subtitle, caption: input.caption, width: WIDTH, timestamps: input.timestamps, panels };
  const html = `<!doctype html><html><head><meta charset="utf-8">
<style>${readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8')}</style>
<style>${PAGE_CSS}</style>
<script>${readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8')}</script>
</head><body><script>window.PAYLOAD = ${JSON.stringify(payload).replace(/</g, '\\u003c')};</script>
<script>${PAGE_SCRIPT}</script></body></html>`;

  const browser = await launchChromium(input.chromiumPath);
  try {
    const page = await browser.newPage({ viewport: { width: WIDTH, height: 900 }, deviceScaleFactor: 1 });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.setContent(html);
    await page.waitForFunction(() => (window as unknown as { DRAWN?: boolean }).DRAWN === true, undefined, { timeout: 15_000 });
    if (errors.length > 0) throw new Error(`the dashboard page failed: ${errors.join('; ')}`);
    await page.screenshot({ path: input.out, fullPage: true });
  } finally {
    await browser.close();
  }
}

const PAGE_CSS = `
body { margin: 0; background: #111217; color: #ccccdc; font: 12px/1.4 "DejaVu Sans", Arial, sans-serif; }
header { padding: 12px 16px 4px; }
h1 { font-size: 18px; font-weight: 500; margin: 0 0 4px; color: #e0e0e8; }
.sub { color: #8e8e9a; }
.grid { position: relative; margin: 8px 16px; }
.panel { position: absolute; box-sizing: border-box; background: #181b1f; border: 1px solid #2a2d35; border-radius: 3px; padding: 6px 8px; overflow: hidden; }
.panel h2 { font-size: 13px; font-weight: 500; margin: 0 0 4px; color: #e0e0e8; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.legend { display: flex; flex-wrap: wrap; gap: 0 12px; max-height: 44px; overflow: hidden; color: #ccccdc; font-size: 11px; }
.legend span::before { content: ""; display: inline-block; width: 12px; height: 3px; margin: 0 4px 3px 0; background: var(--c); }
.stat { position: absolute; left: 0; right: 0; top: 30px; text-align: center; font-size: 34px; font-weight: 500; z-index: 1; }
.spark { position: absolute; left: 0; right: 0; bottom: 0; opacity: 0.35; }
.uplot { font-family: inherit; }
footer { margin: 8px 16px 16px; color: #8e8e9a; font-size: 11px; }
`;

// Runs in the page: plain JavaScript, no imports, reads window.PAYLOAD.
const PAGE_SCRIPT = String.raw`
(function () {
  var P = window.PAYLOAD;
  var PALETTE = ['#73BF69', '#F2CC0C', '#8AB8FF', '#FF780A', '#F2495C', '#5794F2', '#B877D9', '#96D98D', '#FFCB7D', '#C0D8FF', '#FFA6B0', '#CA95E5', '#56A64B', '#E0B400', '#3274D9', '#E02F44'];
  var CELL = 30, GAP = 8;
  // Byte axes tick at powers of two (16 MiB, 32 MiB, ...), as Grafana's do.
  var BINARY_STEPS = [];
  for (var e = 0; e < 50; e++) BINARY_STEPS.push(Math.pow(2, e));
  var gridWidth = P.width - 32;
  var col = gridWidth / 24;

  function num(v, digits) {
    if (v === 0) return '0';
    var a = Math.abs(v);
    var d = digits != null ? digits : (a >= 100 ? 0 : a >= 10 ? 1 : 2);
    return v.toFixed(d).replace(/\.0+$|(\.\d*?)0+$/, '$1');
  }
  function fmt(unit, v, digits) {
    if (v == null || isNaN(v)) return 'n/a';
    switch (unit) {
      case 'reqps': return num(v, digits) + ' req/s';
      case 'ops': return num(v, digits) + ' ops/s';
      case 'percent': return num(v, digits) + '%';
      case 'percentunit': return num(v * 100, digits) + '%';
      case 'ms': return v >= 1000 ? num(v / 1000, digits) + ' s' : num(v, digits) + ' ms';
      case 's': return v === 0 || v >= 1 ? num(v, digits) + ' s' : v >= 0.001 ? num(v * 1000, digits) + ' ms' : num(v * 1e6, digits) + ' µs';
      case 'bytes':
        var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], i = 0;
        while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
        return num(v, digits) + ' ' + units[i];
      default: return num(v, digits);
    }
  }
  function box(panel) {
    var g = panel.gridPos;
    var el = document.createElement('div');
    el.className = 'panel';
    el.style.left = (g.x * col) + 'px';
    el.style.top = (g.y * (CELL + GAP)) + 'px';
    el.style.width = (g.w * col - GAP) + 'px';
    el.style.height = (g.h * CELL + (g.h - 1) * GAP) + 'px';
    var h = document.createElement('h2');
    h.textContent = panel.title;
    el.appendChild(h);
    return el;
  }
  function lastValue(series) {
    var values = series.values;
    for (var i = values.length - 1; i >= 0; i--) if (values[i] != null && !isNaN(values[i])) return values[i];
    return null;
  }
  function colorFor(panel, v) {
    var color = '#73BF69';
    panel.thresholds.forEach(function (step) { if (step.value == null || (v != null && v >= step.value)) color = step.color; });
    var named = { green: '#73BF69', yellow: '#F2CC0C', red: '#F2495C', orange: '#FF9830' };
    return named[color] || color;
  }

  document.body.insertAdjacentHTML('afterbegin', '<header><h1></h1><div class="sub"></div></header>');
  document.querySelector('h1').textContent = P.title;
  document.querySelector('.sub').textContent = P.subtitle;
  var grid = document.createElement('div');
  grid.className = 'grid';
  document.body.appendChild(grid);
  var bottom = 0;
  var xs = P.timestamps;

  P.panels.forEach(function (panel) {
    var el = box(panel);
    grid.appendChild(el);
    var inner = { w: el.clientWidth - 16, h: el.clientHeight - 12 };
    bottom = Math.max(bottom, el.offsetTop + el.offsetHeight);
    if (panel.type === 'stat') {
      var s = panel.series[0];
      var v = s ? lastValue(s) : null;
      var value = document.createElement('div');
      value.className = 'stat';
      value.textContent = fmt(panel.unit, v, panel.decimals);
      value.style.color = colorFor(panel, v);
      el.appendChild(value);
      if (s) {
        var spark = document.createElement('div');
        spark.className = 'spark';
        el.appendChild(spark);
        new uPlot({ width: inner.w + 16, height: 48, legend: { show: false }, cursor: { show: false }, axes: [{ show: false }, { show: false }],
          scales: { x: { time: true } },
          series: [{}, { stroke: value.style.color, fill: value.style.color, width: 1 }] }, [xs, s.values], spark);
      }
      return;
    }
    var legend = document.createElement('div');
    legend.className = 'legend';
    var chart = document.createElement('div');
    el.appendChild(chart);
    el.appendChild(legend);
    panel.series.forEach(function (s, i) {
      var item = document.createElement('span');
      item.style.setProperty('--c', PALETTE[i % PALETTE.length]);
      item.textContent = s.name;
      legend.appendChild(item);
    });
    var legendHeight = Math.min(44, legend.scrollHeight);
    // Fixed ends where the panel sets min/max, as Grafana does; the data's own otherwise.
    var yRange = function (u, min, max) {
      var lo = panel.min != null ? panel.min : (min == null ? 0 : min);
      var hi = panel.max != null ? panel.max : (max == null ? 1 : max * 1.05);
      return [lo, hi > lo ? hi : lo + 1];
    };
    new uPlot({
      width: inner.w,
      height: inner.h - 22 - legendHeight,
      legend: { show: false },
      cursor: { show: false },
      scales: { x: { time: true }, y: { range: yRange } },
      axes: [
        { stroke: '#8e8e9a', grid: { stroke: '#2a2d35', width: 1 }, ticks: { stroke: '#2a2d35' }, size: 28, font: '11px DejaVu Sans, Arial, sans-serif' },
        { stroke: '#8e8e9a', grid: { stroke: '#2a2d35', width: 1 }, ticks: { stroke: '#2a2d35' }, size: 78, font: '11px DejaVu Sans, Arial, sans-serif',
          incrs: panel.unit === 'bytes' ? BINARY_STEPS : undefined,
          values: function (u, splits) { return splits.map(function (v) { return fmt(panel.unit, v); }); } },
      ],
      series: [{}].concat(panel.series.map(function (s, i) {
        var c = PALETTE[i % PALETTE.length];
        return { label: s.name, stroke: c, width: 1.25, fill: c + '1a', spanGaps: false, points: { show: false } };
      })),
    }, [xs].concat(panel.series.map(function (s) { return s.values; })), chart);
  });

  grid.style.height = bottom + 'px';
  var footer = document.createElement('footer');
  footer.textContent = P.caption;
  document.body.appendChild(footer);
  window.DRAWN = true;
})();
`;
