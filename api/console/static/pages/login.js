// Sign in as a person: tenant, name and password (POST /api/v1/session sets the session cookie).

const strings = {
  id: {
    'heading': 'Masuk',
    'intro': 'Masuk ke konsol operator dengan akun instansi Anda.',
    'tenant': 'Instansi',
    'tenant.choose': 'Pilih instansi',
    'tenant.hint': 'Kode instansi, misalnya dki-jakarta.',
    'name': 'Nama pengguna',
    'password': 'Kata sandi',
    'submit': 'Masuk',
    'error.credentials': 'Instansi, nama atau kata sandi salah.',
    'error.rate': 'Terlalu banyak percobaan. Coba lagi dalam beberapa menit.',
    'error.busy': 'Server sedang sibuk. Coba lagi sebentar lagi.',
    'error.unavailable': 'Server ini belum menerima masuk dengan kata sandi.',
    'error.other': 'Tidak dapat masuk: {detail}',
    'signed_in': 'Anda sudah masuk sebagai {name} ({tenant}).',
    'continue': 'Lanjut ke konsol',
  },
  en: {
    'heading': 'Sign in',
    'intro': 'Sign in to the operator console with your agency account.',
    'tenant': 'Agency',
    'tenant.choose': 'Choose an agency',
    'tenant.hint': 'The agency code, e.g. dki-jakarta.',
    'name': 'User name',
    'password': 'Password',
    'submit': 'Sign in',
    'error.credentials': 'Agency, name or password is wrong.',
    'error.rate': 'Too many attempts. Try again in a few minutes.',
    'error.busy': 'The server is busy. Try again in a moment.',
    'error.unavailable': 'This server does not take password sign-in yet.',
    'error.other': 'Could not sign in: {detail}',
    'signed_in': 'You are signed in as {name} ({tenant}).',
    'continue': 'Go to the console',
  },
};

/** The tenants to choose from, or null where the server does not list them (then a text field). */
async function tenants(ctx) {
  try {
    return await ctx.api('/public/tenants');
  } catch (err) {
    if (err instanceof ctx.ApiError && err.status === 404) return null;
    throw err;
  }
}

function tenantField(ctx, list) {
  const {h, t} = ctx;
  if (!list) {
    return [
      h('label', {for: 'login-tenant'}, t('tenant')),
      h('input', {id: 'login-tenant', name: 'tenant', required: true, autocomplete: 'organization', 'aria-describedby': 'login-tenant-hint'}),
      h('p', {id: 'login-tenant-hint', class: 'muted'}, t('tenant.hint')),
    ];
  }
  const options = list.map((tenant) => h('option', {value: tenant.id}, tenant.name));
  if (list.length !== 1) options.unshift(h('option', {value: ''}, t('tenant.choose')));
  return [h('label', {for: 'login-tenant'}, t('tenant')), h('select', {id: 'login-tenant', name: 'tenant', required: true}, options)];
}

function errorText(ctx, err) {
  if (!(err instanceof ctx.ApiError)) return ctx.t('error.other', {detail: err.message});
  if (err.status === 401) return ctx.t('error.credentials');
  if (err.status === 429) return ctx.t('error.rate');
  if (err.status === 503) return ctx.t('error.busy');
  if (err.status === 404 || err.status === 405) return ctx.t('error.unavailable');
  if (err.status === 0) return ctx.t('error.network');
  return ctx.t('error.other', {detail: err.message});
}

async function render(el, ctx) {
  const {h, t} = ctx;
  el.append(h('h1', {}, t('heading')));
  if (ctx.user) {
    el.append(
      h('p', {}, t('signed_in', {name: ctx.user.name, tenant: ctx.user.tenant_name})),
      h('p', {}, h('a', {href: '#/'}, t('continue'))),
    );
    return;
  }
  const error = h('p', {class: 'error', role: 'alert', 'data-testid': 'login-error', hidden: true});
  const submit = h('button', {type: 'submit', 'data-testid': 'login-submit'}, t('submit'));
  const form = h(
    'form',
    {class: 'card login'},
    h('p', {class: 'muted'}, t('intro')),
    tenantField(ctx, await tenants(ctx)),
    h('label', {for: 'login-name'}, t('name')),
    h('input', {id: 'login-name', name: 'name', required: true, autocomplete: 'username', autocapitalize: 'off', spellcheck: 'false'}),
    h('label', {for: 'login-password'}, t('password')),
    h('input', {id: 'login-password', name: 'password', type: 'password', required: true, autocomplete: 'current-password'}),
    error,
    h('div', {class: 'actions'}, submit),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    error.hidden = true;
    try {
      await ctx.signIn({
        tenant: form.elements.tenant.value.trim(),
        name: form.elements.name.value.trim(),
        password: form.elements.password.value,
      });
    } catch (err) {
      error.textContent = errorText(ctx, err);
      error.hidden = false;
      form.elements.password.value = '';
      form.elements.password.focus();
    } finally {
      submit.disabled = false;
    }
  });
  el.append(form);
}

export default [{id: 'login', nav: false, order: 100, title: {id: 'Masuk', en: 'Sign in'}, roles: 'public', strings, render}];
