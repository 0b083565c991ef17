use wristband::model::{ClientId, Username};
use wristband::security::password::PasswordHasher;
use wristband::security::random::sha256_hex;
use wristband::security::secret::SecretString;
use wristband::store::Store;

use crate::support::TestEnv;
use crate::support::process::{cli, cli_ok};

async fn store(env: &TestEnv) -> Store {
    let store = Store::connect(&SecretString::new(env.database_url.clone())).await.unwrap();
    store.migrate().await.unwrap();
    store
}

async fn password_works(env: &TestEnv, username: &str, password: &str) -> bool {
    let user = store(env).await.find_user_by_username(&Username::parse(username).unwrap()).await.unwrap().unwrap();
    let hasher = PasswordHasher::new(&env.config().password).unwrap();
    hasher.verify(&SecretString::new(password), Some(&user.password_hash)).await.unwrap()
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[tokio::test]
async fn user_add_reads_one_line_of_stdin_with_or_without_a_newline() {
    let env = TestEnv::new().await;

    let out = cli_ok(
        &env,
        &[
            "user",
            "add",
            "Alice",
            "--email",
            "alice@example.com",
            "--name",
            "Alice A",
            "--role",
            "reader",
            "--role",
            "admin:billing",
            "--password-stdin",
        ],
        Some("correct horse battery\n"),
    )
    .await;
    cli_ok(&env, &["user", "add", "bob", "--password-stdin"], Some("no newline here")).await;

    assert!(out.contains("created user alice"), "{out}");
    assert!(password_works(&env, "alice", "correct horse battery").await);
    assert!(password_works(&env, "bob", "no newline here").await);
    let users = json(&cli_ok(&env, &["user", "list", "--json"], None).await);
    let alice = users.as_array().unwrap().iter().find(|u| u["username"] == "alice").expect("alice listed");
    assert_eq!(alice["email"], "alice@example.com");
    assert_eq!(alice["name"], "Alice A");
    assert_eq!(alice["roles"], serde_json::json!(["admin:billing", "reader"]));
    assert_eq!(alice["admin"], false);
    assert!(uuid::Uuid::parse_str(alice["sub"].as_str().unwrap()).is_ok(), "sub is an opaque uuid");
}

#[tokio::test]
async fn user_add_without_a_password_prints_a_generated_one_that_works() {
    let env = TestEnv::new().await;

    let created = json(&cli_ok(&env, &["user", "add", "carol", "--json"], None).await);

    let password = created["password"].as_str().expect("generated password printed");
    assert!(password.len() >= 16);
    assert!(password_works(&env, "carol", password).await);
    let stored = store(&env).await.find_user_by_username(&Username::parse("carol").unwrap()).await.unwrap().unwrap();
    assert!(stored.password_hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{}", stored.password_hash);
}

#[tokio::test]
async fn a_duplicate_user_is_refused_and_changes_nothing() {
    let env = TestEnv::new().await;
    cli_ok(&env, &["user", "add", "alice", "--password-stdin"], Some("first password")).await;

    let run = cli(&env, &["user", "add", "ALICE", "--password-stdin"], Some("second password")).await;

    assert!(!run.success);
    assert!(run.stderr.contains("user `alice` already exists"), "{}", run.stderr);
    assert!(password_works(&env, "alice", "first password").await);
    assert_eq!(store(&env).await.list_users().await.unwrap().len(), 1);
}

#[tokio::test]
async fn invalid_users_and_passwords_are_refused_with_the_reason() {
    let env = TestEnv::new().await;
    let cases: [(&[&str], Option<&str>, &str); 4] = [
        (&["user", "add", "bad name"], None, "username"),
        (&["user", "add", "dave", "--email", "not-an-email"], None, "email"),
        (&["user", "add", "dave", "--password-stdin"], Some("short\n"), "at least 8 characters"),
        (&["user", "add", "dave", "--password-stdin"], Some(""), "no password"),
    ];
    for (args, stdin, reason) in cases {
        let run = cli(&env, args, stdin).await;
        assert!(!run.success, "{args:?}");
        assert!(run.stderr.contains(reason), "{args:?}: {}", run.stderr);
    }
    assert!(store(&env).await.list_users().await.unwrap().is_empty());
}

#[tokio::test]
async fn disable_enable_and_set_password_act_on_existing_users_only() {
    let env = TestEnv::new().await;
    cli_ok(&env, &["user", "add", "alice", "--password-stdin"], Some("old password")).await;

    cli_ok(&env, &["user", "disable", "alice"], None).await;
    let disabled = json(&cli_ok(&env, &["user", "list", "--json"], None).await);
    cli_ok(&env, &["user", "enable", "alice"], None).await;
    let enabled = json(&cli_ok(&env, &["user", "list", "--json"], None).await);
    cli_ok(&env, &["user", "set-password", "alice", "--password-stdin"], Some("new password\n")).await;

    assert_eq!(disabled[0]["disabled"], true);
    assert_eq!(enabled[0]["disabled"], false);
    assert!(password_works(&env, "alice", "new password").await);
    assert!(!password_works(&env, "alice", "old password").await);
    for command in ["disable", "enable", "set-password"] {
        let run = cli(&env, &["user", command, "nobody"], None).await;
        assert!(!run.success && run.stderr.contains("no user `nobody`"), "{command}: {}", run.stderr);
    }
}

#[tokio::test]
async fn client_add_prints_a_secret_once_and_stores_only_its_hash() {
    let env = TestEnv::new().await;

    let created = json(
        &cli_ok(
            &env,
            &["client", "add", "demo", "--redirect-uri", "http://127.0.0.1:9000/cb", "--name", "Demo App", "--json"],
            None,
        )
        .await,
    );

    assert_eq!(created["client_id"], "demo");
    assert_eq!(created["name"], "Demo App");
    assert_eq!(created["grant_types"], serde_json::json!(["authorization_code", "refresh_token"]));
    let secret = created["client_secret"].as_str().expect("a confidential client gets a secret");
    assert!(secret.starts_with("wbs_") && secret.len() >= 47, "{secret}");
    let stored = store(&env).await.find_client(&ClientId::parse("demo").unwrap()).await.unwrap().unwrap();
    assert_eq!(stored.secret_hash.as_deref(), Some(sha256_hex(secret).as_str()));
    let listed = cli_ok(&env, &["client", "list", "--json"], None).await;
    assert!(!listed.contains(secret), "the secret is never shown again");
}

#[tokio::test]
async fn public_and_service_clients_get_what_they_need() {
    let env = TestEnv::new().await;

    let spa = json(
        &cli_ok(
            &env,
            &[
                "client",
                "add",
                "spa",
                "--public",
                "--redirect-uri",
                "https://app.example.com/cb",
                "--post-logout-redirect-uri",
                "https://app.example.com/",
                "--first-party",
                "--backchannel-logout-uri",
                "https://app.example.com/bcl",
                "--json",
            ],
            None,
        )
        .await,
    );
    let service = json(&cli_ok(&env, &["client", "add", "svc", "--grant", "client_credentials", "--json"], None).await);

    assert_eq!(spa["public"], true);
    assert!(spa["client_secret"].is_null());
    assert_eq!(spa["first_party"], true);
    assert_eq!(spa["post_logout_redirect_uris"], serde_json::json!(["https://app.example.com/"]));
    assert_eq!(spa["backchannel_logout_uri"], "https://app.example.com/bcl");
    assert_eq!(service["grant_types"], serde_json::json!(["client_credentials"]));
    assert!(service["client_secret"].as_str().is_some());
    let listed = json(&cli_ok(&env, &["client", "list", "--json"], None).await);
    assert_eq!(listed.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn bad_redirect_uris_and_duplicates_are_refused_and_change_nothing() {
    let env = TestEnv::new().await;
    cli_ok(&env, &["client", "add", "demo", "--redirect-uri", "https://app.example.com/cb"], None).await;
    let cases: [(&[&str], &str); 7] = [
        (
            &[
                "client",
                "add",
                "x",
                "--redirect-uri",
                "https://a.example.com/cb",
                "--backchannel-logout-uri",
                "com.example.app:/bcl",
            ],
            "http(s)",
        ),
        (&["client", "add", "x", "--redirect-uri", "/cb"], "not an absolute URI"),
        (&["client", "add", "x", "--redirect-uri", "https://app.example.com/cb#top"], "fragment"),
        (&["client", "add", "x", "--redirect-uri", "http://app.example.com/cb"], "https"),
        (&["client", "add", "x", "--public", "--grant", "client_credentials"], "public client"),
        (&["client", "add", "x"], "--redirect-uri"),
        (&["client", "add", "demo", "--redirect-uri", "https://other.example.com/cb"], "client `demo` already exists"),
    ];
    for (args, reason) in cases {
        let run = cli(&env, args, None).await;
        assert!(!run.success, "{args:?}");
        assert!(run.stderr.contains(reason), "{args:?}: {}", run.stderr);
    }
    let clients = store(&env).await.list_clients().await.unwrap();
    assert_eq!(clients.len(), 1);
    assert_eq!(clients[0].redirect_uris[0].as_str(), "https://app.example.com/cb");
}

#[tokio::test]
async fn rotate_secret_replaces_the_secret_and_remove_deletes_the_client() {
    let env = TestEnv::new().await;
    let created = json(
        &cli_ok(&env, &["client", "add", "demo", "--redirect-uri", "https://a.example.com/cb", "--json"], None).await,
    );
    let old_secret = created["client_secret"].as_str().unwrap();

    let out = cli_ok(&env, &["client", "rotate-secret", "demo"], None).await;
    let new_secret = out.lines().find_map(|l| l.strip_prefix("client_secret: ")).expect("new secret printed");
    let after_rotation = store(&env).await.find_client(&ClientId::parse("demo").unwrap()).await.unwrap().unwrap();
    cli_ok(&env, &["client", "remove", "demo"], None).await;

    assert_ne!(new_secret, old_secret);
    assert_eq!(after_rotation.secret_hash.as_deref(), Some(sha256_hex(new_secret).as_str()));
    assert!(store(&env).await.list_clients().await.unwrap().is_empty());
    for args in [["client", "remove", "demo"], ["client", "rotate-secret", "demo"]] {
        let run = cli(&env, &args, None).await;
        assert!(!run.success && run.stderr.contains("no client `demo`"), "{args:?}: {}", run.stderr);
    }
}

#[tokio::test]
async fn a_running_server_takes_a_secret_rotated_by_the_cli_at_once() {
    let env = TestEnv::new().await;
    let created =
        json(&cli_ok(&env, &["client", "add", "service", "--grant", "client_credentials", "--json"], None).await);
    let old_secret = created["client_secret"].as_str().unwrap();
    let app = env.spawn().await;
    let grant = [("grant_type", "client_credentials")];
    assert_eq!(app.post_token("service", old_secret, &grant).await.status(), 200, "the server now knows the client");

    let out = cli_ok(&env, &["client", "rotate-secret", "service"], None).await;
    let new_secret = out.lines().find_map(|l| l.strip_prefix("client_secret: ")).expect("new secret printed");

    assert_eq!(app.post_token("service", new_secret, &grant).await.status(), 200);
}

#[tokio::test]
async fn a_public_client_has_no_secret_to_rotate() {
    let env = TestEnv::new().await;
    cli_ok(&env, &["client", "add", "spa", "--public", "--redirect-uri", "https://a.example.com/cb"], None).await;

    let run = cli(&env, &["client", "rotate-secret", "spa"], None).await;

    assert!(!run.success && run.stderr.contains("public"), "{}", run.stderr);
}

#[tokio::test]
async fn every_admin_change_is_audited_without_secrets() {
    let env = TestEnv::new().await;
    cli_ok(&env, &["user", "add", "alice", "--password-stdin"], Some("a secret password")).await;
    let created = json(
        &cli_ok(&env, &["client", "add", "demo", "--redirect-uri", "https://a.example.com/cb", "--json"], None).await,
    );
    cli_ok(&env, &["user", "disable", "alice"], None).await;

    let events = store(&env).await.recent_audit_events(10).await.unwrap();

    let names: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(names, ["user_disabled", "client_created", "user_created"]);
    assert!(events.iter().all(|e| e.details["via"] == "cli"));
    assert_eq!(events[1].client_id.as_deref(), Some("demo"));
    let dump = format!("{events:?}");
    assert!(!dump.contains("a secret password"));
    assert!(!dump.contains(created["client_secret"].as_str().unwrap()));
}

#[tokio::test]
async fn migrate_brings_an_empty_database_up_to_date() {
    let env = TestEnv::new().await;

    let out = cli_ok(&env, &["migrate"], None).await;

    assert!(out.contains("up to date"));
    assert!(store(&env).await.list_users().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_cli_works_while_a_server_writes_to_the_same_database() {
    let (env, app, secret, tokens) = crate::support::browser::app_with_tokens().await;
    let writes = async {
        let mut token = tokens["refresh_token"].as_str().unwrap().to_owned();
        for _ in 0..30 {
            let response =
                app.post_token("demo", &secret, &[("grant_type", "refresh_token"), ("refresh_token", &token)]).await;
            assert_eq!(response.status(), 200);
            token = response.json::<serde_json::Value>().await.unwrap()["refresh_token"].as_str().unwrap().to_owned();
        }
    };
    let commands = futures::future::join_all((0..6).map(|i| {
        let env = &env;
        async move {
            let args: &[&str] = if i % 2 == 0 { &["user", "list", "--json"] } else { &["keys", "list"] };
            cli(env, args, None).await
        }
    }));

    let ((), runs) = tokio::join!(writes, commands);

    for run in runs {
        assert!(run.success, "{}", run.stderr);
    }
}

#[tokio::test]
async fn a_localhost_redirect_uri_is_accepted_with_a_warning_to_use_the_loopback_ip() {
    let env = TestEnv::new().await;

    let localhost =
        cli(&env, &["client", "add", "cli-app", "--public", "--redirect-uri", "http://localhost:8080/cb"], None).await;
    let literal =
        cli(&env, &["client", "add", "ip-app", "--public", "--redirect-uri", "http://127.0.0.1:8080/cb"], None).await;

    assert!(localhost.success && literal.success);
    assert!(
        localhost.stderr.contains("RFC 8252 §8.3") && localhost.stderr.contains("127.0.0.1"),
        "{}",
        localhost.stderr
    );
    assert!(!literal.stderr.contains("warning"), "{}", literal.stderr);
}
