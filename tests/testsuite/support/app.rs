//! The fixture most tests start from: a private moto server plus an app directory written by
//! `envctl init --app shop`, and the one way to run envctl and keep what it printed (`Run`).

use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

use super::Moto;

/// The task definition template `init` writes.
pub const TD_TEMPLATE: &str = "templates/task-definition.json.j2";

/// One envctl run's outcome.
pub struct Run {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Runs `cmd` with `args` to completion (set its stdin first, if it reads any).
    pub fn of(mut cmd: assert_cmd::Command, args: &[&str]) -> Run {
        let out = cmd.args(args).output().expect("run envctl");
        Run {
            args: args.iter().map(|s| s.to_string()).collect(),
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Waits (at most three minutes) for a started envctl to exit and keeps what it printed.
    pub fn finish(child: std::process::Child, args: &[&str]) -> Run {
        let pid = child.id();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait_with_output());
        });
        let out = match rx.recv_timeout(Duration::from_secs(180)) {
            Ok(out) => out.expect("wait for envctl"),
            Err(_) => {
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
                panic!("envctl {args:?} did not exit within three minutes");
            }
        };
        Run {
            args: args.iter().map(|s| s.to_string()).collect(),
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{self}"))
    }

    /// The `--stats --output json` line on stderr.
    pub fn stats(&self) -> Value {
        let line = self
            .stderr
            .lines()
            .find(|l| l.starts_with("{\"stats\""))
            .unwrap_or_else(|| panic!("no stats line on stderr:\n{self}"));
        serde_json::from_str::<Value>(line).expect("stats line is JSON")["stats"].clone()
    }
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "envctl {:?} exited {}\n--- stdout\n{}\n--- stderr\n{}",
            self.args, self.code, self.stdout, self.stderr
        )
    }
}

/// envctl in `dir` with no AWS settings at all and a fixed help width, so what it prints does not
/// depend on the caller's terminal or environment (clap prints `[env: NAME=value]` for variables
/// that are set). For commands that need no AWS.
pub fn offline(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("envctl").expect("envctl binary");
    cmd.current_dir(dir)
        .env("COLUMNS", "100")
        .env("NO_COLOR", "1")
        .timeout(Duration::from_secs(60));
    for var in [
        "ENVCTL_CONFIG",
        "ENVCTL_MAX_ATTEMPTS",
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// A moto server and an app directory written by `envctl init --app shop`.
pub struct App {
    pub moto: Moto,
    pub dir: TempDir,
}

impl App {
    pub fn init() -> App {
        let app = App {
            moto: Moto::start(),
            dir: tempfile::tempdir().expect("temp dir"),
        };
        app.ok(&["init", "--app", "shop"]);
        app
    }

    /// `init`, then `envctl bootstrap` (the app's cluster and roles).
    pub fn bootstrapped() -> App {
        let app = App::init();
        app.ok(&["bootstrap"]);
        app
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// envctl in the app directory against this app's server, with short polls and the default
    /// config file.
    pub fn envctl(&self) -> assert_cmd::Command {
        let mut cmd = self.moto.envctl(self.path());
        cmd.env("ENVCTL_POLL_INTERVAL_MS", "200")
            .env_remove("ENVCTL_CONFIG")
            .timeout(Duration::from_secs(120));
        cmd
    }

    /// envctl with `args` in the app directory, talking to AWS at `endpoint` (a proxy in front
    /// of this app's server), for tests that start it and watch it run; stderr is piped.
    pub fn spawn_via(&self, endpoint: &str, args: &[&str]) -> std::process::Child {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("envctl"));
        cmd.current_dir(self.path()).args(args);
        for (k, v) in self.moto.env() {
            cmd.env(k, v);
        }
        cmd.env("AWS_ENDPOINT_URL", endpoint)
            .env("ENVCTL_POLL_INTERVAL_MS", "200")
            .env_remove("ENVCTL_CONFIG")
            .env_remove("AWS_PROFILE")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        cmd.spawn().expect("start envctl")
    }

    pub fn run_with(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let mut cmd = self.envctl();
        if let Some(input) = stdin {
            cmd.write_stdin(input);
        }
        Run::of(cmd, args)
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, None)
    }

    pub fn expect(&self, args: &[&str], code: i32) -> Run {
        let r = self.run(args);
        assert_eq!(r.code, code, "unexpected exit code:\n{r}");
        r
    }

    pub fn ok(&self, args: &[&str]) -> Run {
        self.expect(args, 0)
    }

    /// `params set ENV NAME --secure` with the value on stdin, which must not come back out.
    pub fn set_secret(&self, env: &str, name: &str, value: &str) {
        let r = self.run_with(&["params", "set", env, name, "--secure"], Some(value));
        assert_eq!(r.code, 0, "{r}");
        let value = value.trim_end();
        assert!(
            !r.stdout.contains(value) && !r.stderr.contains(value),
            "params set echoed the secret:\n{r}"
        );
    }

    /// Rewrites the first `from` in one of the app's files (`file` is relative to the app dir).
    pub fn edit(&self, file: &str, from: &str, to: &str) {
        let path = self.path().join(file);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {file}: {e}"));
        assert!(text.contains(from), "{from} not in {file}:\n{text}");
        std::fs::write(&path, text.replacen(from, to, 1))
            .unwrap_or_else(|e| panic!("write {file}: {e}"));
    }

    /// The ACTIVE service `name` in the app's cluster, with its tags.
    pub async fn service(&self, name: &str) -> aws_sdk_ecs::types::Service {
        self.ecs()
            .describe_services()
            .cluster("envctl-shop")
            .services(name)
            .include(aws_sdk_ecs::types::ServiceField::Tags)
            .send()
            .await
            .expect("describe services")
            .services()
            .iter()
            .find(|s| s.service_name() == Some(name) && s.status() == Some("ACTIVE"))
            .cloned()
            .unwrap_or_else(|| panic!("{name} is not active"))
    }

    pub fn ecs(&self) -> aws_sdk_ecs::Client {
        aws_sdk_ecs::Client::new(&self.moto.sdk_config())
    }

    pub fn elb(&self) -> aws_sdk_elasticloadbalancingv2::Client {
        aws_sdk_elasticloadbalancingv2::Client::new(&self.moto.sdk_config())
    }

    pub fn scheduler(&self) -> aws_sdk_scheduler::Client {
        aws_sdk_scheduler::Client::new(&self.moto.sdk_config())
    }

    pub fn events(&self) -> aws_sdk_eventbridge::Client {
        aws_sdk_eventbridge::Client::new(&self.moto.sdk_config())
    }

    pub fn codebuild(&self) -> aws_sdk_codebuild::Client {
        aws_sdk_codebuild::Client::new(&self.moto.sdk_config())
    }

    pub fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.moto.sdk_config())
    }
}
