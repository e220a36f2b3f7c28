// Fishing grounds on the map and in a list; for the roles that plan routes, a planner: pick a
// ground and a vessel, and the API's safe route appears with its distance, ETA, fuel and verdict
// (go / caution / no-go) with the reasons it gives. Grounds name no vessel or owner (API rule).

import {distance, ensureStyles, errorView, field, fitTo, legend, mapRegion, num, position} from './sea_common.js?v={{build}}';

/** Strongest ground first (the API's score, 1 = the strongest of the answer). */
export function groundOrder(features) {
  return [...features].sort((a, b) => (b.properties.score - a.properties.score) || a.id.localeCompare(b.id));
}

function groundLabel(ctx, feature, n) {
  return `${ctx.t('grounds.ground', {n})} · ${ctx.t('grounds.boats', {n: feature.properties.vessels})}`;
}

function groundDetails(ctx, p) {
  const parts = [`${ctx.t('grounds.score')} ${num(ctx, p.score, 2)}`];
  if (p.depth_min_m !== null) parts.push(ctx.t('grounds.depth', {min: num(ctx, p.depth_min_m, 0), max: num(ctx, p.depth_max_m, 0)}));
  if (p.species.length) parts.push(`${ctx.t('grounds.species')}: ${p.species.join(', ')}`);
  parts.push(`${ctx.t('grounds.last_seen')} ${ctx.fmtTime(p.last_seen, {date: true})}`);
  return parts.join(' · ');
}

function verdictChip(ctx, verdict) {
  return ctx.h('span', {class: `sea-chip sea-verdict-${verdict}`, 'data-testid': 'route-verdict', 'data-verdict': verdict},
    ctx.t(`route.verdict.${verdict}`));
}

function routeResult(ctx, p) {
  const fuel = p.fuel_l === null ? ctx.t('route.fuel_unknown') : `${num(ctx, p.fuel_l)} L`;
  // The reason in the reader's language; the API's own words (English, with the times and values) small under it.
  const reasons = p.reasons.map((r) => ctx.h('li', {'data-testid': 'route-reason', 'data-code': r.code},
    ctx.h('span', {class: `sea-chip sea-verdict-${r.verdict}`}, ctx.t(`route.verdict.${r.verdict}`)), ' ',
    ctx.h('strong', {}, ctx.t(`route.reason.${r.code}`)), ctx.h('br', {}), ctx.h('small', {class: 'sea-error-detail', lang: 'en'}, r.text)));
  return ctx.h('div', {'data-testid': 'route-result'},
    ctx.h('p', {}, verdictChip(ctx, p.verdict)),
    ctx.h('dl', {class: 'facts'},
      field(ctx, ctx.t('route.distance'), distance(ctx, p.distance_nm, p.distance_km), 'route-distance'),
      field(ctx, ctx.t('route.duration'), ctx.t('route.hours', {h: num(ctx, p.duration_h)})),
      field(ctx, ctx.t('route.eta'), ctx.fmtTime(p.eta, {date: true}), 'route-eta'),
      field(ctx, ctx.t('route.fuel'), fuel, 'route-fuel')),
    ctx.h('p', {}, ctx.t('route.limits', {wave: num(ctx, p.limits.wave_m, 2), wind: num(ctx, p.limits.wind_kn, 0)}), ' · ',
      p.forecast ? ctx.t('route.forecast', {time: ctx.fmtTime(p.forecast.issued, {date: true})}) : ctx.t('route.no_forecast')),
    ...(reasons.length ? [ctx.h('h3', {}, ctx.t('route.reasons')), ctx.h('ul', {class: 'sea-reasons'}, ...reasons)] : []));
}

function labelled(ctx, id, label, control, hint) {
  return ctx.h('div', {class: 'sea-control'}, ctx.h('label', {for: id}, label), control,
    ...(hint ? [ctx.h('small', {id: `${id}-hint`, class: 'muted'}, hint)] : []));
}

/** The planner's controls and what they do; `pick(groundId)` is called by the map and the list. */
function planner(ctx, map, grounds, vessels) {
  const routeLayer = L.layerGroup().addTo(map);
  const result = ctx.h('div', {'aria-live': 'polite'});
  const groundSelect = ctx.h('select', {id: 'route-ground'},
    ctx.h('option', {value: ''}, ctx.t('grounds.pick')),
    ...grounds.map((g, i) => ctx.h('option', {value: g.id}, `${groundLabel(ctx, g, i + 1)} (${g.id})`)));
  const vesselSelect = ctx.h('select', {id: 'route-vessel'},
    ...vessels.map((v) => ctx.h('option', {value: v.id}, `${v.name} (${v.id})`)));
  const from = ctx.h('input', {id: 'route-from', type: 'text', inputmode: 'decimal', autocomplete: 'off', 'aria-describedby': 'route-from-hint'});
  let asked = 0;

  function startOfVessel() {
    const v = vessels.find((x) => x.id === vesselSelect.value);
    from.value = v && v.last_lat !== null ? `${v.last_lat.toFixed(5)},${v.last_lon.toFixed(5)}` : '';
  }

  async function plan() {
    const ask = ++asked;
    routeLayer.clearLayers();
    if (!groundSelect.value || !vesselSelect.value) {
      result.replaceChildren();
      return;
    }
    if (!from.value.trim()) {
      result.replaceChildren(ctx.h('p', {class: 'error', 'data-testid': 'route-error'}, ctx.t('route.need_from')));
      return;
    }
    result.replaceChildren(ctx.h('p', {}, ctx.t('route.planning')));
    try {
      const route = await ctx.api('/routes', {query: {from: from.value.trim(), to: groundSelect.value, vessel: vesselSelect.value}});
      if (ask !== asked) return;
      const line = route.geometry.coordinates.map(([lon, lat]) => [lat, lon]);
      routeLayer.addLayer(L.polyline(line, {className: `sea-route sea-route-${route.properties.verdict}`, weight: 4}));
      fitTo(map, line);
      result.replaceChildren(routeResult(ctx, route.properties));
    } catch (e) {
      if (ask !== asked) return;
      result.replaceChildren(ctx.h('p', {class: 'error', 'data-testid': 'route-error', 'data-code': e.code || '', role: 'alert'},
        ...errorView(ctx, e, 'route.error')));
    }
  }

  groundSelect.addEventListener('change', plan);
  vesselSelect.addEventListener('change', () => { startOfVessel(); plan(); });
  map.on('click', (event) => {
    from.value = `${event.latlng.lat.toFixed(5)},${event.latlng.lng.toFixed(5)}`;
    plan();
  });
  startOfVessel();
  const controls = vessels.length
    ? [labelled(ctx, 'route-vessel', ctx.t('route.vessel'), vesselSelect),
      labelled(ctx, 'route-from', ctx.t('route.from'), from, ctx.t('route.from_hint')),
      ctx.h('button', {type: 'button', 'data-testid': 'route-plan', 'on:click': plan}, ctx.t('route.plan'))]
    : [ctx.h('p', {}, ctx.t('route.no_vessels'))];
  const section = ctx.h('section', {class: 'card', 'aria-labelledby': 'route-title'},
    ctx.h('h2', {id: 'route-title'}, ctx.t('route.title')),
    ctx.h('div', {class: 'sea-controls'}, labelled(ctx, 'route-ground', ctx.t('route.ground'), groundSelect), ...controls),
    result);
  const pick = (groundId) => {
    groundSelect.value = groundId;
    plan();
  };
  return {section, pick};
}

async function render(el, ctx) {
  ensureStyles();
  ctx.setTitle(ctx.t('grounds.title'));
  const planning = ctx.can('ROUTE_PLANNERS');
  const mapEl = mapRegion(ctx, ctx.t('grounds.title'));
  const listEl = ctx.h('div', {});
  el.append(ctx.h('h1', {}, ctx.t('grounds.title')), mapEl, legend(ctx, planning ? ['ground', 'land', 'route'] : ['ground', 'land']));
  const [map, collection, vesselAnswer] = await Promise.all([
    ctx.map(mapEl, {}),
    ctx.api('/fishing-grounds'),
    planning ? ctx.api('/vessels', {query: {limit: 500}}) : Promise.resolve({data: []}),
  ]);
  const grounds = groundOrder(collection.features);
  const vessels = vesselAnswer.data;
  const tools = planning ? planner(ctx, map, grounds, vessels) : null;
  const drawn = new Map(); // ground id -> its layer
  const pick = (groundId) => {
    for (const row of listEl.querySelectorAll('[data-testid=ground-row]')) {
      row.setAttribute('aria-pressed', row.dataset.groundId === groundId ? 'true' : 'false');
    }
    for (const [id, layer] of drawn) layer.getElement()?.classList.toggle('sea-ground-picked', id === groundId);
    if (tools) tools.pick(groundId);
  };

  // Water, not land: a dashed teal outline over a light tint (the stylesheet's .sea-ground), never
  // the land's fill, with its number from the list beside it (a small ground stays in view).
  L.geoJSON(grounds, {
    style: () => ({className: 'sea-ground', weight: 2.5}),
    onEachFeature: (feature, layer) => {
      drawn.set(feature.id, layer);
      layer.bindTooltip(ctx.t('grounds.ground', {n: grounds.indexOf(feature) + 1}),
        {permanent: true, direction: 'right', offset: [14, 0], className: 'sea-ground-label'});
      layer.on('click', (event) => {
        L.DomEvent.stopPropagation(event); // a ground's click picks it, not a start position
        pick(feature.id);
      });
    },
  }).addTo(map);
  const points = grounds.map((g) => [g.properties.centre_lat, g.properties.centre_lon]);
  for (const v of vessels) if (v.last_lat !== null) points.push([v.last_lat, v.last_lon]);
  fitTo(map, points);
  ctx.mark('map-drawn:grounds');

  if (!grounds.length) listEl.append(ctx.h('p', {class: 'empty'}, ctx.t('grounds.none')));
  else {
    listEl.append(ctx.h('ul', {class: 'sea-grounds'}, ...grounds.map((g, i) => ctx.h('li', {},
      ctx.h('button', {
        type: 'button', class: 'secondary sea-ground-row', 'data-testid': 'ground-row', 'data-ground-id': g.id, 'aria-pressed': 'false',
        'on:click': () => pick(g.id),
      }, ctx.h('strong', {}, groundLabel(ctx, g, i + 1)), ` · ${position(g.properties.centre_lat, g.properties.centre_lon)}`,
      ctx.h('br', {}), ctx.h('small', {}, groundDetails(ctx, g.properties)))))));
  }
  el.append(...(tools ? [tools.section] : []), listEl);
}

export default {
  id: 'grounds',
  nav: true,
  order: 42,
  title: {id: 'Daerah penangkapan ikan', en: 'Fishing grounds'},
  roles: 'GROUND_READERS',
  render,
};
