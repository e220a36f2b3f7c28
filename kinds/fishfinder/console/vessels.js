// Vessels: last positions on the map and in a list, overdue ones first and marked in words and
// colour (the API's `overdue`, the overdue watch's own decision); a vessel's 24 h track on demand.
// A fisher sees only their own vessels: the API scopes the list.

import {
  ensureStyles, errorText, fitTo, legend, mapRegion, portMarker, position, table, trackLine, vesselMarker,
} from './sea_common.js?v={{build}}';

/** The home ports the vessels name, each once, where the API knows its position. */
export function homePorts(vessels) {
  const ports = new Map();
  for (const v of vessels) {
    if (v.home_lat == null || v.home_lon == null) continue;
    const key = `${v.home_lat},${v.home_lon}`;
    if (!ports.has(key)) ports.set(key, {name: v.home_port, lat: v.home_lat, lon: v.home_lon});
  }
  return [...ports.values()];
}

/** Overdue vessels first (longest overdue first), then the others by name. */
export function vesselOrder(vessels) {
  return [...vessels].sort((a, b) => {
    if (!!a.overdue !== !!b.overdue) return a.overdue ? -1 : 1;
    if (a.overdue && b.overdue && a.overdue.since !== b.overdue.since) return a.overdue.since < b.overdue.since ? -1 : 1;
    return a.name.localeCompare(b.name) || a.id.localeCompare(b.id);
  });
}

function overdueBadge(ctx, overdue) {
  const why = overdue.reason ? ctx.t(`vessels.overdue.${overdue.reason}`) : '';
  return ctx.h('span', {class: 'sea-chip sea-overdue', 'data-testid': 'overdue-badge', 'data-reason': overdue.reason || ''},
    ctx.t('vessels.overdue'), why ? `: ${why}` : '', ` (${ctx.t('vessels.overdue_since', {time: ctx.fmtTime(overdue.since, {date: true})})})`);
}

function vesselRow(ctx, v, show) {
  return ctx.h('tr', {
    'data-testid': 'vessel-row', 'data-vessel-id': v.id, 'data-overdue': v.overdue ? 'true' : 'false',
    class: v.overdue ? 'sea-row-overdue' : '',
  },
  ctx.h('th', {scope: 'row'}, `${v.name} (${v.id})`, ...(v.overdue ? [' ', overdueBadge(ctx, v.overdue)] : [])),
  ctx.h('td', {}, v.home_port),
  ctx.h('td', {}, ctx.t(v.at_sea ? 'vessels.at_sea' : 'vessels.in_port')),
  ctx.h('td', {}, v.expected_return_at ? ctx.fmtTime(v.expected_return_at, {date: true}) : '–'),
  ctx.h('td', {}, v.last_seen_at === null ? ctx.t('vessels.never_seen')
    : `${position(v.last_lat, v.last_lon)} · ${ctx.fmtTime(v.last_seen_at, {date: true})}`),
  ctx.h('td', {}, ctx.h('button', {
    type: 'button', class: 'secondary', 'data-testid': 'vessel-track', 'aria-label': `${ctx.t('vessels.show_track')}: ${v.name}`,
    'on:click': () => show(v),
  }, ctx.t('vessels.show_track'))));
}

async function render(el, ctx) {
  ensureStyles();
  ctx.setTitle(ctx.t('vessels.title'));
  const summary = ctx.h('p', {'data-testid': 'vessels-summary', 'aria-live': 'polite'});
  const mapEl = mapRegion(ctx, ctx.t('vessels.title'));
  const trackInfo = ctx.h('p', {'data-testid': 'track-info', 'aria-live': 'polite'});
  const listEl = ctx.h('div', {});
  el.append(ctx.h('h1', {}, ctx.t('vessels.title')), summary, mapEl, legend(ctx, ['vessel', 'overdue', 'port', 'track']), trackInfo, listEl);
  const [map, answer] = await Promise.all([ctx.map(mapEl, {}), ctx.api('/vessels', {query: {limit: 500}})]);
  const vessels = vesselOrder(answer.data);
  const markers = L.layerGroup().addTo(map);
  const track = L.layerGroup().addTo(map);

  async function show(v) {
    trackInfo.textContent = '';
    track.clearLayers();
    try {
      const answer = await ctx.api(`/vessels/${encodeURIComponent(v.id)}/track`);
      if (!answer.data.length) {
        trackInfo.textContent = ctx.t('vessels.track_empty', {vessel: v.name});
        return;
      }
      track.addLayer(trackLine(answer.data));
      fitTo(map, answer.data.map((f) => [f.lat, f.lon]));
      trackInfo.textContent = ctx.t('vessels.track', {vessel: v.name, n: answer.data.length})
        + (answer.truncated ? ` ${ctx.t('vessels.track_truncated')}` : '');
    } catch (e) {
      trackInfo.textContent = errorText(e);
    }
  }

  const points = [];
  for (const v of vessels) {
    if (v.last_lat === null) continue;
    const marker = vesselMarker(ctx, v.last_lat, v.last_lon, {id: v.id, name: v.name, overdue: !!v.overdue});
    marker.on('click', () => show(v));
    markers.addLayer(marker);
    points.push([v.last_lat, v.last_lon]);
  }
  // The home ports too: the coast the boats sail from is in view, and where they are reads against it.
  for (const port of homePorts(vessels)) {
    markers.addLayer(portMarker(ctx, port.lat, port.lon, port.name));
    points.push([port.lat, port.lon]);
  }
  fitTo(map, points);
  mapEl.dataset.zoom = String(map.getZoom()); // how close the fit went (tests, the bench)
  ctx.mark('map-drawn:vessels');

  const overdue = vessels.filter((v) => v.overdue).length;
  summary.textContent = overdue ? ctx.t('vessels.overdue_count', {n: overdue}) : '';
  summary.className = overdue ? 'notice sea-notice-overdue' : '';
  if (!vessels.length) {
    listEl.append(ctx.h('p', {class: 'empty'}, ctx.t('vessels.none')));
    return;
  }
  const columns = ['vessels.name', 'vessels.home_port', 'vessels.where', 'vessels.expected_return', 'vessels.last_seen', 'vessels.show_track'];
  listEl.append(table(ctx, columns, vessels.map((v) => vesselRow(ctx, v, show)), ctx.t('vessels.title')));
}

export default {
  id: 'vessels',
  nav: true,
  order: 41,
  title: {id: 'Kapal', en: 'Vessels'},
  roles: 'VESSEL_READERS',
  render,
};
