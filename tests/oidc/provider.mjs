// A real OpenID Connect provider for the sign-in tests: node provider.mjs OTHER_RESOURCE
// It listens on a port the system gives it as it binds, and says which, so no other process can take the
// port first. It issues tokens for any MCP server on this machine (http://127.0.0.1:<port>/mcp), whose port
// is chosen after this one starts, and for OTHER_RESOURCE, the wrong audience.
// People are clients here (client credentials grant), so each token's subject is its client_id. Tokens
// are JWTs signed with a key made at start, except for the "opaque" client, whose tokens are introspected.
import http from "node:http";
import { generateKeyPair, exportJWK } from "jose";
import Provider, { errors } from "oidc-provider";

const [other] = process.argv.slice(2);
const ours = (indicator) => indicator === other || /^http:\/\/127\.0\.0\.1:\d+\/mcp$/.test(indicator);
let handle = (request, response) => {
  response.statusCode = 503;
  response.end();
};
const server = http.createServer((request, response) => handle(request, response));
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;
const person = (id, scope) => ({
  client_id: id,
  client_secret: `${id}-secret-0123456789abcdef`,
  grant_types: ["client_credentials"],
  redirect_uris: [],
  response_types: [],
  scope,
});
const clients = [
  person("alice", "seedance"),
  person("bob", "seedance"),
  person("admin", "seedance seedance:admin"),
  person("carol", "seedance"), // asks for no scope: her tokens lack "seedance"
  person("brief", "seedance"), // tokens that expire in 2 s
  person("opaque", "seedance"), // opaque tokens, checked by introspection
  person("seedance-mcp", "openid"), // the server itself, when it introspects
  ...Array.from({ length: 10 }, (_, n) => person(`person-${n + 1}`, "seedance")), // more people, each a fresh minute
];

const { privateKey } = await generateKeyPair("RS256", { extractable: true });
const signing = { ...(await exportJWK(privateKey)), kid: "test-key", alg: "RS256", use: "sig" };

const provider = new Provider(issuer, {
  clients,
  scopes: ["openid", "seedance", "seedance:admin"],
  jwks: { keys: [signing] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => other,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, indicator, client) => {
        if (!ours(indicator)) throw new errors.InvalidTarget();
        return {
          audience: indicator,
          scope: "seedance seedance:admin",
          accessTokenTTL: client.clientId === "brief" ? 2 : 600,
          accessTokenFormat: client.clientId === "opaque" ? "opaque" : "jwt",
        };
      },
    },
  },
});
handle = provider.callback();
console.log(`oidc-provider listening at ${issuer}`);
