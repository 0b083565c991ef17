//! Invalid configuration stops start-up with an error naming the setting.

use crate::support::process::{Run, wristband};

async fn serve_with(vars: &[(&str, &str)], toml: Option<&str>, args: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    if let Some(text) = toml {
        std::fs::write(dir.path().join("wristband.toml"), text).unwrap();
    }
    let mut command = wristband(dir.path());
    command.args(args).arg("serve").envs(vars.iter().copied());
    let run: Run = command.output().await.unwrap().into();
    assert!(!dir.path().join("data").exists(), "nothing is created before the configuration is valid");
    run
}

#[tokio::test]
async fn invalid_settings_stop_start_up_and_name_the_setting() {
    let cases: [(&[(&str, &str)], &str); 5] = [
        (&[("WRISTBAND_ISSUER", "http://id.example.com")], "allow_insecure_issuer"),
        (&[("WRISTBAND_BIND", "not-an-address")], "`bind`"),
        (&[("WRISTBAND_TOKENS_ACCESS_TOKEN_SECONDS", "forever")], "WRISTBAND_TOKENS_ACCESS_TOKEN_SECONDS"),
        (&[("WRISTBAND_DATABASE_URL", "mysql://db/wristband")], "`database_url`"),
        (&[("WRISTBAND_MASTER_KEY", "dG9vIHNob3J0")], "`master_key`"),
    ];
    for (vars, expected) in cases {
        let run = serve_with(vars, None, &[]).await;
        assert!(!run.success, "{vars:?}");
        assert!(run.stderr.contains(expected), "{vars:?}: {}", run.stderr);
    }
}

#[tokio::test]
async fn the_configuration_file_is_read_and_its_mistakes_reported() {
    let run = serve_with(&[], Some("isuer = \"https://id.example.com\"\n"), &[]).await;
    assert!(!run.success && run.stderr.contains("isuer"), "{}", run.stderr);

    let run = serve_with(&[], Some("[keys]\nrsa_bits = 1024\n"), &[]).await;
    assert!(!run.success && run.stderr.contains("keys.rsa_bits"), "{}", run.stderr);

    let run = serve_with(&[], None, &["--config", "missing.toml"]).await;
    assert!(!run.success && run.stderr.contains("missing.toml"), "{}", run.stderr);
}
