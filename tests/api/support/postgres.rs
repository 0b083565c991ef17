//! A PostgreSQL cluster of a test's own, which the test may stop and start again: the one
//! `scripts/with-postgres.sh` provides serves the other tests and must stay up. Needs
//! Debian's `postgresql` package, as the PostgreSQL test run does.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use crate::support::process::free_port;

pub struct PgCluster {
    dir: TempDir,
    bin: PathBuf,
    port: u16,
}

impl PgCluster {
    /// A new cluster in a temp dir, started on a free loopback port.
    pub fn start() -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL is installed (apt-get install -y postgresql)")
            .filter_map(|entry| entry.ok().map(|e| e.path().join("bin")))
            .filter(|bin| bin.join("initdb").exists())
            .max_by_key(|bin| bin.parent().and_then(|v| v.file_name()?.to_str()?.parse::<u32>().ok()))
            .expect("a PostgreSQL version with initdb");
        let dir = tempfile::tempdir().expect("temp dir");
        if running_as_root() {
            // initdb refuses to run as root; the cluster belongs to the postgres user.
            run(Command::new("chown").arg("postgres:").arg(dir.path()));
        }
        let cluster = Self { dir, bin, port: free_port() };
        let data = cluster.data();
        run(cluster
            .as_owner("initdb")
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "-D"])
            .arg(&data));
        cluster.start_again();
        cluster
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server as an administrator would (`pg_ctl stop -m fast`): open connections
    /// are terminated.
    pub fn stop(&self) {
        run(self.as_owner("pg_ctl").args(["-m", "fast", "-w", "stop", "-D"]).arg(self.data()));
    }

    pub fn start_again(&self) {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off -c synchronous_commit=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log");
        run(self
            .as_owner("pg_ctl")
            .args(["-w", "-o", &options, "-l"])
            .arg(log)
            .arg("start")
            .arg("-D")
            .arg(self.data()));
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A PostgreSQL program run as the cluster's owner.
    fn as_owner(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        if running_as_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let _ = self.as_owner("pg_ctl").args(["-m", "immediate", "-w", "stop", "-D"]).arg(self.data()).output();
    }
}

/// `/proc/self` belongs to the process's user.
fn running_as_root() -> bool {
    Path::new("/proc/self").metadata().is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
}

fn run(command: &mut Command) {
    let output = command.output().expect("the command runs");
    assert!(output.status.success(), "{command:?} failed: {}", String::from_utf8_lossy(&output.stderr));
}
