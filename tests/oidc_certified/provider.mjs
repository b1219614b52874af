// A certified OpenID provider for the tests: panva's oidc-provider (package.json pins it),
// configured for one confidential client, with a minimal sign-in page of our own.
// Started by tests/certified_provider.py; run by hand with e.g.
//   CLIENT_ID=c CLIENT_SECRET=s REDIRECT_URIS=http://testserver/oidc/callback/ \
//   ACCOUNTS_FILE=accounts.json node tests/oidc_certified/provider.mjs
//
// Environment:
//   PORT                       listen on 127.0.0.1:PORT (0 or unset: a free port); the issuer is
//                              http://127.0.0.1:<port>
//   CLIENT_ID, CLIENT_SECRET   the one client (client_secret_basic, code flow, PKCE S256, RS256)
//   REDIRECT_URIS              comma-separated, exact
//   POST_LOGOUT_REDIRECT_URIS  comma-separated, may be empty
//   BACKCHANNEL_LOGOUT_URI     optional: registered with backchannel_logout_session_required, so
//                              ID tokens carry `sid` and ending a session POSTs a logout_token there
//   ACCOUNTS_FILE              JSON {"<login>": {"sub": ..., "name": ..., "groups": [...], ...}},
//                              re-read on every account lookup
//   EXIT_WITH_STDIN            optional: exit when stdin closes (the parent process is gone)
//
// Routes of our own (the rest is oidc-provider's; discovery says where):
//   GET  /interaction/:uid        a form with one input, `login`
//   POST /interaction/:uid/login  login=<name>: signs that account in (unknown login: 400)
// Consent is never asked: loadExistingGrant grants our client what it requests.
// Ending a provider session is the standard RP-Initiated Logout: GET /session/end renders a
// form with a hidden `xsrf`; POST /session/end/confirm with xsrf and logout=yes ends it and
// sends back-channel logout tokens.
//
// Prints "listening on http://127.0.0.1:<port>" once ready; one line per notable event on
// stdout ("event <name> <json>"); errors on stderr, as lines starting "error ". Exits on
// SIGTERM/SIGINT.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';

import Provider from 'oidc-provider';

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`provider.mjs: ${name} must be set`);
    process.exit(2);
  }
  return value;
}

function list(name) {
  return (process.env[name] || '').split(',').map((item) => item.trim()).filter(Boolean);
}

const CLIENT_ID = required('CLIENT_ID');
const CLIENT_SECRET = required('CLIENT_SECRET');
const REDIRECT_URIS = list('REDIRECT_URIS');
const POST_LOGOUT_REDIRECT_URIS = list('POST_LOGOUT_REDIRECT_URIS');
const BACKCHANNEL_LOGOUT_URI = process.env.BACKCHANNEL_LOGOUT_URI || '';
const ACCOUNTS_FILE = required('ACCOUNTS_FILE');
if (!REDIRECT_URIS.length) {
  console.error('provider.mjs: REDIRECT_URIS must name at least one redirect URI');
  process.exit(2);
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function readAccounts() {
  return JSON.parse(fs.readFileSync(ACCOUNTS_FILE, 'utf8'));
}

// Accounts are known by their `sub` (the accountId oidc-provider keeps in its session).
function accountBySub(sub) {
  return Object.values(readAccounts()).find((claims) => claims.sub === sub);
}

function emit(name, details) {
  console.log(`event ${name} ${JSON.stringify(details)}`);
}

function page(ctx, status, title, body) {
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('cache-control', 'no-store');
  ctx.body = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
</body>
</html>
`;
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = {
  ...privateKey.export({ format: 'jwk' }),
  kid: crypto.randomBytes(12).toString('base64url'),
  use: 'sig',
  alg: 'RS256',
};

const client = {
  client_id: CLIENT_ID,
  client_secret: CLIENT_SECRET,
  redirect_uris: REDIRECT_URIS,
  post_logout_redirect_uris: POST_LOGOUT_REDIRECT_URIS,
  response_types: ['code'],
  grant_types: ['authorization_code'],
  token_endpoint_auth_method: 'client_secret_basic',
  id_token_signed_response_alg: 'RS256',
  ...(BACKCHANNEL_LOGOUT_URI
    ? { backchannel_logout_uri: BACKCHANNEL_LOGOUT_URI, backchannel_logout_session_required: true }
    : {}),
};

const configuration = {
  clients: [client],
  jwks: { keys: [signingKey] },
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  // Scope -> claims. `groups` rides on `profile` (the site asks for "openid email profile");
  // a `groups` scope asks for it alone, as Okta's does.
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'nickname', 'preferred_username', 'groups'],
    groups: ['groups'],
    acr: null,
    auth_time: null,
    iss: null,
    sid: null,
  },
  // Put the scope's claims in the ID token too (not only userinfo), as Keycloak and Okta do.
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: false },
    backchannelLogout: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  pkce: { methods: ['S256'], required: () => true },
  responseTypes: ['code'],
  enabledJWA: { idTokenSigningAlgValues: ['RS256'] },
  ttl: {
    AccessToken: 600,
    AuthorizationCode: 60,
    IdToken: 600,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
  async findAccount(ctx, sub) {
    if (!accountBySub(sub)) return undefined;
    return {
      accountId: sub,
      // Read when the claims are used, so a change between sign-ins shows at the next one.
      async claims() {
        return { ...(accountBySub(sub) || {}), sub };
      },
    };
  },
  // Consent for our own client is implied: grant whatever OpenID scopes and claims it asks for.
  async loadExistingGrant(ctx) {
    const { oidc } = ctx;
    const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
    let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
    if (oidc.client.clientId !== CLIENT_ID) return grant;
    grant ||= new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId: oidc.account.accountId });
    grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '));
    if (oidc.requestParamClaims.size) grant.addOIDCClaims([...oidc.requestParamClaims]);
    await grant.save();
    return grant;
  },
  async renderError(ctx, out, error) {
    const lines = Object.entries(out).map(([key, value]) => `<p>${escapeHtml(key)}: ${escapeHtml(value)}</p>`);
    page(ctx, ctx.status || 400, 'Provider error', lines.join('\n'));
  },
};

const server = http.createServer();
server.on('clientError', (err, socket) => socket.destroy());
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(Number(process.env.PORT || 0), '127.0.0.1', resolve);
});
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, configuration);
try {
  // Static clients are validated on first use: fail now, not at the first sign-in.
  await provider.Client.find(CLIENT_ID);
} catch (err) {
  console.error(`error client: ${err?.error_description || err?.message || err}`);
  process.exit(2);
}

for (const name of [
  'server_error', 'authorization.error', 'grant.error', 'userinfo.error', 'end_session.error',
  'discovery.error', 'jwks.error', 'introspection.error', 'revocation.error',
]) {
  provider.on(name, (ctx, err) => {
    // prompt=none without a session is normal operation, not an error of the provider.
    if (name === 'authorization.error' && err?.error === 'login_required') {
      emit('authorization.login_required', { description: err.error_description });
      return;
    }
    console.error(`error ${name}: ${err?.stack || err}${err?.error_description ? ` (${err.error_description})` : ''}`);
  });
}
provider.on('backchannel.error', (ctx, err, client, accountId, sid) => {
  console.error(`error backchannel.error: ${client.clientId} ${accountId} ${sid}: ${err?.stack || err}`);
});
provider.on('backchannel.success', (ctx, client, accountId, sid) => {
  emit('backchannel.success', { client_id: client.clientId, sub: accountId, sid });
});
provider.on('end_session.success', () => emit('end_session.success', {}));
provider.on('grant.success', (ctx) => emit('grant.success', { client_id: ctx.oidc.client?.clientId }));

const INTERACTION = /^\/interaction\/([\w-]+)$/;
const INTERACTION_LOGIN = /^\/interaction\/([\w-]+)\/login$/;

// Runs after oidc-provider's own routes found no match.
provider.use(async (ctx, next) => {
  try {
    return await interaction(ctx, next);
  } catch (err) {
    console.error(`error interaction: ${err?.stack || err}`);
    return page(ctx, 500, 'Provider error', `<p>${escapeHtml(err.message)}</p>`);
  }
});

async function interaction(ctx, next) {
  const show = ctx.method === 'GET' && INTERACTION.exec(ctx.path);
  const login = ctx.method === 'POST' && INTERACTION_LOGIN.exec(ctx.path);
  if (!show && !login) return next();
  let details;
  try {
    details = await provider.interactionDetails(ctx.req, ctx.res);
  } catch (err) {
    return page(ctx, 400, 'No such sign-in', `<p>${escapeHtml(err.message)}</p>`);
  }
  if (details.prompt.name !== 'login') {
    // loadExistingGrant answers consent; anything else is unexpected here.
    return page(ctx, 400, 'Unsupported interaction', `<p>prompt ${escapeHtml(details.prompt.name)}</p>`);
  }
  if (show) {
    return page(ctx, 200, 'Sign in', `<form method="post" action="/interaction/${escapeHtml(details.uid)}/login">
<label>Login <input type="text" name="login" autofocus></label>
<button type="submit">Sign in</button>
</form>`);
  }
  const form = await readForm(ctx.req);
  const name = form.get('login') || '';
  const accounts = readAccounts();
  const account = Object.hasOwn(accounts, name) ? accounts[name] : undefined;
  if (!account?.sub) {
    return page(ctx, 400, 'Unknown login', `<p>No account ${escapeHtml(name)}</p>`);
  }
  emit('login', { login: name, sub: account.sub });
  return provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: account.sub } }, {
    mergeWithLastSubmission: false,
  });
}

server.on('request', provider.callback());

function stop(signal) {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
  console.log(`stopping on ${signal}`);
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
if (process.env.EXIT_WITH_STDIN) {
  // The test process holds our stdin: when it ends, however it ends, so do we.
  process.stdin.on('end', () => stop('end of stdin'));
  process.stdin.resume();
}

console.log(`listening on ${issuer}`);
