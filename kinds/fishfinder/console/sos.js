// SOS incidents: the rescue's list (open first) and one incident with its track, the nearest
// vessels and its lifecycle; the owner fisher opens their own incident (#/sos/<id>) to see
// whether help is coming, without operators' names or other boats (the API leaves them out).

import {destination, distance, ensureStyles, errorText, field, fitTo, mapRegion, num, position, table, trackLine, vesselMarker} from './sea_common.js?v={{build}}';

const STATUS_RANK = {open: 0, acknowledged: 1, resolved: 2};

function statusChip(ctx, status) {
  return ctx.h('span', {class: `sea-chip sea-status-${status}`, 'data-testid': 'sos-status'}, ctx.t(`sos.status.${status}`));
}

function natureText(ctx, nature) {
  const key = `nature.${nature}`;
  const text = ctx.t(key);
  return text === key ? nature : text;
}

/** Open incidents first, then acknowledged, then resolved; newest first within each (the API's order). */
export function incidentOrder(incidents) {
  return incidents
    .map((incident, i) => [incident, i])
    .sort(([a, i], [b, j]) => (STATUS_RANK[a.status] - STATUS_RANK[b.status]) || (i - j))
    .map(([incident]) => incident);
}

function followIncidents(ctx, matches, reload) {
  if (!ctx.onAlertEvent || !ctx.can('ALERT_READERS')) return () => {};
  return ctx.onAlertEvent((event) => {
    if (event && event.alert && matches(event)) reload();
  });
}

async function renderList(el, ctx) {
  ctx.setTitle(ctx.t('sos.title'));
  el.append(ctx.h('h1', {}, ctx.t('sos.title')));
  if (!ctx.can('SOS_RESPONDERS')) {
    el.append(ctx.h('p', {}, ctx.t('sos.list_for_rescue')));
    return undefined;
  }
  const mapEl = mapRegion(ctx, ctx.t('sos.title'));
  const listEl = ctx.h('div', {});
  el.append(mapEl, listEl);
  const map = await ctx.map(mapEl, {});
  const markers = L.layerGroup().addTo(map);

  async function load() {
    const answer = await ctx.api('/sos', {query: {limit: 200}});
    const incidents = incidentOrder(answer.data);
    markers.clearLayers();
    const points = [];
    for (const incident of incidents) {
      if (incident.status === 'resolved' || incident.lat === null) continue;
      const marker = vesselMarker(ctx, incident.lat, incident.lon, {id: incident.vessel, name: incident.vessel_name, kind: 'casualty'});
      marker.on('click', () => ctx.navigate(`#/sos/${incident.id}`));
      markers.addLayer(marker);
      points.push([incident.lat, incident.lon]);
    }
    fitTo(map, points);
    ctx.mark('map-drawn:sos');
    listEl.replaceChildren(incidents.length ? incidentTable(ctx, incidents) : ctx.h('p', {class: 'empty'}, ctx.t('sos.none')));
  }

  await load();
  return followIncidents(ctx, (e) => e.alert.kind === 'fishfinder' && e.alert.type === 'sos', () => load().catch(() => {}));
}

function incidentTable(ctx, incidents) {
  const rows = incidents.map((incident) => ctx.h('tr', {
    'data-testid': 'sos-row', 'data-incident-id': String(incident.id), 'data-status': incident.status,
    class: `sea-row-${incident.status}`,
  },
  ctx.h('td', {}, ctx.h('a', {href: `#/sos/${incident.id}`}, `${incident.vessel_name} (${incident.vessel})`)),
  ctx.h('td', {}, natureText(ctx, incident.nature)),
  ctx.h('td', {}, statusChip(ctx, incident.status)),
  ctx.h('td', {}, ctx.fmtTime(incident.opened_at, {date: true})),
  ctx.h('td', {}, incident.lat === null ? ctx.t('sos.position_none')
    : `${position(incident.lat, incident.lon)} · ${ctx.fmtTime(incident.position_at, {date: true})}`)));
  return table(ctx, ['sos.vessel', 'sos.nature', 'sos.status', 'sos.opened', 'sos.position'], rows, ctx.t('sos.title'));
}

/** The operators' notes by lifecycle step, from the incident's alert history (alert readers only). */
async function notesOf(ctx, id) {
  if (!ctx.can('ALERT_READERS')) return {};
  const answer = await ctx.api(`/alerts/${encodeURIComponent(id)}/events`, {query: {limit: 500}});
  const steps = {acknowledged: 'acknowledged', cleared: 'resolved', closed: 'resolved'};
  const notes = {};
  for (const event of answer.data) {
    const note = event.detail && event.detail.note;
    if (note && steps[event.kind]) notes[steps[event.kind]] = note;
  }
  return notes;
}

function lifecycle(ctx, incident, notes) {
  const step = (name, at, who) => ctx.h('li', {'data-step': name, class: at ? 'sea-step-done' : 'sea-step-pending'},
    ctx.h('strong', {}, ctx.t(`sos.${name}`)), ' ',
    at ? ctx.fmtTime(at, {date: true}) : ctx.t('sos.pending'),
    who ? ` ${ctx.t('sos.by', {who})}` : '',
    notes[name] ? [' — ', ctx.h('q', {}, notes[name])] : '');
  return ctx.h('ol', {class: 'sea-lifecycle', 'data-testid': 'sos-lifecycle'},
    step('raised', incident.opened_at, null),
    step('acknowledged', incident.acknowledged_at, incident.acknowledged_by),
    step('resolved', incident.resolved_at, incident.resolved_by));
}

function nearestTable(ctx, nearest) {
  if (!nearest.length) return ctx.h('p', {class: 'empty'}, ctx.t('sos.nearest_none'));
  const rows = nearest.map((v) => ctx.h('tr', {'data-testid': 'sos-nearest', 'data-vessel-id': v.id},
    ctx.h('td', {}, `${v.name} (${v.id})`),
    ctx.h('td', {}, distance(ctx, v.distance_nm, v.distance_km)),
    ctx.h('td', {}, `${num(ctx, v.bearing_to_casualty_deg, 0)}°`),
    ctx.h('td', {}, ctx.fmtTime(v.last_seen_at, {date: true}))));
  return table(ctx, ['sos.vessel', 'sos.distance', 'sos.bearing_to', 'sos.last_seen'], rows, ctx.t('sos.nearest'));
}

/** The responder's note and buttons: made once per page, so that a redraw (the boat repeating
 * its call, another operator acting) keeps what is being typed; `show(incident)` sets the buttons:
 * acknowledge while open, resolve until resolved, none once resolved. */
function actions(ctx, act) {
  const note = ctx.h('textarea', {id: 'sos-note', 'data-testid': 'sos-note', rows: '2', maxlength: '1000'});
  const error = ctx.h('p', {class: 'error', 'data-testid': 'sos-error', role: 'alert'});
  const buttons = ctx.h('div', {class: 'actions'});
  const button = (name) => ctx.h('button', {
    type: 'button', class: name === 'resolve' ? 'secondary' : '', 'data-testid': `sos-${name}`,
    'on:click': async (event) => {
      const target = event.currentTarget;
      target.disabled = true;
      error.textContent = '';
      try {
        await act(name, note.value.trim());
        note.value = '';
      } catch (e) {
        error.textContent = ctx.t('sos.action_failed', {detail: errorText(e)});
        target.disabled = false;
      }
    },
  }, ctx.t(`sos.${name}`));
  const box = ctx.h('div', {class: 'card sea-actions'}, ctx.h('label', {for: 'sos-note'}, ctx.t('sos.note')), note, buttons, error);
  function show(incident) {
    box.hidden = incident.status === 'resolved';
    buttons.replaceChildren(...(incident.status === 'open' ? [button('acknowledge')] : []), ...(box.hidden ? [] : [button('resolve')]));
  }
  return {box, show};
}

async function renderIncident(el, ctx, id) {
  const responder = ctx.can('SOS_RESPONDERS');
  const heading = ctx.h('h1', {}, ctx.t('sos.title'));
  const summary = ctx.h('div', {class: 'sea-summary'});
  const mapEl = mapRegion(ctx, ctx.t('sos.title'));
  const trackEl = ctx.h('p', {'data-testid': 'sos-track'});
  const lifecycleEl = ctx.h('div', {});
  const nearestEl = ctx.h('div', {});
  const responding = responder ? actions(ctx, (name, note) => act(name, note)) : null;
  el.append(...(responder ? [ctx.h('p', {}, ctx.h('a', {href: '#/sos'}, `← ${ctx.t('sos.back')}`))] : []), heading, summary, mapEl,
    trackEl, ctx.h('h2', {}, ctx.t('sos.lifecycle')), lifecycleEl, ...(responding ? [responding.box] : []), nearestEl);
  const load = () => Promise.all([ctx.api(`/sos/${encodeURIComponent(id)}`), notesOf(ctx, id)]);
  const [map, first] = await Promise.all([ctx.map(mapEl, {}), load()]);
  const layers = L.layerGroup().addTo(map);

  function draw([incident, notes]) {
    const title = ctx.t('sos.incident', {vessel: incident.vessel_name});
    heading.textContent = title;
    ctx.setTitle(title);
    summary.replaceChildren(ctx.h('dl', {class: 'facts'},
      field(ctx, ctx.t('sos.vessel'), `${incident.vessel_name} (${incident.vessel})`),
      field(ctx, ctx.t('sos.nature'), natureText(ctx, incident.nature)),
      field(ctx, ctx.t('sos.status'), statusChip(ctx, incident.status)),
      field(ctx, ctx.t('sos.position'), incident.lat === null ? ctx.t('sos.position_none')
        : `${position(incident.lat, incident.lon)} · ${ctx.fmtTime(incident.position_at, {date: true})}`)),
    ...(responder || incident.status === 'resolved' ? []
      : [ctx.h('p', {class: 'notice', 'data-testid': 'sos-help'}, ctx.t(incident.status === 'acknowledged' ? 'sos.help_coming' : 'sos.waiting'))]));

    layers.clearLayers();
    const points = incident.track.map((f) => [f.lat, f.lon]);
    if (points.length > 1) layers.addLayer(trackLine(incident.track, 'sea-track sea-track-distress'));
    if (incident.lat !== null) {
      layers.addLayer(vesselMarker(ctx, incident.lat, incident.lon, {id: incident.vessel, name: incident.vessel_name, kind: 'casualty'}));
      points.push([incident.lat, incident.lon]);
    }
    for (const v of incident.lat === null ? [] : incident.nearest || []) {
      // The API gives each nearby vessel's distance and bearing from the casualty, not its position.
      const [lat, lon] = destination(incident.lat, incident.lon, v.bearing_from_casualty_deg, v.distance_km);
      layers.addLayer(vesselMarker(ctx, lat, lon, {id: v.id, name: v.name, kind: 'nearby'}));
      points.push([lat, lon]);
    }
    fitTo(map, points);
    ctx.mark('map-drawn:sos');

    trackEl.textContent = ctx.t('sos.track', {n: incident.track.length});
    lifecycleEl.replaceChildren(lifecycle(ctx, incident, notes));
    if (responding) responding.show(incident);
    nearestEl.replaceChildren(...(incident.nearest ? [ctx.h('h2', {}, ctx.t('sos.nearest')), nearestTable(ctx, incident.nearest)] : []));
  }

  async function reload() {
    draw(await load());
  }

  async function act(name, note) {
    await ctx.api(`/sos/${encodeURIComponent(id)}/${name}`, {method: 'POST', body: note ? {note} : {}});
    await reload();
  }

  draw(first);
  return followIncidents(ctx, (e) => String(e.alert_id) === String(id), () => reload().catch(() => {}));
}

export default {
  id: 'sos',
  nav: true,
  order: 40,
  title: {id: 'SOS', en: 'SOS'},
  roles: 'SOS_READERS', // a fisher opens their own boat's incident (#/sos/<id>)...
  navRoles: 'SOS_RESPONDERS', // ...but the list of every incident, in the navigation, is the rescue's
  async render(el, ctx, params) {
    ensureStyles();
    return params && params.length ? renderIncident(el, ctx, params[0]) : renderList(el, ctx);
  },
};
