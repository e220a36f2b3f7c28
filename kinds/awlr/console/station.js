// A station's page: its level over 24 hours, 7 or 30 days (uPlot) with the Siaga thresholds as
// shaded bands and labelled lines, buckets holding QC-suspect or failed readings marked apart,
// times on the axis in the tenant's zone, and the same numbers as a table for those who do not
// read charts.

import {levelText, loadStyles, siagaBadge, trendCell} from './marks.js?v={{build}}';
import {chartOptions, levelData, qcTotals} from './level_chart.js?v={{build}}';

/** Ranges: span and bucket width (at most a few hundred buckets each, far under the API's limit). */
export const RANGES = {
  '24h': {span_s: 24 * 3600, every_s: 600, label: 'station.r24h'},
  '7d': {span_s: 7 * 86400, every_s: 3600, label: 'station.r7d'},
  '30d': {span_s: 30 * 86400, every_s: 6 * 3600, label: 'station.r30d'},
};
/** Indonesian zones have no daylight saving: a fixed offset each (hours east of UTC). */
const ZONE_OFFSET_H = {'Asia/Jakarta': 7, 'Asia/Makassar': 8, 'Asia/Jayapura': 9};
const REFRESH_MS = 60_000;

/**
 * The query of a range ending at `endMs`: `start` aligned to whole buckets from local midnight
 * (as the API aligns its own default), so 6-hour buckets start at 00, 06, 12, 18 local time.
 */
export function rangeQuery(range, endMs, tz) {
  const every = range.every_s * 1000;
  const offset = (ZONE_OFFSET_H[tz] ?? 7) * 3600_000;
  const start = Math.floor((endMs - range.span_s * 1000 + offset) / every) * every - offset;
  return {start: new Date(start).toISOString(), end: new Date(endMs).toISOString(), every: `${range.every_s}s`};
}

function thresholdLegend(ctx, thresholds) {
  const items = [[3, thresholds.siaga3_cm], [2, thresholds.siaga2_cm], [1, thresholds.siaga1_cm]];
  return ctx.h('section', {class: 'awlr-thresholds', 'aria-labelledby': 'thresholds-h'},
    ctx.h('h2', {id: 'thresholds-h'}, ctx.t('station.thresholds')),
    ctx.h('ul', {},
      ...items.map(([level, cm]) => ctx.h('li', {'data-testid': 'threshold', 'data-siaga': String(level)},
        siagaBadge(ctx, level), ' ', ctx.t('station.threshold', {cm: Math.round(cm)})))),
    ctx.h('p', {class: 'awlr-source'}, ctx.t('station.source', {source: thresholds.source})));
}

function dataTable(ctx, series) {
  const cols = ['station.time', 'station.level', 'station.min', 'station.max', 'station.good', 'station.suspectCol', 'station.failCol', 'station.missingCol'];
  const rows = [...series.data].reverse().map((b) => ctx.h('tr', {},
    ctx.h('th', {scope: 'row'}, ctx.fmtTime(b.start, {date: true})),
    ...[b.mean_cm, b.min_cm, b.max_cm].map((v) => ctx.h('td', {class: 'awlr-num'}, levelText(ctx, v))),
    ...[b.qc_good, b.qc_suspect, b.qc_fail, b.qc_missing].map((v) => ctx.h('td', {class: 'awlr-num'}, String(v)))));
  return ctx.h('table', {class: 'awlr-table'},
    ctx.h('thead', {}, ctx.h('tr', {}, ...cols.map((k) => ctx.h('th', {scope: 'col'}, ctx.t(k))))),
    ctx.h('tbody', {}, ...rows));
}

export default {
  id: 'station',
  nav: false,
  title: {id: 'Stasiun', en: 'Station'},
  roles: 'STATION_READERS',
  async render(el, ctx, params) {
    await loadStyles();
    const id = params[0] || '';
    let station;
    try {
      station = await ctx.api(`/stations/${encodeURIComponent(id)}`);
    } catch (err) {
      if (!(err instanceof ctx.ApiError) || err.status !== 404) throw err;
      el.append(ctx.h('h1', {}, ctx.t('station.notFound')),
        ctx.h('p', {}, ctx.h('a', {href: '#/rivers'}, ctx.t('station.back'))));
      return undefined;
    }
    ctx.setTitle(station.name);

    let range = RANGES['24h'];
    const buttons = Object.entries(RANGES).map(([key, r]) => ctx.h('button', {
      type: 'button', class: 'awlr-range', 'data-range': key, 'aria-pressed': String(r === range),
      'on:click': () => { range = r; update(); },
    }, ctx.t(r.label)));
    const chartEl = ctx.h('div', {class: 'awlr-chart', role: 'img', 'aria-label': ctx.t('station.chart', {name: station.name})});
    const note = ctx.h('p', {class: 'awlr-note', 'aria-live': 'polite'});
    const qc = ctx.h('p', {class: 'awlr-qc', 'data-testid': 'qc-summary'});
    const tableBox = ctx.h('div', {class: 'awlr-table-wrap', tabindex: 0, role: 'region', 'aria-label': ctx.t('station.table')});
    const details = ctx.h('details', {}, ctx.h('summary', {}, ctx.t('station.table')), tableBox);

    el.append(
      ctx.h('p', {class: 'awlr-back'}, ctx.h('a', {href: '#/rivers'}, ctx.t('station.back'))),
      ctx.h('h1', {}, station.name),
      ctx.h('dl', {class: 'awlr-facts'},
        ctx.h('dt', {}, ctx.t('col.river')), ctx.h('dd', {}, station.river),
        ctx.h('dt', {}, ctx.t('col.level')), ctx.h('dd', {}, levelText(ctx, station.last_level_cm)),
        ctx.h('dt', {}, ctx.t('col.siaga')), ctx.h('dd', {}, siagaBadge(ctx, station.siaga)),
        ctx.h('dt', {}, ctx.t('col.trend')), ctx.h('dd', {}, trendCell(ctx, station.trend, station.trend_cm_per_h)),
        ctx.h('dt', {}, ctx.t('col.updated')),
        ctx.h('dd', {}, station.last_seen_at ? ctx.fmtTime(station.last_seen_at, {date: true}) : '–')),
      ctx.h('div', {class: 'awlr-ranges', role: 'group', 'aria-label': ctx.t('station.range')}, ...buttons),
      note, chartEl, qc, thresholdLegend(ctx, station.thresholds), details);

    let chart = null;
    let current = null; // {series, data} on the chart
    const update = async () => {
      for (const b of buttons) b.setAttribute('aria-pressed', String(RANGES[b.dataset.range] === range));
      const now = Date.now();
      const last = station.last_seen_at ? Date.parse(station.last_seen_at) : null;
      // A station silent for longer than the range: show its last data, and say so.
      const stale = last != null && last < now - range.span_s * 1000;
      const endMs = stale ? last + range.every_s * 1000 : now;
      const series = await ctx.api(`/stations/${encodeURIComponent(id)}/levels`, {query: rangeQuery(range, endMs, ctx.tz)});
      const data = levelData(series);
      current = {series, data};
      if (chart) {
        chart.setData(data);
      } else {
        chart = ctx.chart(chartEl, chartOptions(ctx, () => current), data);
      }
      note.textContent = stale ? ctx.t('station.stale', {time: ctx.fmtTime(station.last_seen_at, {date: true})})
        : series.data.length ? '' : ctx.t('station.empty');
      const totals = qcTotals(series);
      qc.textContent = ctx.t('station.qc', totals);
      qc.dataset.suspect = String(totals.suspect);
      qc.dataset.fail = String(totals.fail);
      if (details.open) tableBox.replaceChildren(dataTable(ctx, series));
      el.dataset.range = Object.keys(RANGES).find((k) => RANGES[k] === range);
    };
    details.addEventListener('toggle', () => {
      if (details.open && current) tableBox.replaceChildren(dataTable(ctx, current.series));
    });
    await update();
    const timer = setInterval(() => update().catch(() => {}), REFRESH_MS);
    return () => clearInterval(timer); // the shell destroys the chart
  },
};
