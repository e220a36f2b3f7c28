// The rivers page: the tenant's stations on a map, coloured by Siaga level with the level's
// numeral and the trend arrow drawn beside each, and the same stations as a table (beside the
// map; below it on a phone). A row or a marker opens the station's page.

import {
  allPages, bySeverity, legend, loadStyles, stationMarkers, stationRow, stationsTable,
} from './marks.js?v={{build}}';

/** Refresh this often while the page is open; an alert about a station refreshes at once. */
const REFRESH_MS = 60_000;

export default {
  id: 'rivers',
  nav: true,
  order: 10,
  title: {id: 'Sungai', en: 'Rivers'},
  roles: 'STATION_READERS',
  async render(el, ctx) {
    await loadStyles();
    ctx.setTitle(ctx.t('rivers.heading'));
    const mapEl = ctx.h('div', {class: 'awlr-map', role: 'region', 'aria-label': ctx.t('rivers.map'), 'data-station-count': '0'});
    const filter = ctx.h('input', {id: 'rivers-filter', type: 'search', autocomplete: 'off'});
    const count = ctx.h('p', {class: 'awlr-count', 'aria-live': 'polite'});
    const list = stationsTable(ctx, ctx.t('rivers.caption'));
    el.append(
      ctx.h('h1', {}, ctx.t('rivers.heading')),
      ctx.h('div', {class: 'awlr-layout'},
        ctx.h('div', {class: 'awlr-map-col'}, mapEl, legend(ctx)),
        ctx.h('div', {class: 'awlr-list-col'},
          ctx.h('div', {class: 'awlr-filter'}, ctx.h('label', {for: 'rivers-filter'}, ctx.t('rivers.filter')), filter),
          count, ctx.h('div', {class: 'awlr-table-wrap', tabindex: 0, role: 'region', 'aria-label': ctx.t('rivers.caption')}, list.el))));

    let stations = await allPages(ctx, '/stations');
    const map = await ctx.map(mapEl, {bbox: bboxOf(stations)});
    const markers = stationMarkers(ctx, map, {
      onClick: (s) => ctx.navigate(`#/station/${encodeURIComponent(s.id)}`),
    });

    const show = () => {
      const q = filter.value.trim().toLowerCase();
      const shown = stations.filter((s) => !q || s.name.toLowerCase().includes(q) || s.river.toLowerCase().includes(q) || s.id.includes(q));
      const link = (s) => `#/station/${encodeURIComponent(s.id)}`;
      list.body.replaceChildren(...shown.sort(bySeverity).map((s) => stationRow(ctx, s, {testid: 'station-row', link})));
      count.textContent = stations.length ? ctx.t('rivers.count', {shown: shown.length, total: stations.length}) : ctx.t('rivers.empty');
    };
    const draw = () => {
      mapEl.dataset.stationCount = String(markers.setStations(stations));
      show();
    };
    draw();
    requestAnimationFrame(() => ctx.mark('map-drawn:rivers')); // after the canvas's own frame
    filter.addEventListener('input', show);

    let pending = null;
    const refresh = async () => {
      pending = null;
      try {
        stations = await allPages(ctx, '/stations');
        draw();
      } catch (err) {
        if (!(err instanceof ctx.ApiError)) throw err; // the shell shows sign-in on 401; keep the last view otherwise
      }
    };
    const timer = setInterval(refresh, REFRESH_MS);
    const unsubscribe = ctx.onAlertEvent((event) => {
      // A Siaga or rate-of-rise change is news about a station: refresh once for a burst of events.
      if (event.alert?.station && !pending) pending = setTimeout(refresh, 300);
    });
    return () => {
      clearInterval(timer);
      clearTimeout(pending);
      unsubscribe();
    };
  },
};

/** [west, south, east, north] around the stations, or undefined (the tenant's basemap decides). */
export function bboxOf(points) {
  const placed = points.filter((p) => p.lat != null && p.lon != null);
  if (!placed.length) return undefined;
  const lats = placed.map((p) => p.lat);
  const lons = placed.map((p) => p.lon);
  const [west, east, south, north] = [Math.min(...lons), Math.max(...lons), Math.min(...lats), Math.max(...lats)];
  const pad = Math.max(0.1, 0.15 * Math.max(east - west, north - south)); // some land and sea around them
  return [west - pad, south - pad, east + pad, north + pad];
}
