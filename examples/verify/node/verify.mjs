// Verifies a wristband access token with `jose`: node verify.mjs <token>
// ISSUER (https://id.example.com) and API (your service's API identifier, the `aud` of its
// tokens) come from the environment.
import { createRemoteJWKSet, jwtVerify } from 'jose';

const issuer = process.env.ISSUER;
const audience = process.env.API;

// The key set comes from the issuer's discovery document, never from a token's header.
const metadata = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
if (metadata.issuer !== issuer) throw new Error(`discovery names ${metadata.issuer}, not ${issuer}`);
// Caches the keys, and fetches them again when a token names an unknown kid.
const jwks = createRemoteJWKSet(new URL(metadata.jwks_uri));

export async function verify(token) {
  const { payload } = await jwtVerify(token, jwks, {
    issuer,
    audience,
    algorithms: ['RS256'], // never what the token says
    typ: 'at+jwt', // an ID token is not an access token
    clockTolerance: 60,
    maxTokenAge: '1 day', // requires iat, not in the future; no access token lives longer
  });
  return payload;
}

const claims = await verify(process.argv[2]);
console.log(JSON.stringify({ sub: claims.sub, scope: claims.scope }));
