// An OpenID Connect provider for the tests: node-oidc-provider with its development
// sign-in pages (any password), the accounts and clients the test passes in
// OIDC_TEST_CONFIG, and consent granted without asking (a first-party client).
//
//   OIDC_TEST_CONFIG='{"port": 8123, "clients": [...], "accounts": {"dora": {...}}}' node oidc_provider.mjs
import Provider from "oidc-provider";

const config = JSON.parse(process.env.OIDC_TEST_CONFIG);
const issuer = `http://127.0.0.1:${config.port}`;

const provider = new Provider(issuer, {
  clients: config.clients.map((client) => ({
    grant_types: ["authorization_code"],
    response_types: ["code"],
    token_endpoint_auth_method: "client_secret_post",
    ...client,
  })),
  async findAccount(ctx, id) {
    const account = config.accounts[id];
    if (!account) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...account }) };
  },
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name", "given_name", "family_name", "preferred_username"],
  },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ["test-only-cookie-key"] },
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope("openid email profile");
    await grant.save();
    return grant;
  },
});

// The test site's port is chosen at run time: a client may also use its callback path
// (redirect_paths) on a loopback or test host, whatever the port.
const registered = provider.Client.prototype.redirectUriAllowed;
provider.Client.prototype.redirectUriAllowed = function (value) {
  if (registered.call(this, value)) return true;
  try {
    const url = new URL(value);
    return (config.redirect_paths || []).includes(url.pathname) && ["localhost", "127.0.0.1", "testserver"].includes(url.hostname);
  } catch {
    return false;
  }
};

const server = provider.listen(config.port, "127.0.0.1", () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
