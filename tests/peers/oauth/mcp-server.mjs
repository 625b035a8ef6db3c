// An MCP server that requires OAuth, for qcode's `mcp login` tests: one process runs
//   * a real authorization server, panva's `oidc-provider` (OpenID Certified): dynamic client
//     registration (RFC 7591), authorization code + PKCE (S256 required), resource
//     indicators (RFC 8707: tokens are issued for the MCP server's URL only), refresh tokens,
//     discovery (RFC 8414 / OpenID); and
//   * a streamable-HTTP MCP server on the official TypeScript SDK that answers 401 with a
//     `WWW-Authenticate` pointing at its protected-resource metadata (RFC 9728) and verifies
//     every bearer token against the provider (it must exist, be unexpired, and be issued for
//     this resource with scope `mcp:tools`).
//
// Both bind 127.0.0.1. Interactions (login, consent) are approved at once for the account
// `test-user`, so a "browser" that follows redirects with a cookie jar completes the sign-in.
//
// Env: AS_PORT, MCP_PORT (required), ACCESS_TTL seconds (default 3600).
// Test hooks on the MCP port: GET /__health, GET /__log (JSON: every /mcp request with the
// bearer it carried and whether it verified; every token request's grant_type and resource),
// POST /__revoke (body: an access token the MCP server refuses from then on, with a 401).
import http from 'node:http';
import Provider from 'oidc-provider';
import { McpServer } from '../mcp/node_modules/@modelcontextprotocol/sdk/dist/esm/server/mcp.js';
import { StreamableHTTPServerTransport } from '../mcp/node_modules/@modelcontextprotocol/sdk/dist/esm/server/streamableHttp.js';

const HOST = '127.0.0.1';
const AS_PORT = Number(process.env.AS_PORT);
const MCP_PORT = Number(process.env.MCP_PORT);
if (!AS_PORT || !MCP_PORT) {
  console.error('AS_PORT and MCP_PORT are required');
  process.exit(2);
}
const ACCESS_TTL = Number(process.env.ACCESS_TTL || 3600);
const ISSUER = `http://${HOST}:${AS_PORT}`;
const RESOURCE = `http://${HOST}:${MCP_PORT}/mcp`;
const PRM_PATH = '/.well-known/oauth-protected-resource/mcp';
const SCOPE = 'mcp:tools';

const log = { mcp: [], token: [] };
// Tokens the MCP server refuses from now on (POST /__revoke), as if revoked or expired early.
const refused = new Set();

const provider = new Provider(ISSUER, {
  // A client registered beforehand (`qcode mcp login --client-id`): confidential, native, any
  // loopback port (RFC 8252 s7.3).
  clients: [
    {
      client_id: 'qcode-preregistered',
      client_secret: 'preregistered-secret-not-real',
      application_type: 'native',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/callback'],
    },
  ],
  features: {
    registration: { enabled: true },
    devInteractions: { enabled: false },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, indicator) => {
        if (indicator !== RESOURCE) throw new Provider.errors.InvalidTarget(`unknown resource ${indicator}`);
        return { scope: SCOPE, audience: RESOURCE, accessTokenTTL: ACCESS_TTL, accessTokenFormat: 'opaque' };
      },
    },
  },
  // The resource's scope is listed too: clients may name it when they register.
  scopes: ['openid', 'offline_access', SCOPE],
  clientDefaults: { grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'none' },
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  ttl: { AccessToken: ACCESS_TTL, RefreshToken: 86400, Grant: 86400, Interaction: 600, Session: 86400, AuthorizationCode: 60 },
  findAccount: async (ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  cookies: { keys: ['test-only-cookie-key-not-secret'] },
  renderError: async (ctx, out) => {
    ctx.type = 'json';
    ctx.body = out;
  },
});

// Approve every interaction at once: log in `test-user`, grant what is asked.
provider.use(async (ctx, next) => {
  if (ctx.method === 'POST' && ctx.path === '/token') {
    await next();
    const body = (ctx.oidc && ctx.oidc.body) || {};
    log.token.push({ status: ctx.status, grant_type: body.grant_type || null, resource: body.resource || null });
    return undefined;
  }
  if (!ctx.path.startsWith('/interaction/')) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const { prompt, params, session } = details;
  let result;
  if (prompt.name === 'login') {
    result = { login: { accountId: 'test-user' } };
  } else {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const d = prompt.details;
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
    if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
    if (d.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(d.missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    result = { consent: { grantId: await grant.save() } };
  }
  await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
  return undefined;
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));

// --- the MCP server ------------------------------------------------------
async function verify(header) {
  const m = /^Bearer (.+)$/.exec(header || '');
  if (!m) return { bearer: null, valid: false };
  const token = await provider.AccessToken.find(m[1]);
  const aud = token && [].concat(token.aud || []);
  const valid = Boolean(token && !refused.has(m[1]) && !token.isExpired && aud.includes(RESOURCE) && String(token.scope || '').split(' ').includes(SCOPE));
  return { bearer: m[1], valid, account: token && token.accountId };
}

function mcpServer(account) {
  const server = new McpServer({ name: 'oauth-protected', version: '1.0.0' });
  server.registerTool('whoami', { description: 'Says who the bearer token belongs to' }, async () => ({
    content: [{ type: 'text', text: `signed in as ${account}` }],
  }));
  return server;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const mcp = http.createServer(async (req, res) => {
  const url = new URL(req.url, RESOURCE);
  if (url.pathname === '/__health') return res.end('{"ok":true}');
  if (url.pathname === '/__revoke' && req.method === 'POST') {
    refused.add((await readBody(req)).trim());
    return res.end('{"ok":true}');
  }
  if (url.pathname === '/__log') {
    res.setHeader('content-type', 'application/json');
    return res.end(JSON.stringify(log));
  }
  if (url.pathname === PRM_PATH) {
    res.setHeader('content-type', 'application/json');
    return res.end(JSON.stringify({ resource: RESOURCE, authorization_servers: [ISSUER], scopes_supported: [SCOPE], bearer_methods_supported: ['header'] }));
  }
  if (url.pathname !== '/mcp') {
    res.statusCode = 404;
    return res.end();
  }
  const check = await verify(req.headers.authorization);
  log.mcp.push({ method: req.method, bearer: check.bearer, valid: check.valid });
  if (!check.valid) {
    res.statusCode = 401;
    const error = check.bearer ? ', error="invalid_token"' : '';
    res.setHeader('www-authenticate', `Bearer resource_metadata="http://${HOST}:${MCP_PORT}${PRM_PATH}", scope="${SCOPE}"${error}`);
    res.setHeader('content-type', 'application/json');
    return res.end('{"error":"unauthorized"}');
  }
  if (req.method !== 'POST') {
    res.statusCode = 405;
    return res.end();
  }
  const raw = await readBody(req);
  let body;
  try {
    body = JSON.parse(raw);
  } catch {
    res.statusCode = 400;
    return res.end();
  }
  const server = mcpServer(check.account);
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on('close', () => {
    transport.close();
    server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, body);
  return undefined;
});

const as = provider.listen(AS_PORT, HOST, () => {
  mcp.listen(MCP_PORT, HOST, () => console.log(`authorization server ${ISSUER}, MCP server ${RESOURCE}`));
});
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    mcp.close();
    as.close(() => process.exit(0));
  });
}
