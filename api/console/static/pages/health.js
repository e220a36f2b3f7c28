// Device and gateway health: when each gateway was last heard, its outbox and rejected frames,
// and per device the last reading and battery (GET /api/v1/gateways).

const strings = {
  id: {
    'heading': 'Kesehatan perangkat',
    'unavailable': 'Data kesehatan perangkat belum tersedia di server ini.',
    'none': 'Belum ada gateway yang mengirim laporan kesehatan.',
    'gateway': 'Gateway',
    'state': 'Keadaan',
    'state.ok': 'Terhubung',
    'state.stale': 'Tidak terdengar',
    'state.link_down': 'Uplink putus',
    'last_seen': 'Terakhir terdengar',
    'uptime': 'Waktu nyala',
    'outbox': 'Antrean kirim',
    'outbox.value': '{items} item · {size}',
    'rejected': 'Bingkai ditolak',
    'devices': 'Perangkat gateway {gateway}',
    'device': 'Perangkat',
    'kind': 'Jenis',
    'platform': 'Lokasi',
    'battery': 'Baterai',
    'summary': '{n} gateway, {stale} tidak terdengar',
  },
  en: {
    'heading': 'Device health',
    'unavailable': 'Device health is not available on this server yet.',
    'none': 'No gateway has sent a health report yet.',
    'gateway': 'Gateway',
    'state': 'State',
    'state.ok': 'Connected',
    'state.stale': 'Not heard',
    'state.link_down': 'Uplink down',
    'last_seen': 'Last heard',
    'uptime': 'Uptime',
    'outbox': 'Outbox',
    'outbox.value': '{items} items · {size}',
    'rejected': 'Rejected frames',
    'devices': 'Devices of gateway {gateway}',
    'device': 'Device',
    'kind': 'Kind',
    'platform': 'Platform',
    'battery': 'Battery',
    'summary': '{n} gateways, {stale} not heard',
  },
};

export function bytes(n) {
  if (n === null || n === undefined) return '–';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return d ? `${d} d ${h} h` : h ? `${h} h ${m} min` : `${m} min`;
}

function battery(device) {
  const parts = [];
  if (device.battery_v !== null && device.battery_v !== undefined) parts.push(`${device.battery_v} V`);
  if (device.battery_pct !== null && device.battery_pct !== undefined) parts.push(`${device.battery_pct} %`);
  return parts.join(' · ') || '–';
}

function stateOf(gateway) {
  if (gateway.stale) return 'stale';
  return gateway.link_up === false ? 'link_down' : 'ok';
}

function table(h, caption, headers, rows) {
  return h(
    'div',
    {class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': caption},
    h('table', {}, h('caption', {class: 'muted'}, caption), h('thead', {}, h('tr', {}, headers.map((x) => h('th', {scope: 'col'}, x)))), h('tbody', {}, rows)),
  );
}

async function render(el, ctx) {
  const {h, t} = ctx;
  el.append(h('h1', {}, t('heading')));
  let gateways;
  try {
    gateways = await ctx.api('/gateways');
  } catch (err) {
    if (err instanceof ctx.ApiError && err.status === 404) {
      el.append(h('p', {class: 'empty', 'data-testid': 'health-unavailable'}, t('unavailable')));
      return;
    }
    throw err;
  }
  gateways = Array.isArray(gateways) ? gateways : gateways?.data ?? [];
  if (!gateways.length) {
    el.append(h('p', {class: 'empty'}, t('none')));
    return;
  }
  const stale = gateways.filter((g) => g.stale).length;
  el.append(h('p', {class: 'muted'}, t('summary', {n: gateways.length, stale})));
  const rows = gateways.map((g) =>
    h(
      'tr',
      {'data-testid': 'gateway-row', 'data-gateway': g.gateway, 'data-state': stateOf(g)},
      h('th', {scope: 'row'}, g.gateway),
      h('td', {}, h('span', {class: `status ${g.stale ? 'status-active' : 'status-cleared'}`}, t(`state.${stateOf(g)}`))),
      h('td', {}, ctx.fmtTime(g.last_seen_at)),
      h('td', {}, duration(g.uptime_s)),
      h('td', {}, t('outbox.value', {items: g.outbox_items ?? '–', size: bytes(g.outbox_bytes)})),
      h('td', {}, String(g.rejected_frames ?? 0)),
    ),
  );
  el.append(table(h, t('heading'), [t('gateway'), t('state'), t('last_seen'), t('uptime'), t('outbox'), t('rejected')], rows));
  for (const g of gateways.filter((x) => x.devices?.length)) {
    const caption = t('devices', {gateway: g.gateway});
    el.append(h('h2', {}, caption));
    const deviceRows = g.devices.map((d) =>
      h(
        'tr',
        {'data-testid': 'device-row', 'data-device': d.device},
        h('th', {scope: 'row'}, d.device),
        h('td', {}, d.kind ?? '–'),
        h('td', {}, d.platform ?? '–'),
        h('td', {}, ctx.fmtTime(d.last_seen_at)),
        h('td', {}, battery(d)),
        h('td', {}, String(d.rejected_frames ?? 0)),
      ),
    );
    el.append(table(h, caption, [t('device'), t('kind'), t('platform'), t('last_seen'), t('battery'), t('rejected')], deviceRows));
  }
}

// Who reads gateway health: the alert readers (admin, disaster office, viewer), as /gateways allows.
export default [{id: 'health', nav: true, order: 80, title: {id: 'Kesehatan perangkat', en: 'Device health'}, roles: 'ALERT_READERS', strings, render}];
