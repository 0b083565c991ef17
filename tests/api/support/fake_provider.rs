//! A small OAuth 2.0 / OpenID Connect provider for the tests that need an upstream to say
//! what a real one would not: an ID token for another audience, a wrong nonce, a key it
//! just added; or a GitHub-style provider with no ID token at all. It serves discovery,
//! JWKS, a token endpoint answering with whatever ID token the test set, and a user
//! document behind its access token. The real round trip uses a second wristband instead.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use josekit::jwk::alg::rsa::RsaKeyPair;
use josekit::jws::{JwsHeader, RS256};
use josekit::jwt::JwtPayload;

pub const ACCESS_TOKEN: &str = "fake-access-token";

/// A token request as received: its Authorization header and its form.
pub type TokenRequest = (Option<String>, Vec<(String, String)>);

#[derive(Default)]
struct State {
    keys: Vec<RsaKeyPair>,
    id_token: Option<String>,
    id_tokens_by_code: std::collections::HashMap<String, String>,
    user: serde_json::Value,
    token_requests: Vec<TokenRequest>,
    jwks_fetches: usize,
}

pub struct FakeProvider {
    pub issuer: String,
    state: Arc<Mutex<State>>,
    handle: ServerHandle,
}

impl FakeProvider {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let data = web::Data::new((issuer.clone(), Arc::clone(&state)));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/.well-known/openid-configuration", web::get().to(discovery))
                .route("/jwks", web::get().to(jwks))
                .route("/token", web::post().to(token))
                .route("/user", web::get().to(user))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        let provider = Self { issuer, state, handle };
        provider.add_key("k1");
        provider
    }

    /// Publishes a new key (it signs from now on: the last one added).
    pub fn add_key(&self, kid: &str) {
        let mut pair = RS256.generate_key_pair(2048).unwrap();
        pair.set_key_id(Some(kid));
        self.state.lock().unwrap().keys.push(pair);
    }

    /// An ID token signed by the newest published key, or by `stranger` when given.
    pub fn sign(&self, claims: serde_json::Value, stranger: Option<&RsaKeyPair>) -> String {
        let state = self.state.lock().unwrap();
        let pair = stranger.unwrap_or_else(|| state.keys.last().unwrap());
        let mut header = JwsHeader::new();
        header.set_token_type("JWT");
        header.set_key_id(pair.key_id().unwrap());
        let serde_json::Value::Object(map) = claims else { panic!("claims are an object") };
        let signer = RS256.signer_from_jwk(&pair.to_jwk_private_key()).unwrap();
        josekit::jwt::encode_with_signer(&JwtPayload::from_map(map).unwrap(), &header, &signer).unwrap()
    }

    /// What the token endpoint answers next with.
    pub fn answer_with_id_token(&self, token: String) {
        self.state.lock().unwrap().id_token = Some(token);
    }

    /// What the token endpoint answers a request for `code` with (for concurrent sign-ins).
    pub fn answer_code_with(&self, code: &str, token: String) {
        self.state.lock().unwrap().id_tokens_by_code.insert(code.to_owned(), token);
    }

    /// The user document of a GitHub-style provider.
    pub fn set_user(&self, user: serde_json::Value) {
        self.state.lock().unwrap().user = user;
    }

    /// Each token request: its Authorization header and its form.
    pub fn token_requests(&self) -> Vec<TokenRequest> {
        self.state.lock().unwrap().token_requests.clone()
    }

    pub fn jwks_fetches(&self) -> usize {
        self.state.lock().unwrap().jwks_fetches
    }

    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}

type Data = web::Data<(String, Arc<Mutex<State>>)>;

async fn discovery(data: Data) -> HttpResponse {
    let issuer = &data.0;
    HttpResponse::Ok().json(serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "end_session_endpoint": format!("{issuer}/logout"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
}

async fn jwks(data: Data) -> HttpResponse {
    let mut state = data.1.lock().unwrap();
    state.jwks_fetches += 1;
    let keys: Vec<serde_json::Value> =
        state.keys.iter().map(|pair| serde_json::Value::Object(pair.to_jwk_public_key().as_ref().clone())).collect();
    HttpResponse::Ok().json(serde_json::json!({ "keys": keys }))
}

async fn token(request: HttpRequest, data: Data, form: web::Form<Vec<(String, String)>>) -> HttpResponse {
    let mut state = data.1.lock().unwrap();
    let authorization = request.headers().get("authorization").map(|v| v.to_str().unwrap().to_owned());
    let form = form.into_inner();
    let code = form.iter().find(|(k, _)| k == "code").map(|(_, v)| v.clone()).unwrap_or_default();
    state.token_requests.push((authorization, form));
    let mut body = serde_json::json!({ "access_token": ACCESS_TOKEN, "token_type": "Bearer" });
    if let Some(id_token) = state.id_tokens_by_code.remove(&code).or_else(|| state.id_token.take()) {
        body["id_token"] = id_token.into();
    }
    HttpResponse::Ok().json(body)
}

async fn user(request: HttpRequest, data: Data) -> HttpResponse {
    let bearer = request.headers().get("authorization").and_then(|v| v.to_str().ok());
    if bearer != Some(&format!("Bearer {ACCESS_TOKEN}")) {
        return HttpResponse::Unauthorized().finish();
    }
    HttpResponse::Ok().json(data.1.lock().unwrap().user.clone())
}
