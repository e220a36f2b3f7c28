// Maps (Leaflet, global `L`) on the offline land basemap, and charts (uPlot, global `uPlot`).
// Both libraries are classic scripts of index.html, loaded before any module runs.

const LAND_STYLE = {color: '#8c8a83', weight: 0.6, fillColor: '#e4e1d6', fillOpacity: 1, className: 'tepi-land'};
const basemaps = new Map();

/** The land GeoJSON of the signed-in tenant (`tenant` undefined) or, public, of `tenant` (null: Indonesia). */
function basemap(api, isPublic, tenant) {
  const key = isPublic ? `public:${tenant ?? ''}` : 'own';
  if (!basemaps.has(key)) {
    const request = isPublic ? api('/public/basemap', {query: {tenant}}) : api('/basemap');
    basemaps.set(key, request.catch((err) => {
      basemaps.delete(key); // try again next time
      throw err;
    }));
  }
  return basemaps.get(key);
}

/** Start fetching the signed-in tenant's land now, for the map a page draws once its own data
 * are in: `makeMap` then finds it fetched (or on its way) instead of asking only then. */
export function warmBasemap(api) {
  basemap(api, false).catch(() => {}); // a failure is forgotten; the map asks again
}

/** Forget cached basemaps (another user signed in). */
export function forgetBasemaps() {
  basemaps.clear();
}

/**
 * A Leaflet map in `el` with no tile layer: grey land on a light-blue sea, fitted to `bbox`
 * ([west, south, east, north]) or the basemap's own. `onCleanup(fn)` registers its removal.
 */
export async function makeMap(el, {bbox, public: isPublic = false, tenant} = {}, {api, t, onCleanup}) {
  const land = await basemap(api, isPublic, tenant);
  const L = window.L;
  L.Icon.Default.imagePath = '/console/assets/vendor/leaflet/images/';
  el.classList.add('tepi-map');
  const map = L.map(el, {zoomSnap: 0.25, minZoom: 3, maxZoom: 18});
  onCleanup(() => map.remove());
  map.attributionControl.setPrefix('Leaflet');
  L.geoJSON(land, {style: LAND_STYLE, interactive: false, attribution: t('map.attribution')}).addTo(map);
  const [west, south, east, north] = usableBbox(bbox) ? bbox : land.bbox;
  // A lone station's box has no size: show a few kilometres around it rather than zoom 18.
  const pad = (span) => Math.max(0, MIN_SPAN_DEG - span) / 2;
  const [padLon, padLat] = [pad(east - west), pad(north - south)];
  map.fitBounds([[south - padLat, west - padLon], [north + padLat, east + padLon]]);
  return map;
}

const MIN_SPAN_DEG = 0.05;

function usableBbox(bbox) {
  return Array.isArray(bbox) && bbox.length === 4 && bbox.every(Number.isFinite) && bbox[0] <= bbox[2] && bbox[1] <= bbox[3];
}

/** A uPlot chart as wide as `el`, following its width (window resizes, the menu opening). */
export function makeChart(el, opts, data, {onCleanup}) {
  const width = () => Math.max(200, Math.floor(el.clientWidth));
  const plot = new window.uPlot({height: 260, ...opts, width: width()}, data, el);
  let frame = 0;
  const follow = new ResizeObserver(() => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => {
      if (width() !== plot.width) plot.setSize({width: width(), height: plot.height});
    });
  });
  follow.observe(el);
  onCleanup(() => {
    follow.disconnect();
    cancelAnimationFrame(frame);
    plot.destroy();
  });
  return plot;
}
