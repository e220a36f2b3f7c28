// The signed-in user's own subscriptions: which alerts reach them by email or webhook
// (GET/POST /api/v1/subscriptions, DELETE /api/v1/subscriptions/{id}).

const ALERT_TYPES = ['siaga', 'rate_of_rise', 'offline', 'forecast', 'gateway_health', 'sos', 'overdue', 'marine'];
/** Types only some roles may read (a vessel's distress or lateness names a boat and its crew): the
 * API refuses the others' subscriptions to them, so they are not offered. */
const TYPE_READERS = {sos: 'SOS_RESPONDERS', overdue: 'SOS_RESPONDERS'};

const strings = {
  id: {
    'heading': 'Langganan',
    'intro': 'Peringatan yang dikirim kepada Anda lewat email atau webhook (misalnya gateway WhatsApp atau SMS).',
    'unavailable': 'Langganan belum tersedia di server ini.',
    'none': 'Anda belum berlangganan.',
    'channel': 'Saluran',
    'channel.email': 'Email',
    'channel.webhook': 'Webhook',
    'target': 'Alamat',
    'target.hint': 'Alamat email, atau URL https webhook.',
    'types': 'Jenis peringatan',
    'types.hint': 'Tidak memilih apa pun berarti semua jenis.',
    'subjects': 'Stasiun, kapal atau area laut',
    'subjects.hint': 'Kode dipisah koma; kosong berarti semua.',
    'active': 'Aktif',
    'add': 'Tambah langganan',
    'added': 'Langganan ditambahkan.',
    'secret': 'Kunci tanda tangan webhook ini (hanya ditampilkan sekali; simpan sekarang):',
    'delete.label': 'Hapus langganan {target}',
    'failed': 'Gagal: {detail}',
    'type.siaga': 'Siaga',
    'type.rate_of_rise': 'Kenaikan cepat',
    'type.offline': 'Stasiun diam',
    'type.forecast': 'Perkiraan banjir kiriman',
    'type.gateway_health': 'Gangguan gateway',
    'type.sos': 'SOS',
    'type.overdue': 'Kapal terlambat',
    'type.marine': 'Cuaca laut',
  },
  en: {
    'heading': 'Subscriptions',
    'intro': 'Alerts sent to you by email or webhook (e.g. a WhatsApp or SMS gateway).',
    'unavailable': 'Subscriptions are not available on this server yet.',
    'none': 'You have no subscriptions yet.',
    'channel': 'Channel',
    'channel.email': 'Email',
    'channel.webhook': 'Webhook',
    'target': 'Address',
    'target.hint': 'An email address, or an https webhook URL.',
    'types': 'Alert types',
    'types.hint': 'Choosing none means every type.',
    'subjects': 'Stations, vessels or sea areas',
    'subjects.hint': 'Ids separated by commas; empty means all.',
    'active': 'Active',
    'add': 'Add subscription',
    'added': 'Subscription added.',
    'secret': 'This webhook’s signing secret (shown once only; keep it now):',
    'delete.label': 'Delete subscription {target}',
    'failed': 'Failed: {detail}',
    'type.siaga': 'Siaga',
    'type.rate_of_rise': 'Fast rise',
    'type.offline': 'Station silent',
    'type.forecast': 'Flood expected from upstream',
    'type.gateway_health': 'Gateway trouble',
    'type.sos': 'SOS',
    'type.overdue': 'Vessel overdue',
    'type.marine': 'Marine weather',
  },
};

export function parseSubjects(text) {
  return [...new Set(text.split(',').map((s) => s.trim()).filter(Boolean))];
}

async function render(el, ctx) {
  const {h, t} = ctx;
  el.append(h('h1', {}, t('heading')), h('p', {class: 'muted'}, t('intro')));
  let subscriptions;
  try {
    subscriptions = await ctx.api('/subscriptions');
  } catch (err) {
    if (err instanceof ctx.ApiError && err.status === 404) {
      el.append(h('p', {class: 'empty', 'data-testid': 'subscriptions-unavailable'}, t('unavailable')));
      return;
    }
    throw err;
  }
  let items = Array.isArray(subscriptions) ? subscriptions : subscriptions?.data ?? [];
  const list = h('ul', {class: 'alert-list', 'data-testid': 'subscription-list'});
  const status = h('div', {role: 'status'});

  const all = (values, label) => (values?.length ? values.map(label).join(', ') : t('all'));
  function draw() {
    list.replaceChildren(
      ...(items.length
        ? items.map((s) =>
            h(
              'li',
              {class: 'card', 'data-testid': 'subscription-row', 'data-subscription-id': s.id},
              h('h3', {class: 'title'}, `${t(`channel.${s.channel}`)} · ${s.target}`),
              h(
                'dl',
                {class: 'facts'},
                h('dt', {}, t('types')),
                h('dd', {}, all(s.alert_types, (x) => t(`type.${x}`))),
                h('dt', {}, t('subjects')),
                h('dd', {}, all(s.subjects, (x) => x)),
                h('dt', {}, t('active')),
                h('dd', {}, t(s.active === false ? 'no' : 'yes')),
              ),
              h(
                'div',
                {class: 'actions'},
                h('button', {type: 'button', class: 'danger', 'aria-label': t('delete.label', {target: s.target}), 'on:click': () => remove(s)}, t('delete')),
              ),
            ),
          )
        : [h('li', {class: 'empty'}, t('none'))]),
    );
  }

  async function remove(subscription) {
    try {
      await ctx.api(`/subscriptions/${encodeURIComponent(subscription.id)}`, {method: 'DELETE'});
      items = items.filter((s) => s.id !== subscription.id);
      draw();
    } catch (err) {
      status.replaceChildren(h('p', {class: 'error'}, t('failed', {detail: err.message})));
    }
  }

  const channel = h('select', {id: 'sub-channel', name: 'channel'}, ['email', 'webhook'].map((c) => h('option', {value: c}, t(`channel.${c}`))));
  const target = h('input', {id: 'sub-target', name: 'target', required: true, type: 'email', autocomplete: 'email', 'aria-describedby': 'sub-target-hint'});
  channel.addEventListener('change', () => {
    target.type = channel.value === 'email' ? 'email' : 'url';
    target.autocomplete = channel.value === 'email' ? 'email' : 'url';
  });
  if (ctx.user?.email) target.value = ctx.user.email;
  const types = ALERT_TYPES.filter((type) => !TYPE_READERS[type] || ctx.can(TYPE_READERS[type])).map((type) => h('label', {class: 'inline'}, h('input', {type: 'checkbox', name: 'alert_types', value: type}), t(`type.${type}`)));
  const subjects = h('input', {id: 'sub-subjects', name: 'subjects', 'aria-describedby': 'sub-subjects-hint'});
  const submit = h('button', {type: 'submit', 'data-testid': 'subscription-add'}, t('add'));
  const form = h(
    'form',
    {class: 'card'},
    h('h2', {}, t('add')),
    h('label', {for: 'sub-channel'}, t('channel')),
    channel,
    h('label', {for: 'sub-target'}, t('target')),
    target,
    h('p', {id: 'sub-target-hint', class: 'muted'}, t('target.hint')),
    h('fieldset', {}, h('legend', {}, t('types')), h('p', {class: 'muted'}, t('types.hint')), types),
    h('label', {for: 'sub-subjects'}, t('subjects')),
    subjects,
    h('p', {id: 'sub-subjects-hint', class: 'muted'}, t('subjects.hint')),
    h('div', {class: 'actions'}, submit),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    status.replaceChildren();
    try {
      const created = await ctx.api('/subscriptions', {
        method: 'POST',
        body: {
          channel: channel.value,
          target: target.value.trim(),
          alert_types: [...form.querySelectorAll('input[name=alert_types]:checked')].map((x) => x.value),
          subjects: parseSubjects(subjects.value),
        },
      });
      items = [...items, created];
      draw();
      const shown = [h('p', {}, t('added'))];
      if (created.signing_secret) {
        shown.push(h('p', {class: 'notice'}, t('secret'), ' ', h('code', {'data-testid': 'signing-secret'}, created.signing_secret)));
      }
      status.replaceChildren(...shown);
      form.reset();
    } catch (err) {
      status.replaceChildren(h('p', {class: 'error'}, t('failed', {detail: err.message})));
    } finally {
      submit.disabled = false;
    }
  });
  draw();
  el.append(list, status, form);
}

// Subscriptions are for those who read alerts (api.permissions: /subscriptions takes ALERT_READERS).
export default [{id: 'subscriptions', nav: true, order: 90, title: {id: 'Langganan', en: 'Subscriptions'}, roles: 'ALERT_READERS', strings, render}];
