// The OpenID provider of tests/integration/login.rs: panva's certified oidc-provider, on 127.0.0.1 over plain http
// (the reader accepts plain http for a loopback issuer only). Usage: node provider.mjs PORT (0: any free port);
// prints "listening ISSUER" once it accepts connections, then one line per token grant ("grant GRANT_TYPE").
//
// Client `fci-connector`: native (loopback redirect on any port, RFC 8252), public (PKCE required), with the
// device_code, authorization_code and refresh_token grants. Users alice@, bob@ and carol@contoso.com (any password)
// with a `groups` claim. The development login and consent pages of oidc-provider (devInteractions).
// Environment: OIDC_TOKEN_TTL seconds for access and ID tokens (default 3600; the refresh test uses a short one);
// OIDC_ID_TOKEN_AUDIENCE re-signs every ID token for that audience (with the provider's key: the reader must refuse
// a genuine token for another client); OIDC_PORTAL_REDIRECT adds the web client `fci-portal` of the service's
// tracking site with that redirect URI (tests/integration/portal.rs): confidential with OIDC_PORTAL_SECRET
// (client_secret_post), else public (PKCE alone). User secadmin@contoso.com is the service's admin in those tests.
import crypto from 'node:crypto';
import http from 'node:http';
import Provider from 'oidc-provider';
import { SignJWT, decodeJwt, decodeProtectedHeader, importJWK } from 'jose';

const port = Number(process.argv[2] ?? 0);
const ttl = Number(process.env.OIDC_TOKEN_TTL ?? 3600);
const users = {
  'alice@contoso.com': { name: 'Alice', groups: ['finance@contoso.com'] },
  'bob@contoso.com': { name: 'Bob', groups: ['hr@contoso.com'] },
  'carol@contoso.com': { name: 'Carol', groups: [] },
  'secadmin@contoso.com': { name: 'Security Admin', groups: [] },
};
const key = { ...crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), kid: 'test-key', alg: 'RS256', use: 'sig' };

const portalSecret = process.env.OIDC_PORTAL_SECRET;
const portalClients = process.env.OIDC_PORTAL_REDIRECT ? [{
  client_id: 'fci-portal',
  client_name: 'fci-connector document tracking',
  ...(portalSecret ? { client_secret: portalSecret, token_endpoint_auth_method: 'client_secret_post' } : { token_endpoint_auth_method: 'none' }),
  application_type: 'web',
  grant_types: ['authorization_code'],
  response_types: ['code'],
  redirect_uris: [process.env.OIDC_PORTAL_REDIRECT],
}] : [];

const config = {
  clients: [{
    client_id: 'fci-connector',
    client_name: 'fci-connector',
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/callback'],
  }, ...portalClients],
  jwks: { keys: [key] },
  cookies: { keys: ['fci-connector test cookie key'] },
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    revocation: { enabled: true },
  },
  pkce: { required: () => true },
  scopes: ['openid', 'offline_access', 'email', 'profile', 'groups'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'], groups: ['groups'] },
  // The claims in the ID token itself (the service reads them from the token it is sent).
  conformIdTokenClaims: false,
  ttl: { AccessToken: ttl, IdToken: ttl, DeviceCode: 600, RefreshToken: 86400, Grant: 86400, Session: 86400, Interaction: 600, AuthorizationCode: 60 },
  rotateRefreshToken: () => true,
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  async findAccount(ctx, id) {
    const user = users[id];
    if (!user) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: id, email_verified: true, name: user.name, preferred_username: id, groups: user.groups };
      },
    };
  },
};

// The issuer names the real port: listen first, then build the provider for that address.
const listener = http.createServer();
await new Promise((resolve) => listener.listen(port, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${listener.address().port}`;
const provider = new Provider(issuer, config);
provider.on('grant.success', (ctx) => console.log(`grant ${ctx.oidc.params.grant_type}`));
provider.on('grant.error', (ctx, err) => console.log(`grant-error ${ctx.oidc.params?.grant_type} ${err.error}`));
provider.on('server_error', (ctx, err) => console.error('server_error', err));

const audience = process.env.OIDC_ID_TOKEN_AUDIENCE;
if (audience) {
  const signing = await importJWK(key, 'RS256');
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path === '/token' && ctx.body && typeof ctx.body === 'object' && ctx.body.id_token) {
      const claims = { ...decodeJwt(ctx.body.id_token), aud: audience };
      const header = decodeProtectedHeader(ctx.body.id_token);
      ctx.body = { ...ctx.body, id_token: await new SignJWT(claims).setProtectedHeader(header).sign(signing) };
    }
  });
}

listener.on('request', provider.callback());
console.log(`listening ${issuer}`);
