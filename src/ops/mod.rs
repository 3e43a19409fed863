//! Operations: what each command does, independent of how it is printed. Commands in
//! `commands/` parse, call one operation and print its result.

pub mod bootstrap;
pub mod build;
pub mod ci;
pub mod cost;
pub mod database;
pub mod doctor;
pub mod down;
pub mod exec;
pub mod gc;
pub mod hooks;
pub mod iam_policy;
pub mod init;
pub mod inspect;
pub mod janitor;
pub mod lifecycle;
pub mod logs;
pub mod params;
pub mod rollback;
pub mod run;
pub mod task;
pub mod up;
pub mod validate;
pub mod wait;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use tokio::sync::OnceCell;

use crate::aws::{Aws, AwsOptions, CallStats};
use crate::config::{self, LoadedConfig, Override};
use crate::error::{Error, Result};
use crate::model::EnvIdentity;
use crate::naming::{self, EnvName};
use crate::output::{Format, Printer};

/// What every command shares: where the config is, how to reach AWS, how to print. Plain data,
/// filled from the command line by `cli` (so ops and their tests need no argument parser).
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// `--config`/`ENVCTL_CONFIG` as given; `None`: the nearest envctl.toml at or above the
    /// current directory.
    pub config: Option<PathBuf>,
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    pub output: Format,
    pub verbose: bool,
    pub quiet: bool,
    pub stats: bool,
    pub max_attempts: Option<u32>,
    pub operation_timeout: Option<std::time::Duration>,
}

impl Default for SessionOptions {
    /// `envctl.toml` in the current directory, text output, the AWS chain's defaults.
    fn default() -> Self {
        SessionOptions {
            config: None,
            region: None,
            profile: None,
            endpoint_url: None,
            output: Format::Text,
            verbose: false,
            quiet: false,
            stats: false,
            max_attempts: None,
            operation_timeout: None,
        }
    }
}

/// One invocation: global options, the printer, and an AWS connection made on first use (so
/// `init`, `--help` and input errors never touch AWS).
pub struct Session {
    pub globals: SessionOptions,
    pub printer: Printer,
    pub stats: Arc<CallStats>,
    aws: OnceCell<Aws>,
}

/// The spinner's text while reading: how many AWS calls so far.
pub fn reading_message(calls: u64) -> String {
    match calls {
        1 => "reading AWS: 1 call".to_string(),
        n => format!("reading AWS: {n} calls"),
    }
}

impl Session {
    pub fn new(globals: impl Into<SessionOptions>) -> Self {
        let globals = globals.into();
        let printer = Printer::new(globals.output, globals.quiet, globals.verbose);
        Session {
            globals,
            printer,
            stats: Arc::new(CallStats::default()),
            aws: OnceCell::new(),
        }
    }

    pub fn load_config(&self, overrides: &[Override]) -> Result<LoadedConfig> {
        Ok(config::load(&self.config_path()?, overrides)?)
    }

    /// `--config`/`ENVCTL_CONFIG` as given, else the nearest envctl.toml at or above the current
    /// directory (see `config::locate`).
    pub fn config_path(&self) -> Result<std::path::PathBuf> {
        let cwd =
            std::env::current_dir().map_err(|e| Error::io("reading the current directory", e))?;
        Ok(config::locate(self.globals.config.as_deref(), &cwd)?)
    }

    /// Awaits `reads` (AWS reads before a plan or a report) with a spinner that counts the calls
    /// made, so a slow link never shows a blank screen. Stderr, TTY only, not with `-q` or `-v`.
    pub async fn reading<T>(&self, reads: impl std::future::Future<Output = T>) -> T {
        let Some(pb) = self.printer.spinner("reading AWS") else {
            return reads.await;
        };
        let before = self.stats.total();
        let count = async {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                pb.set_message(reading_message(self.stats.total() - before));
            }
        };
        let out = tokio::select! {
            out = reads => out,
            never = count => never,
        };
        pb.finish_and_clear();
        out
    }

    /// The AWS clients; the config's `region` is used when nothing else names one.
    pub async fn aws(&self, cfg: Option<&LoadedConfig>) -> Result<&Aws> {
        let opts = AwsOptions {
            region: self.globals.region.clone(),
            fallback_region: cfg.and_then(|c| c.config.region.clone()),
            profile: self.globals.profile.clone(),
            endpoint_url: self.globals.endpoint_url.clone().filter(|u| !u.is_empty()),
            max_attempts: self.globals.max_attempts,
            operation_timeout: self.globals.operation_timeout,
            retry_notices: !self.globals.quiet,
            stats: self.stats.clone(),
        };
        Ok(self.aws.get_or_try_init(|| Aws::connect(&opts)).await?)
    }
}

/// The env named on the command line, or the current git branch.
pub fn resolve_env(arg: Option<&str>) -> Result<EnvName> {
    let raw = match arg {
        Some(a) => a.to_string(),
        None => current_branch().ok_or_else(|| {
            Error::invalid(
                "no env given and the current directory is not on a git branch",
                Some("pass the env name, e.g. `envctl up feature-x`".to_string()),
            )
        })?,
    };
    Ok(naming::env_name(&raw)?)
}

fn current_branch() -> Option<String> {
    let out = Command::new("git")
        .args(["rev-parse", "--abbrev-ref", "HEAD"])
        .output()
        .ok()?;
    let branch = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !branch.is_empty() && branch != "HEAD").then_some(branch)
}

/// Who is creating resources: `ENVCTL_OWNER`, the CI actor, the git user, or `$USER`.
pub fn owner() -> String {
    for var in [
        "ENVCTL_OWNER",
        "GITHUB_ACTOR",
        "GITLAB_USER_LOGIN",
        "BUILDKITE_BUILD_CREATOR",
    ] {
        if let Ok(v) = std::env::var(var) {
            if !v.trim().is_empty() {
                return v.trim().to_string();
            }
        }
    }
    let git = Command::new("git")
        .args(["config", "user.email"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    git.or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "unknown".into())
}

pub fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

pub fn identity(app: &str, env: &EnvName) -> EnvIdentity {
    EnvIdentity {
        app: app.to_string(),
        env: env.slug.as_str().to_string(),
        branch: env.raw.clone(),
        owner: owner(),
        created_at: now_rfc3339(),
    }
}

/// `--image web=URI` flags as a map, rejecting malformed ones.
pub fn image_overrides(flags: &[String]) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for f in flags {
        let (k, v) = f
            .split_once('=')
            .filter(|(k, v)| !k.is_empty() && !v.is_empty())
            .ok_or_else(|| {
                Error::invalid(
                    format!("--image `{f}` is not SERVICE=URI"),
                    Some("example: --image web=nginx:1.27".to_string()),
                )
            })?;
        out.insert(k.to_string(), v.to_string());
    }
    Ok(out)
}

/// How often envctl polls AWS while it waits (services, builds, one-off tasks):
/// `ENVCTL_POLL_INTERVAL_MS`, else 5 s.
pub fn poll_interval() -> std::time::Duration {
    poll_interval_or(std::time::Duration::from_secs(5))
}

/// `ENVCTL_POLL_INTERVAL_MS`, else `default` (`logs -f` polls faster than waits do).
pub fn poll_interval_or(default: std::time::Duration) -> std::time::Duration {
    std::env::var("ENVCTL_POLL_INTERVAL_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(std::time::Duration::from_millis)
        .unwrap_or(default)
}

pub fn process_env() -> BTreeMap<String, String> {
    std::env::vars().collect()
}

pub fn file_exists(p: &Path) -> bool {
    p.try_exists().unwrap_or(false)
}
