// The level chart of a station's page (uPlot): pure shaping of `/stations/{id}/levels` into
// uPlot's columns, and the chart's options (threshold bands and lines, QC marks, local time).
//
// QC (QARTOD at the gateway): a bucket's mean, min and max use good readings only; the readings
// QC flagged suspect or failed are counts beside them. A bucket holding any is marked on the
// chart at its level (an open orange ring for suspect, a red cross for failed), so doubtful data
// stays visible rather than silently averaged away; a bucket of suspect readings only has no
// level of its own and is marked at its neighbour's.

const SERIES = {x: 0, mean: 1, min: 2, max: 3, suspect: 4, fail: 5};
const LINE = '#1f4e9c';
const RANGE_LINE = '#6b8fc9';
const SUSPECT = '#a35200';
const FAIL = '#b00020';

function mid(b) {
  return (Date.parse(b.start) + Date.parse(b.end)) / 2000;
}

function nearestMean(buckets, i) {
  for (let d = 1; d < buckets.length; d++) {
    for (const j of [i - d, i + d]) {
      if (j >= 0 && j < buckets.length && buckets[j].mean_cm != null) return buckets[j].mean_cm;
    }
  }
  return null;
}

/** uPlot's columns [x, mean, min, max, suspect, fail]; a null row where buckets are missing, so lines break at gaps. */
export function levelData(series) {
  const cols = [[], [], [], [], [], []];
  const b = series.data;
  const every = series.every_s;
  b.forEach((bucket, i) => {
    if (i > 0 && Date.parse(bucket.start) - Date.parse(b[i - 1].start) > every * 1000) {
      const gap = Date.parse(b[i - 1].end) / 1000;
      cols.forEach((c, k) => c.push(k === 0 ? gap : null));
    }
    const level = bucket.mean_cm ?? nearestMean(b, i);
    cols[SERIES.x].push(mid(bucket));
    cols[SERIES.mean].push(bucket.mean_cm);
    cols[SERIES.min].push(bucket.min_cm);
    cols[SERIES.max].push(bucket.max_cm);
    cols[SERIES.suspect].push(bucket.qc_suspect > 0 && !bucket.qc_fail ? level : null);
    cols[SERIES.fail].push(bucket.qc_fail > 0 ? level : null);
  });
  return cols;
}

export function qcTotals(series) {
  const sum = (k) => series.data.reduce((n, b) => n + (b[k] || 0), 0);
  return {suspect: sum('qc_suspect'), fail: sum('qc_fail'), missing: sum('qc_missing')};
}

function rgba(hex, alpha) {
  const h = hex.replace('#', '');
  const full = h.length === 3 ? [...h].map((c) => c + c).join('') : h;
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16));
  return `rgba(${r},${g},${b},${alpha})`;
}

/** The y range: the data, and at least the next threshold above it (how far the water is from it). */
export function yRange(min, max, t) {
  const bounds = [t.siaga3_cm, t.siaga2_cm, t.siaga1_cm];
  if (min == null || max == null) return [0, t.siaga1_cm * 1.1];
  const next = bounds.find((b) => b > max) ?? max;
  const hi = Math.max(max, next);
  const lo = Math.min(min, hi);
  const pad = Math.max((hi - lo) * 0.08, 5);
  return [Math.max(0, lo - pad), hi + pad];
}

function crosses(u, si, i0, i1) {
  const stroke = new Path2D();
  const s = 5 * devicePixelRatio;
  const xs = u.data[0];
  const ys = u.data[si];
  for (let i = i0; i <= i1; i++) {
    if (ys[i] == null) continue;
    const x = u.valToPos(xs[i], 'x', true);
    const y = u.valToPos(ys[i], 'y', true);
    stroke.moveTo(x - s, y - s); stroke.lineTo(x + s, y + s);
    stroke.moveTo(x - s, y + s); stroke.lineTo(x + s, y - s);
  }
  return {stroke, fill: null};
}

/** Shaded bands from each threshold up, a dashed line at each with its label ("SIAGA III 200 cm"). */
function thresholdPainter(ctx, current) {
  const levels = (t) => [[3, t.siaga3_cm], [2, t.siaga2_cm], [1, t.siaga1_cm]];
  return {
    bands(u) {
      const t = current().series.thresholds;
      const {left, top, width, height} = u.bbox;
      const c = u.ctx;
      c.save();
      levels(t).forEach(([level, cm], i) => {
        const upper = i < 2 ? levels(t)[i + 1][1] : Infinity;
        const y0 = Math.max(top, Math.min(top + height, u.valToPos(cm, 'y', true)));
        const y1 = upper === Infinity ? top : Math.max(top, u.valToPos(upper, 'y', true));
        if (y0 > y1) {
          c.globalAlpha = 0.16; // any CSS colour the shell gives, made faint
          c.fillStyle = ctx.siagaColour(level);
          c.fillRect(left, y1, width, y0 - y1);
        }
      });
      c.restore();
    },
    lines(u) {
      const t = current().series.thresholds;
      const {left, top, width, height} = u.bbox;
      const c = u.ctx;
      const px = devicePixelRatio;
      c.save();
      c.font = `bold ${11 * px}px system-ui, sans-serif`;
      c.textAlign = 'right';
      c.textBaseline = 'bottom';
      for (const [level, cm] of levels(t)) {
        const y = u.valToPos(cm, 'y', true);
        if (y < top || y > top + height) continue;
        c.strokeStyle = ctx.siagaColour(level);
        c.lineWidth = 2 * px;
        c.setLineDash([6 * px, 4 * px]);
        c.beginPath(); c.moveTo(left, y); c.lineTo(left + width, y); c.stroke();
        const label = `${ctx.siagaLabel(level)} ${Math.round(cm)} cm`;
        c.lineWidth = 3 * px;
        c.setLineDash([]);
        c.strokeStyle = '#fff';
        c.strokeText(label, left + width - 4 * px, y - 2 * px);
        c.fillStyle = '#111';
        c.fillText(label, left + width - 4 * px, y - 2 * px);
      }
      c.restore();
    },
  };
}

/** Time-axis labels in the tenant's zone, 24-hour: "14:00", the date under the first and each midnight, dates alone for days. */
export function timeLabels(tz) {
  const clock = new Intl.DateTimeFormat('en-GB', {timeZone: tz, hour: '2-digit', minute: '2-digit', hourCycle: 'h23'});
  const day = new Intl.DateTimeFormat('en-GB', {timeZone: tz, day: '2-digit', month: '2-digit'});
  return (u, splits, axisIdx, space, incr) => {
    let lastDay = null;
    return splits.map((ts) => {
      const at = new Date(ts * 1000);
      const date = day.format(at);
      if (incr >= 86400) return date;
      const label = date !== lastDay ? `${clock.format(at)}\n${date}` : clock.format(at);
      lastDay = date;
      return label;
    });
  };
}

/** uPlot options; `current()` gives the series on the chart (thresholds are drawn from it) and the range asked for. */
export function chartOptions(ctx, current) {
  const cm = (u, v) => (v == null ? '–' : `${Math.round(v * 10) / 10} cm`);
  const flag = (u, v) => (v == null ? '–' : '●');
  const paint = thresholdPainter(ctx, current);
  return {
    height: 320,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), ctx.tz),
    scales: {
      // The whole range asked for, so a station's silence shows as empty time, not as a zoom.
      x: {time: true, range: () => [Date.parse(current().series.start) / 1000, Date.parse(current().series.end) / 1000]},
      y: {range: (u, min, max) => yRange(min, max, current().series.thresholds)},
    },
    axes: [{values: timeLabels(ctx.tz), size: 52}, {label: 'cm', size: 60}],
    series: [
      {label: ctx.t('station.time'), value: (u, ts) => (ts == null ? '–' : ctx.fmtTime(new Date(ts * 1000).toISOString(), {date: true}))},
      {label: ctx.t('station.level'), stroke: LINE, width: 2, value: cm},
      {label: ctx.t('station.min'), stroke: RANGE_LINE, width: 1, dash: [4, 4], value: cm},
      {label: ctx.t('station.max'), stroke: RANGE_LINE, width: 1, dash: [4, 4], value: cm},
      {label: ctx.t('station.suspect'), stroke: SUSPECT, width: 2, paths: () => null, value: flag,
        points: {show: true, size: 11, width: 2, stroke: SUSPECT, fill: '#fff'}},
      {label: ctx.t('station.fail'), stroke: FAIL, width: 2, paths: () => null, value: flag,
        points: {show: true, size: 11, width: 2, stroke: FAIL, fill: FAIL, paths: crosses}},
    ],
    bands: [{series: [SERIES.max, SERIES.min], fill: rgba(LINE, 0.08)}],
    hooks: {drawClear: [paint.bands], draw: [paint.lines]},
  };
}
