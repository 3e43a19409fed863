//! A real PostgreSQL server for the database tests: `initdb` into a temp dir, `pg_ctl start` on
//! a free loopback port, stopped when dropped. Postgres refuses to run as root, so as root the
//! server runs as the `postgres` user (`runuser`) and the temp dir is handed to it. There is no
//! mock: when the binaries are missing the test fails, naming `scripts/install-tools.sh`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const INSTALL_HINT: &str =
    "PostgreSQL server binaries (initdb, pg_ctl) not found: run `scripts/install-tools.sh` (as root it runs `apt-get install -y postgresql`)";

/// The superuser's password (the server listens on loopback only, for one test).
pub const SUPERUSER_PASSWORD: &str = "su-pass";

pub struct Postgres {
    pub port: u16,
    pub bin: PathBuf,
    dir: tempfile::TempDir,
    as_postgres: bool,
}

/// Where `initdb` and `pg_ctl` are: `PATH` first, then Debian's versioned directories.
fn server_bin() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>());
    let debian = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"));
    let mut debian: Vec<PathBuf> = debian.collect();
    debian.sort();
    debian.reverse();
    // Prefer a directory with psql next to the server (Debian's /usr/bin/psql is a wrapper).
    debian
        .into_iter()
        .chain(on_path)
        .find(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file())
        .map(|d| {
            std::fs::canonicalize(d.join("initdb"))
                .ok()
                .and_then(|p| p.parent().map(Path::to_path_buf))
                .unwrap_or(d)
        })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl Postgres {
    pub fn start() -> Postgres {
        let bin = server_bin().unwrap_or_else(|| panic!("{INSTALL_HINT}"));
        let as_postgres = is_root();
        let dir = tempfile::Builder::new()
            .prefix("envctl-pg-")
            .tempdir()
            .expect("temp dir");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let pwfile = dir.path().join("pwfile");
        std::fs::write(&pwfile, SUPERUSER_PASSWORD).expect("pwfile");
        if as_postgres {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(status.success(), "chown the temp dir to postgres");
        }
        let pg = Postgres {
            port,
            bin,
            dir,
            as_postgres,
        };
        let data = pg.dir.path().join("data");
        pg.server_cmd(
            "initdb",
            &[
                "-D",
                &data.to_string_lossy(),
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                &format!("--pwfile={}", pwfile.display()),
                "--no-sync",
            ],
        );
        pg.server_cmd(
            "pg_ctl",
            &[
                "-D",
                &data.to_string_lossy(),
                "-l",
                &pg.dir.path().join("log").to_string_lossy(),
                "-w",
                "-o",
                &format!(
                    "-p {port} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
                    pg.dir.path().display()
                ),
                "start",
            ],
        );
        pg
    }

    fn server_cmd(&self, tool: &str, args: &[&str]) {
        let exe = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let out = cmd
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{} failed to start: {e}; {INSTALL_HINT}", exe.display()));
        assert!(
            out.status.success(),
            "{tool} failed: {}\n{}\nserver log: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
        );
    }

    /// `postgres://USER:PASSWORD@127.0.0.1:PORT/DB`, the password percent-encoded.
    pub fn url(&self, user: &str, password: &str, db: &str) -> String {
        let enc: String = password
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        format!("postgres://{user}:{enc}@127.0.0.1:{}/{db}", self.port)
    }

    pub fn superuser_url(&self, db: &str) -> String {
        self.url("postgres", SUPERUSER_PASSWORD, db)
    }

    /// Runs SQL with psql over TCP (password auth) and returns its output.
    pub fn psql(&self, url: &str, sql: &str) -> Output {
        Command::new(self.bin.join("psql"))
            .args([
                "--no-psqlrc",
                "-qAt",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                url,
                "-c",
                sql,
            ])
            .output()
            .expect("psql")
    }

    /// Like `psql`, but the SQL must succeed; returns stdout.
    pub fn sql(&self, url: &str, sql: &str) -> String {
        let out = self.psql(url, sql);
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// A PATH with this server's psql first.
    pub fn path_env(&self) -> String {
        format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let exe = self.bin.join("pg_ctl");
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let _ = cmd
            .args([
                "-D",
                &data.to_string_lossy(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ])
            .output();
    }
}
