// Who is signed in: name, role, agency, time zone.

const strings = {
  id: {heading: 'Akun', name: 'Nama', role: 'Peran', tenant: 'Instansi', timezone: 'Zona waktu', email: 'Email'},
  en: {heading: 'Account', name: 'Name', role: 'Role', tenant: 'Agency', timezone: 'Time zone', email: 'Email'},
};

async function render(el, ctx) {
  const {h, t} = ctx;
  const user = ctx.user;
  const facts = [
    [t('name'), user.name],
    [t('role'), t(`role.${user.role}`)],
    [t('tenant'), `${user.tenant_name} (${user.tenant})`],
    [t('timezone'), `${ctx.tzLabel} (${ctx.tz})`],
  ];
  if (user.email) facts.push([t('email'), user.email]);
  el.append(
    h('h1', {}, t('heading')),
    h('div', {class: 'card'}, h('dl', {class: 'facts'}, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]))),
    h('div', {class: 'actions'}, h('button', {type: 'button', class: 'secondary', 'on:click': () => ctx.signOut()}, t('signout'))),
  );
}

export default [{id: 'account', nav: true, order: 95, title: {id: 'Akun', en: 'Account'}, roles: 'ALL_ROLES', strings, render}];
