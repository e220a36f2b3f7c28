// What the sea pages share: their stylesheet, numbers in the reader's language, vessel markers
// and tracks on a Leaflet map, and the words of an API error. No data is kept between pages.

const STYLESHEET = new URL('./pages.css?v={{build}}', import.meta.url).href;

/** Adds the kind's stylesheet once (a <link>, allowed by the console's CSP; no inline styles). */
export function ensureStyles() {
  if (document.querySelector(`link[data-kind-css="fishfinder"]`)) return;
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = STYLESHEET;
  link.dataset.kindCss = 'fishfinder';
  document.head.append(link);
}

/** A number with `digits` decimals in the reader's language (1.234,5 in Indonesian; en-GB's 1,234.5 in English). */
export function num(ctx, value, digits = 1) {
  if (value === null || value === undefined) return '–';
  const locale = ctx.lang === 'en' ? 'en-GB' : 'id-ID';
  return new Intl.NumberFormat(locale, {minimumFractionDigits: digits, maximumFractionDigits: digits}).format(value);
}

/** "12,3 nmi (22,8 km)": sea distances in nautical miles first, as fishers and the rescue use. */
export function distance(ctx, nm, km) {
  return `${num(ctx, nm)} nmi (${num(ctx, km)} km)`;
}

/** A position as a GPS shows it ("-8.7394, 115.2083"): decimal degrees with a point in every language. */
export function position(lat, lon) {
  return `${lat.toFixed(4)}, ${lon.toFixed(4)}`;
}

/** The readable part of an API error (`ctx.ApiError` carries FastAPI's `detail`). */
export function errorText(error) {
  const detail = error && error.detail;
  if (Array.isArray(detail)) return detail.map((d) => d.msg || String(d)).join('; ');
  if (typeof detail === 'string') return detail;
  return (error && error.message) || String(error);
}

/**
 * An API error in the reader's language: `<prefix>.<code>` of the page's strings when the API's
 * stable `code` (or, without one, the status: `<prefix>.http_<status>`) is a situation the page
 * knows, else `<prefix>.other`; the API's own words (English) follow, small, for whoever reports it.
 * Returns the children of the element that shows it.
 */
export function errorView(ctx, error, prefix) {
  const known = (key) => (ctx.t(key) === key ? null : ctx.t(key));
  const status = error && error.status;
  const said = (error && error.code && known(`${prefix}.${error.code}`))
    || (status !== undefined && known(`${prefix}.http_${status}`))
    || ctx.t(`${prefix}.other`);
  const detail = status === 0 ? '' : errorText(error);
  return [said, ...(detail ? [' ', ctx.h('small', {class: 'sea-error-detail', lang: 'en'}, `(${detail})`)] : [])];
}

/**
 * A vessel's marker: a divIcon whose element is built with ctx.h (no HTML strings from data),
 * carrying data-testid, the vessel id and whether it is overdue, and its name for screen readers.
 */
export function vesselMarker(ctx, lat, lon, {id, name, kind = 'vessel', overdue = false}) {
  const dot = ctx.h('span', {
    class: `sea-marker sea-marker-${kind}${overdue ? ' sea-marker-overdue' : ''}`,
    'data-testid': `${kind}-marker`,
    'data-vessel-id': id,
    'data-overdue': overdue ? 'true' : 'false',
    role: 'img',
    'aria-label': name,
  });
  const icon = L.divIcon({html: dot, className: 'sea-marker-icon', iconSize: [22, 22], iconAnchor: [11, 11]});
  return L.marker([lat, lon], {icon, title: name, keyboard: true, alt: name});
}

/** A home port's marker: a small square (a quay), named for screen readers and on hover. */
export function portMarker(ctx, lat, lon, name) {
  const label = ctx.t('sea.port', {name});
  const mark = ctx.h('span', {class: 'sea-marker sea-marker-port', 'data-testid': 'port-marker', role: 'img', 'aria-label': label});
  const icon = L.divIcon({html: mark, className: 'sea-marker-icon', iconSize: [16, 16], iconAnchor: [8, 8]});
  return L.marker([lat, lon], {icon, title: label, alt: label, keyboard: false, zIndexOffset: -100});
}

/** The map's key: what each mark is, in words beside its swatch (`kinds`: legend keys of the
 * page's strings, each drawn as `.sea-key-<kind>`). */
export function legend(ctx, kinds) {
  return ctx.h('ul', {class: 'sea-legend', 'aria-label': ctx.t('sea.legend')},
    ...kinds.map((kind) => ctx.h('li', {}, ctx.h('span', {class: `sea-key sea-key-${kind}`, 'aria-hidden': 'true'}), ctx.t(`sea.key.${kind}`))));
}

/** A track as a polyline (fixes oldest first), in the class the stylesheet colours. */
export function trackLine(fixes, className = 'sea-track') {
  return L.polyline(fixes.map((f) => [f.lat, f.lon]), {className, weight: 3});
}

const EARTH_KM = 6371.0088;

/** The point `km` from (lat, lon) on the initial bearing `bearingDeg` (great circle, spherical Earth). */
export function destination(lat, lon, bearingDeg, km) {
  const rad = Math.PI / 180;
  const d = km / EARTH_KM;
  const b = bearingDeg * rad;
  const p1 = lat * rad;
  const p2 = Math.asin(Math.sin(p1) * Math.cos(d) + Math.cos(p1) * Math.sin(d) * Math.cos(b));
  const l2 = lon * rad + Math.atan2(Math.sin(b) * Math.sin(d) * Math.cos(p1), Math.cos(d) - Math.sin(p1) * Math.sin(p2));
  return [p2 / rad, ((l2 / rad + 540) % 360) - 180];
}

/** Closest zoom a fitted map goes to: about 20 km across, so a coast is in view to tell where the
 * boats are (at 13 one harbour's basin filled the map, and the sea looked like nothing). */
export const FIT_MAX_ZOOM = 11;

/** Fits the map to these [lat, lon] points with a margin, never closer than `FIT_MAX_ZOOM` (a
 * single fix, or a few metres of track, would zoom to the maximum); leaves it alone without any. */
export function fitTo(map, points, maxZoom = FIT_MAX_ZOOM) {
  if (!points.length) return;
  const bounds = L.latLngBounds(points);
  // No animation: a page left while the map still glides would have Leaflet move a removed pane.
  if (bounds.getNorthEast().distanceTo(bounds.getSouthWest()) < 500) map.setView(bounds.getCenter(), maxZoom, {animate: false});
  else map.fitBounds(bounds, {padding: [32, 32], maxZoom, animate: false});
}

/** A labelled value of a `dl.facts` (the shell's definition list): [dt, dd]. */
export function field(ctx, label, value, testid) {
  return [ctx.h('dt', {}, label), ctx.h('dd', testid ? {'data-testid': testid} : {}, value)];
}

/** A table in the shell's scrolling frame (wide tables scroll sideways on a phone, the page does
 * not); the frame takes the keyboard focus, so a keyboard can scroll it too. */
export function table(ctx, columns, rows, label) {
  const head = ctx.h('tr', {}, ...columns.map((key) => ctx.h('th', {scope: 'col'}, ctx.t(key))));
  return ctx.h('div', {class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': ctx.t('sea.table', {what: label})},
    ctx.h('table', {}, ctx.h('thead', {}, head), ctx.h('tbody', {}, ...rows)));
}

/** The element a map is drawn in: a landmark named as the map of `what`. */
export function mapRegion(ctx, what) {
  return ctx.h('div', {class: 'sea-map', role: 'region', 'aria-label': ctx.t('sea.map', {what})});
}
