// Siaga marks shared by the river pages: the map's station markers, trend words and arrows,
// the table cells that say the same in text, and the kind's stylesheet.
//
// Markers are circles on ONE canvas (L.canvas), not DOM elements: 500 stations are 500 arcs
// drawn in a frame, where 500 divIcons would be 500 elements to lay out. Canvas marks have no
// DOM, so the meaning that colour carries is drawn as text too (the Siaga number in Roman
// numerals inside the circle, the trend arrow beside it), the map container carries the count
// (data-station-count), and the list beside the map is the accessible, keyboard-usable view.

const ROMAN = {1: 'I', 2: 'II', 3: 'III', 4: 'IV'};
const ARROW = {rising: '↑', falling: '↓', steady: '→'};
const NO_DATA_COLOUR = '#8a8f98';

/** The kind's stylesheet, added once; resolves when it applies (the map needs its height first). */
export function loadStyles() {
  const href = new URL('./river.css', import.meta.url);
  href.search = new URL(import.meta.url).search; // the build's ?v=, as the module was loaded
  const existing = document.querySelector(`link[data-kind-css="awlr"]`);
  if (existing) return existing.dataset.loaded ? Promise.resolve() : new Promise((ok) => existing.addEventListener('load', ok, {once: true}));
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = href.href;
  link.dataset.kindCss = 'awlr';
  const loaded = new Promise((ok) => {
    link.addEventListener('load', () => { link.dataset.loaded = '1'; ok(); }, {once: true});
    link.addEventListener('error', ok, {once: true}); // unstyled beats blank
  });
  document.head.append(link);
  return loaded;
}

/** Every page of a paged list endpoint ({data, count}), `limit` at a time. */
export async function allPages(ctx, path, query = {}, limit = 500) {
  const out = [];
  for (let offset = 0; ; offset += limit) {
    const page = await ctx.api(path, {query: {...query, limit, offset}});
    out.push(...page.data);
    if (page.data.length < limit || out.length >= page.count) return out;
  }
}

/** Text colour readable on `colour` (#rgb or #rrggbb): black on light fills, white on dark (WCAG luminance). */
export function inkOn(colour) {
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(colour || '');
  if (!hex) return '#111';
  const h = hex[1].length === 3 ? [...hex[1]].map((c) => c + c).join('') : hex[1];
  const [r, g, b] = [0, 2, 4].map((i) => {
    const c = parseInt(h.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.179 ? '#111' : '#fff';
}

export function siagaColour(ctx, level) {
  return level ? ctx.siagaColour(level) : NO_DATA_COLOUR;
}

/** "SIAGA III" style label for a level, or the page's words for no reading yet. */
export function siagaText(ctx, level) {
  return level ? ctx.siagaLabel(level) : ctx.t('noData');
}

/** A swatch and the Siaga label: colour never alone. */
export function siagaBadge(ctx, level) {
  const colour = siagaColour(ctx, level);
  return ctx.h('span', {class: 'awlr-siaga', 'data-siaga': String(level ?? '')},
    ctx.h('span', {class: 'awlr-swatch', 'aria-hidden': 'true', style: `background:${colour};color:${inkOn(colour)}`},
      level ? ROMAN[level] : '–'),
    siagaText(ctx, level));
}

export function trendWords(ctx, trend, rate) {
  if (!trend) return ctx.t('trend.none');
  const words = ctx.t(`trend.${trend}`);
  return rate == null || trend === 'steady' ? words : `${words} ${ctx.t('rate', {rate: rate > 0 ? `+${rate}` : String(rate)})}`;
}

/** The arrow (hidden from screen readers) and the trend in words. */
export function trendCell(ctx, trend, rate) {
  return ctx.h('span', {class: `awlr-trend awlr-trend-${trend || 'none'}`, 'data-trend': trend || ''},
    ctx.h('span', {class: 'awlr-arrow', 'aria-hidden': 'true'}, ARROW[trend] || '·'),
    trendWords(ctx, trend, rate));
}

export function levelText(ctx, cm) {
  return cm == null ? '–' : `${Math.round(cm * 10) / 10} cm`;
}

let SiagaMarker = null;

/** A circle marker that also draws its Siaga numeral and trend arrow on the canvas. */
function markerClass() {
  if (SiagaMarker) return SiagaMarker;
  const base = L.CircleMarker.prototype;
  SiagaMarker = L.CircleMarker.extend({
    _updateBounds() {
      base._updateBounds.call(this);
      // Room for the arrow right of the circle, so a partial redraw clears it too.
      const p = this._point;
      this._pxBounds.extend(L.point(p.x + this._radius + 16, p.y - this._radius - 2));
    },
    _updatePath() {
      base._updatePath.call(this);
      const r = this._renderer;
      if (!r._drawing || this._empty()) return;
      const c = r._ctx;
      const p = this._point;
      const {numeral, arrow, ink} = this.options;
      c.globalAlpha = 1;
      c.textAlign = 'center';
      c.textBaseline = 'middle';
      c.font = 'bold 10px system-ui, sans-serif';
      c.fillStyle = ink;
      c.fillText(numeral, p.x, p.y + 0.5);
      if (arrow) {
        c.font = 'bold 14px system-ui, sans-serif';
        c.lineWidth = 3;
        c.strokeStyle = '#fff';
        c.strokeText(arrow, p.x + this._radius + 7, p.y);
        c.fillStyle = '#111';
        c.fillText(arrow, p.x + this._radius + 7, p.y);
      }
    },
  });
  return SiagaMarker;
}

/**
 * Station markers on one canvas layer group; `stations` are {id, name, river, lat, lon, last_level_cm, siaga,
 * trend, trend_cm_per_h}; hovering one shows all that in words.
 * Returns {group, setStations(list)}: the markers are replaced as a whole on refresh (cheap on a canvas).
 */
export function stationMarkers(ctx, map, {onClick} = {}) {
  const describe = (s) => `${s.name} (${s.river}): ${levelText(ctx, s.last_level_cm)}, ${siagaText(ctx, s.siaga)}, ${trendWords(ctx, s.trend, s.trend_cm_per_h)}`;
  const Marker = markerClass();
  // A pane of their own above the overlay pane: Leaflet's CSS puts SVG (the land) above canvases in one pane.
  const pane = map.getPane('awlr-stations') || map.createPane('awlr-stations');
  pane.style.zIndex = '450';
  const renderer = L.canvas({padding: 0.3, pane: 'awlr-stations'});
  const group = L.featureGroup().addTo(map);
  const tip = L.tooltip({direction: 'top', offset: [0, -10]});
  group.on('mouseover', (e) => {
    // An element, not a string: Leaflet puts a string in as HTML, and names come from data.
    tip.setLatLng(e.layer.getLatLng()).setContent(ctx.h('span', {}, describe(e.layer.options.station)));
    map.openTooltip(tip);
  });
  group.on('mouseout', () => map.closeTooltip(tip));
  if (onClick) group.on('click', (e) => onClick(e.layer.options.station));
  return {
    group,
    setStations(stations) {
      group.clearLayers();
      // Worst last, so it is drawn on top where stations crowd.
      const ordered = [...stations].filter((s) => s.lat != null && s.lon != null)
        .sort((a, b) => (b.siaga || 5) - (a.siaga || 5));
      for (const s of ordered) {
        const fill = siagaColour(ctx, s.siaga);
        group.addLayer(new Marker([s.lat, s.lon], {
          renderer, radius: 10, weight: 1.5, color: '#1a1a1a', fillColor: fill, fillOpacity: 1,
          numeral: s.siaga ? ROMAN[s.siaga] : '–', arrow: ARROW[s.trend] || '', ink: inkOn(fill),
          pane: 'awlr-stations', station: s, bubblingMouseEvents: true,
        }));
      }
      return ordered.length;
    },
  };
}

/** The map's key: every Siaga level as a swatch with its label, and what the arrows mean. */
export function legend(ctx) {
  return ctx.h('ul', {class: 'awlr-legend', 'aria-label': ctx.t('legend')},
    ...[4, 3, 2, 1, null].map((level) => ctx.h('li', {}, siagaBadge(ctx, level))),
    ...['rising', 'falling', 'steady'].map((t) => ctx.h('li', {}, trendCell(ctx, t, null))));
}

/** Worst Siaga first (no data last), then by name: what needs eyes comes first. */
export function bySeverity(a, b) {
  return (a.siaga || 9) - (b.siaga || 9) || a.name.localeCompare(b.name);
}

const COLUMNS = ['col.station', 'col.level', 'col.siaga', 'col.trend', 'col.updated'];

/**
 * The stations table (rivers and public pages): name with its river, level, Siaga label, trend,
 * time of the latest data. Each cell carries its column's name (`data-label`), which a phone's
 * card layout shows beside the value. `s` is {id, name, river, last_level_cm, siaga, trend,
 * trend_cm_per_h, last_seen_at}; `link(s)` the href of its name, if any; `testid` the row's.
 */
export function stationsTable(ctx, caption) {
  const body = ctx.h('tbody', {});
  const el = ctx.h('table', {class: 'awlr-table awlr-stations'},
    ctx.h('caption', {class: 'awlr-visually-hidden'}, caption),
    ctx.h('thead', {}, ctx.h('tr', {}, ...COLUMNS.map((k) => ctx.h('th', {scope: 'col'}, ctx.t(k))))), body);
  return {el, body};
}

export function stationRow(ctx, s, {testid, link, tz}) {
  const [, level, siaga, trend, updated] = COLUMNS.map((k) => ctx.t(k));
  const name = link ? ctx.h('a', {href: link(s)}, s.name) : s.name;
  return ctx.h('tr', {'data-testid': testid, 'data-station-id': s.id, 'data-siaga': String(s.siaga ?? '')},
    ctx.h('th', {scope: 'row'}, name, ctx.h('span', {class: 'awlr-sub'}, s.river)),
    ctx.h('td', {class: 'awlr-num', 'data-label': level}, levelText(ctx, s.last_level_cm)),
    ctx.h('td', {'data-label': siaga}, siagaBadge(ctx, s.siaga)),
    ctx.h('td', {'data-label': trend}, trendCell(ctx, s.trend, s.trend_cm_per_h)),
    ctx.h('td', {'data-label': updated}, s.last_seen_at ? ctx.fmtTime(s.last_seen_at, {date: true, ...(tz ? {tz} : {})}) : '–'));
}
