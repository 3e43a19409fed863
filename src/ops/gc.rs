//! `gc`: finds envs to delete — TTL expired, or their branch no longer exists — and deletes them
//! with `--yes`. Protected envs are reported, never deleted. The decision is a pure function.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::naming;
use crate::ops::down;
use crate::ops::inspect::{self, EnvSummary};
use crate::ops::Session;

/// Why an env is a candidate, and whether gc may delete it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub env: String,
    pub branch: String,
    pub reasons: Vec<String>,
    pub protected: bool,
    pub delete: bool,
}

/// Decides which envs to collect. `live` holds the slugs of branches that still exist (None:
/// branches are not checked); `protected` holds env names or slugs from the config.
pub fn decide(
    envs: &[EnvSummary],
    live: Option<&BTreeSet<String>>,
    protected: &[String],
    now: jiff::Timestamp,
) -> Vec<Verdict> {
    let mut out = Vec::new();
    for e in envs {
        let mut reasons = Vec::new();
        if let Some(at) = e
            .expires_at
            .as_deref()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        {
            if at <= now {
                reasons.push(format!("expired at {at}"));
            }
        }
        if let Some(live) = live {
            if !live.contains(&e.env) {
                reasons.push(format!("branch `{}` no longer exists", e.branch));
            }
        }
        if reasons.is_empty() {
            continue;
        }
        let is_protected = e.protected || protected.iter().any(|p| *p == e.env || *p == e.branch);
        out.push(Verdict {
            env: e.env.clone(),
            branch: e.branch.clone(),
            reasons,
            protected: is_protected,
            delete: !is_protected,
        });
    }
    out
}

/// Slugs of the branches the local repository knows on its remotes (`git fetch --prune` first
/// for an up-to-date answer).
pub fn live_branches_from_git() -> Result<BTreeSet<String>> {
    let out = Command::new("git")
        .args(["for-each-ref", "--format=%(refname)", "refs/remotes"])
        .output()
        .map_err(|e| Error::io("running git", e))?;
    if !out.status.success() {
        return Err(Error::invalid(
            "`git for-each-ref` failed: not in a git repository?",
            Some("run gc inside the app's repository, or pass --live-branches FILE".to_string()),
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    // refs/remotes/<remote>/<branch...>
    let branches = text
        .lines()
        .filter_map(|r| r.strip_prefix("refs/remotes/"))
        .filter_map(|r| r.split_once('/').map(|(_, b)| b))
        .filter(|b| *b != "HEAD");
    Ok(slugs(branches))
}

/// Slugs of the branches listed in a file, one per line (`#` comments and blanks ignored).
pub fn live_branches_from_file(path: &Path) -> Result<BTreeSet<String>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    Ok(slugs(
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#')),
    ))
}

fn slugs<'a>(branches: impl Iterator<Item = &'a str>) -> BTreeSet<String> {
    branches
        .filter_map(|b| naming::slug(b).ok())
        .map(|s| s.as_str().to_string())
        .collect()
}

/// Finds the candidates (reads only).
pub async fn find(session: &Session, live: Option<&BTreeSet<String>>) -> Result<Vec<Verdict>> {
    let cfg = session.load_config(&[])?;
    let envs = inspect::ls(session).await?;
    Ok(decide(
        &envs,
        live,
        &cfg.config.expiry.protected,
        jiff::Timestamp::now(),
    ))
}

/// Deletes every verdict marked `delete`, one env at a time (each `down` is itself concurrent).
pub async fn collect(session: &Session, verdicts: &[Verdict]) -> Result<Vec<down::DownReport>> {
    let mut reports = Vec::new();
    for v in verdicts.iter().filter(|v| v.delete) {
        let env = naming::env_name(&v.env)?;
        // Not forced: an env protected since `find` looked is refused, not deleted.
        let plan = match down::plan(session, &env, false).await {
            Ok(plan) => plan,
            Err(Error::Precondition { message, .. }) => {
                session
                    .printer
                    .warn(format!("skipping env `{}`: {message}", v.env));
                continue;
            }
            Err(e) => return Err(e),
        };
        session.printer.status(format!(
            "Deleting env `{}` ({}):",
            v.env,
            v.reasons.join("; ")
        ));
        reports.push(down::apply(session, plan).await?);
    }
    Ok(reports)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str, expires_at: Option<&str>, protected: bool) -> EnvSummary {
        EnvSummary {
            env: name.into(),
            branch: name.into(),
            owner: "dev".into(),
            services: 1,
            desired: 1,
            running: 1,
            created_at: "2026-01-01T00:00:00Z".into(),
            last_deploy: None,
            expires_at: expires_at.map(str::to_string),
            protected,
            next_stop: None,
            next_start: None,
            urls: vec![],
            cost_month_usd: None,
        }
    }

    fn now() -> jiff::Timestamp {
        "2026-06-01T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn expired_envs_are_deleted_and_fresh_ones_kept() {
        let envs = [
            env("old", Some("2026-06-01T11:59:59Z"), false),
            env("fresh", Some("2026-06-02T00:00:00Z"), false),
            env("forever", None, false),
        ];
        let v = decide(&envs, None, &[], now());
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].env, "old");
        assert!(v[0].delete);
        assert!(v[0].reasons[0].starts_with("expired at"));
    }

    #[test]
    fn envs_whose_branch_is_gone_are_deleted() {
        let envs = [env("feature-a", None, false), env("feature-b", None, false)];
        let live: BTreeSet<String> = ["feature-a".to_string()].into();
        let v = decide(&envs, Some(&live), &[], now());
        assert_eq!(
            v.iter().map(|v| v.env.as_str()).collect::<Vec<_>>(),
            ["feature-b"]
        );
        assert!(v[0].delete);
    }

    #[test]
    fn protected_envs_are_reported_never_deleted() {
        let envs = [
            env("staging", Some("2020-01-01T00:00:00Z"), false),
            env("demo", Some("2020-01-01T00:00:00Z"), true),
        ];
        let v = decide(
            &envs,
            Some(&BTreeSet::new()),
            &["staging".to_string()],
            now(),
        );
        assert_eq!(v.len(), 2);
        assert!(v.iter().all(|v| v.protected && !v.delete));
        assert_eq!(v[0].reasons.len(), 2);
    }

    #[test]
    fn branch_names_map_to_the_same_slugs_as_envs() {
        let s = slugs(["feature/ABC-123_Login", "main", "../bad"].into_iter());
        assert!(s.contains(naming::slug("feature/ABC-123_Login").unwrap().as_str()));
        assert!(s.contains("main"));
        assert_eq!(s.len(), 2);
    }
}
