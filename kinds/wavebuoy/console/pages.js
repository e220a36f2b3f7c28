// The wave buoy kind's console page: marine conditions. The tenant's sea areas on a map, each
// coloured by BMKG's wave category for the forecast hour chosen on a slider and labelled with the
// category's name (colour never alone), the same areas as a table, and the buoys with their
// latest observation. Without a current forecast the page says the sea state is unknown: an
// empty map must never read as a calm sea (as `/marine-conditions` itself never does).

import strings from './strings.js?v={{build}}';

const HOUR_MS = 3600_000;
const REFRESH_MS = 5 * 60_000;
/** BMKG's wave categories (core/sea_forecast.py WAVE_CATEGORIES), calm to phenomenal, with a fill each. */
export const CATEGORIES = [
  {code: 'tenang', id: 'Tenang', en: 'Calm', colour: '#8fd3f4'},
  {code: 'rendah', id: 'Rendah', en: 'Slight', colour: '#66bb6a'},
  {code: 'sedang', id: 'Sedang', en: 'Moderate', colour: '#fdd835'},
  {code: 'tinggi', id: 'Tinggi', en: 'Rough', colour: '#fb8c00'},
  {code: 'sangat_tinggi', id: 'Sangat Tinggi', en: 'Very rough', colour: '#e53935'},
  {code: 'ekstrem', id: 'Ekstrem', en: 'High', colour: '#8e24aa'},
  {code: 'sangat_ekstrem', id: 'Sangat Ekstrem', en: 'Very high', colour: '#4a148c'},
  {code: 'fenomenal', id: 'Fenomenal', en: 'Phenomenal', colour: '#212121'},
];
const UNKNOWN_COLOUR = '#9e9e9e';
const colourOf = (code) => CATEGORIES.find((c) => c.code === code)?.colour ?? UNKNOWN_COLOUR;

/** The forecast hours still ahead: from the hour covering `nowMs` to the one ending at valid_until. */
export function forecastHours(forecast, nowMs) {
  if (!forecast?.current) return [];
  const from = Math.max(Math.floor(nowMs / HOUR_MS) * HOUR_MS, Date.parse(forecast.valid_from));
  const until = Date.parse(forecast.valid_until);
  const hours = [];
  for (let t = from; t < until; t += HOUR_MS) hours.push(t);
  return hours;
}

function categoryText(ctx, category) {
  if (!category) return ctx.t('unknown');
  return ctx.lang === 'en' ? category.label_en : category.label_id;
}

function categoryBadge(ctx, category) {
  return ctx.h('span', {class: 'wb-cat', 'data-category': category?.code ?? ''},
    ctx.h('span', {class: 'wb-swatch', 'aria-hidden': 'true', style: `background:${colourOf(category?.code)}`}),
    categoryText(ctx, category));
}

function verdict(ctx, above) {
  if (above == null) return ctx.h('span', {class: 'wb-verdict'}, ctx.t('unknown'));
  return ctx.h('span', {class: above ? 'wb-verdict wb-danger' : 'wb-verdict'}, ctx.t(above ? 'danger' : 'safe'));
}

/** Decimals by unit: wave heights to the centimetre, as limits are set (BMKG's 1.25 m) and the API
 * gives them, so a height is never rounded onto the other side of its limit ("1.3 m" beside a 1.25 m
 * limit read "below"); periods and winds to a tenth, dropping a trailing zero. */
const DIGITS = {m: [2, 2]};
let locale = 'id-ID'; // the reader's (ctx.lang), set as each render starts
const formats = new Map();

function numberFormat(digits) {
  const key = `${locale}|${digits}`;
  if (!formats.has(key)) {
    formats.set(key, new Intl.NumberFormat(locale, {minimumFractionDigits: digits[0], maximumFractionDigits: digits[1]}));
  }
  return formats.get(key);
}

/** A value and its unit in the reader's language: '1,25 m' in Indonesian, '1.25 m' in English. */
const num = (v, unit) => (v == null ? '–' : `${numberFormat(DIGITS[unit] ?? [0, 1]).format(v)} ${unit}`);

/** Why there is no current forecast, in the reader's language (`forecast.problem_code`); the page
 * shows the API's English words under it, small, for whoever looks after the forecast file. */
function problemText(ctx, f) {
  const known = ['no_sea_section', 'not_configured', 'file_missing', 'file_too_large', 'file_unreadable', 'file_invalid', 'not_current'];
  return known.includes(f.problem_code) ? ctx.t(`problem.${f.problem_code}`) : '';
}

const AREA_COLUMNS = ['col.area', 'col.category', 'col.wave', 'col.wind', 'col.boats'];
const BUOY_COLUMNS = ['col.buoy', 'col.category', 'col.hs', 'col.tp', 'col.wind', 'col.observed'];

/** A row: a header cell, then cells that carry their column's name (a narrow table's cards show it). */
function row(ctx, attrs, columns, head, ...cells) {
  return ctx.h('tr', attrs, ctx.h('th', {scope: 'row'}, head),
    ...cells.map(([cls, ...content], i) => ctx.h('td', {class: cls, 'data-label': ctx.t(columns[i + 1])}, ...content)));
}

function areaRow(ctx, f) {
  const p = f.properties;
  return row(ctx, {'data-testid': 'marine-area', 'data-area-id': p.id, 'data-category': p.category?.code ?? ''}, AREA_COLUMNS, p.name,
    [null, categoryBadge(ctx, p.category)],
    ['wb-num', num(p.wave_m, 'm')],
    ['wb-num', num(p.wind_kn, ctx.t('kn'))],
    [null, verdict(ctx, p.above_small_boat_limits)]);
}

function buoyRow(ctx, b, judged) {
  const p = judged?.properties;
  return row(ctx, {'data-testid': 'buoy-row', 'data-buoy-id': b.id}, BUOY_COLUMNS, b.name,
    [null, p ? categoryBadge(ctx, p.category) : '–'],
    ['wb-num', num(b.hs_m, 'm')],
    ['wb-num', num(b.tp_s, 's')],
    ['wb-num', num(b.wind_kn, ctx.t('kn')), b.wind_dir_deg == null ? '' : ` (${Math.round(b.wind_dir_deg)}°)`],
    [null, b.observed_at ? ctx.fmtTime(b.observed_at, {date: true}) : '–', p && p.fresh === false ? ` (${ctx.t('old')})` : '']);
}

function table(ctx, columns, body) {
  return ctx.h('div', {class: 'wb-table-wrap'}, ctx.h('table', {class: 'wb-table'},
    ctx.h('thead', {}, ctx.h('tr', {}, ...columns.map((k) => ctx.h('th', {scope: 'col'}, ctx.t(k))))), body));
}

/** An area's label on the map: its name, then the category in words and the wave height. */
function areaLabel(ctx, p) {
  return ctx.h('span', {}, ctx.h('strong', {}, p.name), ctx.h('br'), `${categoryText(ctx, p.category)}, ${num(p.wave_m, 'm')}`);
}

function legend(ctx) {
  return ctx.h('ul', {class: 'wb-legend', 'aria-label': ctx.t('legend')},
    ...CATEGORIES.slice(0, 6).map((c) => ctx.h('li', {},
      ctx.h('span', {class: 'wb-swatch', 'aria-hidden': 'true', style: `background:${c.colour}`}), ctx.lang === 'en' ? c.en : c.id)),
    ctx.h('li', {}, ctx.h('span', {class: 'wb-swatch', 'aria-hidden': 'true', style: `background:${UNKNOWN_COLOUR}`}), ctx.t('unknown')));
}

function loadStyles() {
  if (document.querySelector('link[data-kind-css="wavebuoy"]')) return Promise.resolve();
  const href = new URL('./marine.css', import.meta.url);
  href.search = new URL(import.meta.url).search;
  const link = Object.assign(document.createElement('link'), {rel: 'stylesheet', href: href.href});
  link.dataset.kindCss = 'wavebuoy';
  const loaded = new Promise((ok) => {
    link.addEventListener('load', ok, {once: true});
    link.addEventListener('error', ok, {once: true});
  });
  document.head.append(link);
  return loaded;
}

const marine = {
  id: 'marine',
  nav: true,
  order: 40,
  title: {id: 'Kondisi laut', en: 'Marine conditions'},
  roles: 'MARINE_READERS',
  strings,
  async render(el, ctx) {
    await loadStyles();
    locale = ctx.lang === 'en' ? 'en-GB' : 'id-ID';
    ctx.setTitle(ctx.t('heading'));
    const [first, buoys] = await Promise.all([ctx.api('/marine-conditions'), ctx.api('/buoys', {query: {limit: 500}})]);
    // The hours ahead count from the time the server answered for (`at`), not the browser's
    // clock: the slider's first hour is then the hour the first map was judged at, even when the
    // hour turns between the two or the device's clock is off.
    const hours = forecastHours(first.forecast, Date.parse(first.at));

    const status = ctx.h('div', {class: 'wb-status', role: 'status'});
    const mapEl = ctx.h('div', {class: 'wb-map', role: 'region', 'aria-label': ctx.t('map'), 'data-area-count': '0'});
    const areaBody = ctx.h('tbody', {});
    const noAreas = ctx.h('p', {hidden: true}, ctx.t('noAreas'));
    const slider = ctx.h('input', {id: 'marine-hour', type: 'range', min: 0, max: Math.max(0, hours.length - 1), step: 1, value: 0});
    const hourLabel = ctx.h('output', {for: 'marine-hour', 'data-testid': 'marine-hour-label'});
    const buoyBody = ctx.h('tbody', {});
    el.append(
      ctx.h('h1', {}, ctx.t('heading')),
      status,
      ...(hours.length ? [ctx.h('div', {class: 'wb-hour'}, ctx.h('label', {for: 'marine-hour'}, ctx.t('hour')), slider, hourLabel)] : []),
      ctx.h('div', {class: 'wb-layout'},
        ctx.h('div', {}, mapEl, legend(ctx)),
        ctx.h('section', {'aria-labelledby': 'wb-areas-h'}, ctx.h('h2', {id: 'wb-areas-h'}, ctx.t('areas')),
          noAreas, table(ctx, AREA_COLUMNS, areaBody))),
      ctx.h('section', {'aria-labelledby': 'wb-buoys-h'}, ctx.h('h2', {id: 'wb-buoys-h'}, ctx.t('buoys')),
        buoys.data.length ? table(ctx, BUOY_COLUMNS, buoyBody)
          : ctx.h('p', {}, ctx.t('noBuoys'))));

    const f = first.forecast;
    const limits = first.small_boat_limits;
    status.append(...(f.current
      ? [ctx.h('p', {}, ctx.t('issued', {time: ctx.fmtTime(f.issued, {date: true}), until: ctx.fmtTime(f.valid_until, {date: true})}),
        f.source ? ` ${ctx.t('source', {source: f.source})}` : '')]
      : [ctx.h('p', {class: 'wb-warning', 'data-testid': 'marine-no-forecast'}, ctx.t('noForecast')),
        ctx.h('p', {'data-testid': 'marine-problem', 'data-code': f.problem_code ?? ''}, problemText(ctx, f)),
        ctx.h('p', {class: 'wb-detail', lang: 'en'}, ctx.h('small', {}, f.problem || ''))]),
    ...(limits ? [ctx.h('p', {}, ctx.t('limits', {wave: num(limits.wave_m, 'm'), wind: num(limits.wind_kn, ctx.t('kn'))}))] : []));

    const map = await ctx.map(mapEl, {bbox: first.bbox.length === 4 ? first.bbox : undefined});
    const areas = L.featureGroup().addTo(map);
    const judgedBuoys = new Map(first.features.filter((x) => x.properties.kind === 'buoy').map((x) => [x.properties.id, x]));
    const buoyLayer = L.featureGroup().addTo(map);
    map.createPane('wb-buoys').style.zIndex = '660'; // above the areas' labels (tooltips, 650): a buoy is never hidden
    for (const b of buoys.data) {
      const p = judgedBuoys.get(b.id)?.properties;
      L.circleMarker([b.lat, b.lon], {radius: 7, weight: 2, color: '#102a43', fillColor: colourOf(p?.category?.code), fillOpacity: 1,
        className: 'wb-buoy', pane: 'wb-buoys'})
        // An element, not a string: Leaflet puts a string in as HTML, and a buoy's name is data.
        .bindTooltip(ctx.h('span', {}, `${b.name}: ${num(b.hs_m, 'm')}, ${num(b.wind_kn, ctx.t('kn'))}, ${b.observed_at ? ctx.fmtTime(b.observed_at, {date: true}) : '–'}`))
        .addTo(buoyLayer);
    }
    buoyBody.replaceChildren(...buoys.data.map((b) => buoyRow(ctx, b, judgedBuoys.get(b.id))));

    const hourText = (i) => {
      const time = ctx.fmtTime(new Date(hours[i]).toISOString(), {date: true});
      return i === 0 ? `${time} (${ctx.t('now')})` : ctx.t('ahead', {time, n: i});
    };
    const draw = (answer, at) => {
      const shown = answer.features.filter((x) => x.properties.kind === 'forecast_area');
      areas.clearLayers();
      for (const a of shown) {
        const p = a.properties;
        L.geoJSON(a, {style: {color: '#102a43', weight: 1.5, fillColor: colourOf(p.category?.code), fillOpacity: 0.6, className: 'wb-area'}})
          .bindTooltip(areaLabel(ctx, p), {permanent: true, direction: 'center', className: 'wb-area-label'})
          .addTo(areas);
      }
      areaBody.replaceChildren(...shown.map((a) => areaRow(ctx, a)));
      noAreas.hidden = shown.length > 0;
      mapEl.dataset.areaCount = String(shown.length);
      mapEl.dataset.hour = at ?? '';
    };
    draw(first, hours.length ? new Date(hours[0]).toISOString() : null);
    // The whole of each area in view (an area may reach beyond the tenant's region), once.
    if (areas.getLayers().length) map.fitBounds(areas.getBounds().extend(map.getBounds()), {padding: [8, 8]});
    requestAnimationFrame(() => ctx.mark('map-drawn:marine'));

    let asked = 0;
    let pending = null;
    const show = async () => {
      pending = null;
      const i = Number(slider.value);
      const at = new Date(hours[i]).toISOString();
      const mine = ++asked;
      const answer = await ctx.api('/marine-conditions', {query: {at}});
      if (mine === asked) draw(answer, at); // a later choice wins over a slow answer
    };
    const label = () => {
      const text = hourText(Number(slider.value));
      hourLabel.textContent = text;
      slider.setAttribute('aria-valuetext', text);
    };
    if (hours.length) {
      label();
      slider.addEventListener('input', () => {
        label();
        clearTimeout(pending);
        pending = setTimeout(() => show().catch((err) => console.error(err)), 150);
      });
    }
    const timer = setInterval(() => hours.length && show().catch(() => {}), REFRESH_MS);
    return () => {
      clearInterval(timer);
      clearTimeout(pending);
    };
  },
};

export default [marine];
