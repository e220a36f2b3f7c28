// The public page, like PetaBencana.id's: anyone, signed in or not, picks a region and sees its
// river levels on a map and in a list, and the warnings in force. It calls public endpoints only
// (/public/tenants, /public/stations, /public/warnings, /public/basemap through ctx.map), so it
// works, and is cacheable, without credentials; nothing on it is personal data.

import {
  allPages, bySeverity, inkOn, legend, loadStyles, siagaBadge, stationMarkers, stationRow, stationsTable,
} from './marks.js?v={{build}}';
import {bboxOf} from './rivers.js?v={{build}}';

const REFRESH_MS = 60_000; // the public answers' max-age
const SAVED = 'tepi.publicTenant';
const SEVERITY_ORDER = {critical: 0, major: 1, minor: 2, warning: 3};

/** Regions to choose from: /public/tenants, or (where that is not served) the tenants the stations name. */
async function tenants(ctx) {
  try {
    return await ctx.api('/public/tenants');
  } catch (err) {
    if (!(err instanceof ctx.ApiError) || err.status !== 404) throw err;
  }
  const ids = [...new Set((await allPages(ctx, '/public/stations')).map((s) => s.tenant))];
  return ids.map((id) => ({id, name: id, timezone: 'Asia/Jakarta'}));
}

function remembered() {
  try {
    return localStorage.getItem(SAVED);
  } catch {
    return null; // storage refused (private mode): the first region
  }
}

function remember(tenant) {
  try {
    localStorage.setItem(SAVED, tenant);
  } catch {
    // the choice lasts this page only
  }
}

/** A time in the region's own zone with its abbreviation (WIB, WITA, WIT): a citizen reads local time. */
function zoneTime(ctx, iso, tz) {
  return ctx.fmtTime(iso, {date: true, tz});
}

/** Badges of the warnings that are not a Siaga level: a sign in the swatch (colour never alone) and
 * the colour of their kind, never the station's level: a rate-of-rise warning comes while the river
 * is still "Normal", and a green "Siaga IV (Normal)" on a warning read as all clear. */
const TYPE_BADGES = {
  rate_of_rise: {sign: '↑', colour: '#ef6c00'},
  forecast: {sign: '→', colour: '#6a1b9a'},
};
const SEVERITY_COLOURS = {critical: '#b00020', major: '#d35400', minor: '#f9c80e', warning: '#8a8f98'};

/** What kind of warning this is, as a badge: the Siaga level of a Siaga warning (I to III), the
 * warning's type for a rate of rise or a forecast, BMKG's wave category for a sea area's. */
export function warningBadge(ctx, w) {
  if (w.type === 'siaga' && w.siaga >= 1 && w.siaga <= 3) return siagaBadge(ctx, w.siaga);
  let sign = '!';
  let colour = SEVERITY_COLOURS[w.severity] || SEVERITY_COLOURS.warning;
  let text = ctx.t('public.badge.other');
  if (w.category) {
    sign = '≈';
    text = ctx.t('public.badge.marine', {category: ctx.lang === 'en' ? w.category.label_en : w.category.label_id});
  } else if (TYPE_BADGES[w.type]) {
    ({sign, colour} = TYPE_BADGES[w.type]);
    text = ctx.t(`public.badge.${w.type}`);
  }
  return ctx.h('span', {class: 'awlr-siaga', 'data-testid': 'warning-badge', 'data-warning-type': w.type},
    ctx.h('span', {class: 'awlr-swatch', 'aria-hidden': 'true', style: `background:${colour};color:${inkOn(colour)}`}, sign),
    text);
}

function warningItem(ctx, w, tz) {
  const headline = ctx.lang === 'en' ? w.headline_en : w.headline_id;
  return ctx.h('li', {'data-testid': 'public-warning', 'data-type': w.type, 'data-severity': w.severity,
    'data-station': w.station || '', 'data-area': w.area || '', class: `awlr-warning awlr-sev-${w.severity}`},
    warningBadge(ctx, w),
    ctx.h('p', {class: 'awlr-headline'}, headline),
    ctx.h('p', {class: 'awlr-when'},
      ctx.t('public.since', {time: zoneTime(ctx, w.since, tz)}), ' · ',
      ctx.t('public.updated', {time: zoneTime(ctx, w.updated_at, tz)}), ' · ',
      ctx.h('a', {href: w.cap_url, rel: 'external'}, ctx.t('public.cap'))));
}

export default {
  id: 'public',
  nav: true, // listed for whoever is not signed in (the shell lists public pages only to them)
  order: 1,
  title: {id: 'Info publik', en: 'Public information'},
  roles: 'public',
  async render(el, ctx, params) {
    await loadStyles();
    ctx.setTitle(ctx.t('public.heading'));
    const regions = await tenants(ctx);
    const wanted = params[0] || remembered();
    const region = regions.find((t) => t.id === wanted) || regions[0];

    const select = ctx.h('select', {id: 'public-tenant'},
      ...regions.map((t) => ctx.h('option', {value: t.id}, t.name)));
    const warningsList = ctx.h('ul', {class: 'awlr-warnings', 'aria-live': 'polite'});
    const mapBox = ctx.h('div', {class: 'awlr-map-col'});
    const list = stationsTable(ctx, ctx.t('public.stations'));
    const stationsNote = ctx.h('p', {class: 'awlr-count'});
    el.append(
      ctx.h('h1', {}, ctx.t('public.heading')),
      ctx.h('p', {}, ctx.t('public.intro'),
        ...(ctx.user ? [] : [' ', ctx.h('a', {href: '#/login', 'data-testid': 'signin-link'}, ctx.t('public.signin'))])),
      ctx.h('div', {class: 'awlr-filter'}, ctx.h('label', {for: 'public-tenant'}, ctx.t('public.tenant')), select),
      ctx.h('section', {'aria-labelledby': 'public-warnings-h'},
        ctx.h('h2', {id: 'public-warnings-h'}, ctx.t('public.warnings')), warningsList),
      ctx.h('section', {'aria-labelledby': 'public-stations-h'},
        ctx.h('h2', {id: 'public-stations-h'}, ctx.t('public.stations')),
        ctx.h('div', {class: 'awlr-layout'}, mapBox,
          ctx.h('div', {class: 'awlr-list-col'}, stationsNote,
            ctx.h('div', {class: 'awlr-table-wrap', tabindex: 0, role: 'region', 'aria-label': ctx.t('public.list')}, list.el)))));

    let markers = null;
    const mapEl = ctx.h('div', {class: 'awlr-map', role: 'region', 'aria-label': ctx.t('public.map'), 'data-station-count': '0'});
    mapBox.replaceChildren(mapEl, legend(ctx));
    const load = async (fresh) => {
      const query = {tenant: region.id};
      const [stations, warnings] = await Promise.all([
        allPages(ctx, '/public/stations', query),
        ctx.api('/public/warnings', {query}),
      ]);
      if (fresh) {
        const map = await ctx.map(mapEl, {public: true, tenant: region.id, bbox: bboxOf(stations)});
        markers = stationMarkers(ctx, map);
      }
      const tz = region.timezone;
      const shown = stations.map((s) => ({...s, id: s.station, last_level_cm: s.level_cm, last_seen_at: s.updated_at}));
      mapEl.dataset.stationCount = String(markers.setStations(shown));
      list.body.replaceChildren(...shown.sort(bySeverity).map((s) => stationRow(ctx, s, {testid: 'public-station', tz})));
      stationsNote.textContent = stations.length ? '' : ctx.t('public.noStations');
      const sorted = [...warnings.data].sort((a, b) => (a.siaga || 9) - (b.siaga || 9)
        || SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || b.updated_at.localeCompare(a.updated_at));
      warningsList.replaceChildren(...(sorted.length ? sorted.map((w) => warningItem(ctx, w, tz))
        : [ctx.h('li', {class: 'awlr-none'}, ctx.t('public.noWarnings'))]));
      el.dataset.tenant = region.id;
      if (fresh) requestAnimationFrame(() => ctx.mark('map-drawn:public'));
    };

    // Another region is another page (#/public/<tenant>): a link to it shows that region.
    select.addEventListener('change', () => {
      remember(select.value);
      ctx.navigate(`#/public/${encodeURIComponent(select.value)}`);
    });
    if (!region) return undefined;
    select.value = region.id;
    await load(true);
    const timer = setInterval(() => load(false).catch(() => {}), REFRESH_MS);
    return () => clearInterval(timer);
  },
};
