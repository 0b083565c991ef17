//! Running the real `wristband` binary, as a user or a script would.

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::process::{Child, Command};

use crate::support::TestEnv;

/// The binary, run in `dir`, with no WRISTBAND_* setting inherited from the caller.
pub fn wristband(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wristband"));
    command.current_dir(dir).kill_on_drop(true).stdin(Stdio::null());
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("WRISTBAND_")) {
        command.env_remove(name);
    }
    command
}

/// The binary configured for `env`'s database and master key.
pub fn wristband_in(env: &TestEnv) -> Command {
    let mut command = wristband(env.dir.path());
    command.env("WRISTBAND_DATABASE_URL", &env.database_url).env("WRISTBAND_MASTER_KEY_FILE", env.master_key_path());
    if let Some(issuer) = &env.cli_issuer {
        command.env("WRISTBAND_ISSUER", issuer);
    }
    command
}

pub struct Run {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Self {
        Self {
            success: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// Runs a CLI command in `env`, feeding `stdin` when given.
pub async fn cli(env: &TestEnv, args: &[&str], stdin: Option<&str>) -> Run {
    let mut command = wristband_in(env);
    command.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    if stdin.is_some() {
        command.stdin(Stdio::piped());
    }
    let mut child = command.spawn().expect("wristband runs");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin pipe");
        pipe.write_all(input.as_bytes()).await.expect("write stdin");
    }
    child.wait_with_output().await.expect("wristband finishes").into()
}

/// Runs a CLI command that must succeed, returning its stdout.
pub async fn cli_ok(env: &TestEnv, args: &[&str], stdin: Option<&str>) -> String {
    let run = cli(env, args, stdin).await;
    assert!(run.success, "wristband {args:?} failed: {}", run.stderr);
    run.stdout
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Polls `/readyz` until it answers 200, for at most 60 s; fails at once if `server`
/// exits first (it could not listen, open the database, ...).
pub async fn wait_until_ready(base: &str, server: &mut Child) {
    let client = reqwest::Client::new();
    for _ in 0..600 {
        if let Ok(response) = client.get(format!("{base}/readyz")).send().await
            && response.status() == 200
        {
            return;
        }
        if let Ok(Some(status)) = server.try_wait() {
            panic!("wristband serve for {base} exited before it was ready: {status}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{base} did not become ready");
}
