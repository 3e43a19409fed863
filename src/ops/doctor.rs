//! `envctl doctor`: is this machine, account and app ready for `up`? One line per check, each ok,
//! warn or fail with the fix. Checks that depend on a failed one are reported as skipped (warn),
//! not as more failures.

use std::collections::HashMap;
use std::path::PathBuf;

use serde::Serialize;
use serde_json::Value;

use crate::aws::iam::simulate::Decision;
use crate::aws::Aws;
use crate::config::LoadedConfig;
use crate::janitor::policy::PolicyFor;
use crate::model::{app_ownership, Ownership};
use crate::naming;
use crate::ops::iam_policy::{self, IamPolicyOptions};
use crate::ops::{inspect, Session};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub level: Level,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

fn check(name: &'static str, level: Level, message: impl Into<String>, fix: Option<&str>) -> Check {
    Check {
        name,
        level,
        message: message.into(),
        fix: fix.map(str::to_string),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DoctorReport {
    pub checks: Vec<Check>,
}

impl DoctorReport {
    pub fn failed(&self) -> bool {
        self.checks.iter().any(|c| c.level == Level::Fail)
    }
}

/// Where to look for programs (`PATH`), so tests can point it elsewhere.
pub struct DoctorOptions {
    pub path: Option<std::ffi::OsString>,
}

/// The program `envctl exec` hands the ECS Exec session to.
pub const SESSION_MANAGER_PLUGIN: &str = "session-manager-plugin";

pub async fn doctor(session: &Session, opts: &DoctorOptions) -> DoctorReport {
    let mut checks = Vec::new();
    let cfg = match session.load_config(&[]) {
        Ok(cfg) => {
            checks.push(check(
                "config",
                Level::Ok,
                format!("{}: app `{}`", cfg.path.display(), cfg.config.app),
                None,
            ));
            Some(cfg)
        }
        Err(e) => {
            checks.push(check(
                "config",
                Level::Fail,
                e.to_string(),
                e.hint().as_deref(),
            ));
            None
        }
    };
    checks.push(plugin_check(cfg.as_ref(), opts.path.as_deref()));

    let aws = match session.aws(cfg.as_ref()).await {
        Ok(aws) => {
            checks.push(check("region", Level::Ok, aws.region.clone(), None));
            aws
        }
        Err(e) => {
            // Region and profile problems are found before credentials are looked at.
            let name = match &e {
                crate::error::Error::Aws(a)
                    if a.kind == crate::aws::error::AwsErrorKind::Region =>
                {
                    "region"
                }
                _ => "credentials",
            };
            checks.push(check(name, Level::Fail, e.to_string(), e.hint().as_deref()));
            return DoctorReport { checks };
        }
    };
    let identity = match session.reading(aws.caller_identity()).await {
        Ok(id) => {
            checks.push(check(
                "credentials",
                Level::Ok,
                format!("{} (account {})", id.arn, id.account),
                None,
            ));
            id
        }
        Err(e) => {
            let e = crate::error::Error::from(e);
            checks.push(check(
                "credentials",
                Level::Fail,
                e.to_string(),
                Some(e.hint().as_deref().unwrap_or(
                    "check --profile / AWS_PROFILE, run `aws sso login`, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                )),
            ));
            return DoctorReport { checks };
        }
    };
    let Some(cfg) = cfg else {
        for name in ["bootstrap", "quotas", "permissions"] {
            checks.push(check(
                name,
                Level::Warn,
                "skipped: no usable envctl.toml",
                Some("fix the config first (see the config line)"),
            ));
        }
        return DoctorReport { checks };
    };
    let (bootstrap, quotas, permissions) = session
        .reading(async {
            tokio::join!(
                bootstrap_checks(aws, &cfg),
                quota_check(aws, &cfg),
                permissions_check(aws, &cfg, &identity.arn, &identity.account),
            )
        })
        .await;
    checks.extend(bootstrap);
    checks.push(quotas);
    checks.push(permissions);
    DoctorReport { checks }
}

/// `path` joined with each directory of `search` (a `PATH` value), first one that is a file.
pub fn find_on_path(program: &str, search: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    std::env::split_paths(search?)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

fn plugin_check(cfg: Option<&LoadedConfig>, path: Option<&std::ffi::OsStr>) -> Check {
    if cfg.is_some_and(|c| !c.config.exec.enabled) {
        return check("exec plugin", Level::Ok, "not needed: [exec] is off", None);
    }
    match find_on_path(SESSION_MANAGER_PLUGIN, path) {
        Some(p) => check("exec plugin", Level::Ok, p.display().to_string(), None),
        None => check(
            "exec plugin",
            Level::Warn,
            format!("`{SESSION_MANAGER_PLUGIN}` is not on PATH: `envctl exec` needs it"),
            Some("install the Session Manager plugin: https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html"),
        ),
    }
}

/// The cluster and the roles `bootstrap` makes exist and are envctl's for this app.
async fn bootstrap_checks(aws: &Aws, cfg: &LoadedConfig) -> Vec<Check> {
    let c = &cfg.config;
    let app = c.app.as_str();
    let cluster = cfg.cluster_name();
    let mut out = Vec::new();
    let fix = Some("run `envctl bootstrap`");
    match aws.describe_cluster(&cluster).await {
        Ok(Some(state)) if state.status == "ACTIVE" => {
            if c.cluster.existing || app_ownership(&state.tags, app) == Ownership::Ours {
                out.push(check(
                    "bootstrap",
                    Level::Ok,
                    format!("cluster `{cluster}`"),
                    None,
                ));
            } else {
                out.push(check(
                    "bootstrap",
                    Level::Warn,
                    format!(
                        "cluster `{cluster}` exists but is not tagged as envctl's for app `{app}`"
                    ),
                    Some("set `cluster.existing = true` if someone else manages it"),
                ));
            }
        }
        Ok(_) => out.push(check(
            "bootstrap",
            Level::Fail,
            format!("cluster `{cluster}` does not exist"),
            fix,
        )),
        Err(e) => out.push(aws_failure("bootstrap", e)),
    }
    let mut roles = Vec::new();
    if c.roles.execution_role_arn.is_none() {
        roles.push(naming::execution_role(app));
    }
    if c.schedule.enabled {
        roles.push(naming::scheduler_role(app));
    }
    if c.exec.enabled && c.roles.task_role_arn.is_none() {
        roles.push(naming::task_role(app));
    }
    for role in roles {
        match aws.get_role(&role).await {
            Ok(Some(r)) if app_ownership(&r.tags, app) == Ownership::Ours => out.push(check(
                "bootstrap",
                Level::Ok,
                format!("role `{role}`"),
                None,
            )),
            Ok(Some(_)) => out.push(check(
                "bootstrap",
                Level::Fail,
                format!(
                    "role `{role}` exists but is not envctl's (no envctl tags for app `{app}`)"
                ),
                Some("rename or delete that role, or set roles.* in envctl.toml to your own"),
            )),
            Ok(None) => out.push(check(
                "bootstrap",
                Level::Fail,
                format!("role `{role}` does not exist"),
                fix,
            )),
            Err(e) => out.push(aws_failure("bootstrap", e)),
        }
    }
    out
}

/// Listener rules and target groups on the preview ALB, against the account's limits.
async fn quota_check(aws: &Aws, cfg: &LoadedConfig) -> Check {
    let p = &cfg.config.preview;
    if !p.enabled {
        return check(
            "quotas",
            Level::Ok,
            "previews are off: no ALB rules or target groups used",
            None,
        );
    }
    let cluster = match aws.describe_cluster(&cfg.cluster_name()).await {
        Ok(c) => c,
        Err(e) => return aws_failure("quotas", e),
    };
    let used = match inspect::preview_rules(aws, cfg, cluster.as_ref()).await {
        // AWS's rule limit leaves out the listener's default rule (no priority).
        Ok(Some((rules, target_groups))) => (
            rules.iter().filter(|r| r.priority.is_some()).count(),
            target_groups,
        ),
        Ok(None) => {
            return check(
                "quotas",
                Level::Warn,
                "skipped: no preview listener found",
                Some("run `envctl bootstrap` (it creates the ALB), or set preview.listener_arn"),
            )
        }
        Err(e) => return failure("quotas", &e),
    };
    let (limits, source) = match aws.elb_account_limits().await {
        Ok(l) => (l, "account limits"),
        // Not every caller may read the limits (nor does every endpoint answer): the configured
        // ones are envctl's own pre-flight limits.
        Err(_) => (HashMap::new(), "preview.max_* in envctl.toml"),
    };
    let rule_limit = limits
        .get("rules-per-application-load-balancer")
        .copied()
        .unwrap_or(u64::from(p.max_rules));
    let group_limit = limits
        .get("target-groups-per-application-load-balancer")
        .copied()
        .unwrap_or(u64::from(p.max_target_groups));
    quota_level(
        used.0 as u64,
        rule_limit,
        used.1 as u64,
        group_limit,
        source,
    )
}

/// Fail at the limit, warn from 90% of it.
pub fn quota_level(
    rules: u64,
    rule_limit: u64,
    groups: u64,
    group_limit: u64,
    source: &str,
) -> Check {
    let level = |used: u64, limit: u64| {
        if used >= limit {
            Level::Fail
        } else if used * 10 >= limit * 9 {
            Level::Warn
        } else {
            Level::Ok
        }
    };
    let worst = [level(rules, rule_limit), level(groups, group_limit)]
        .into_iter()
        .max_by_key(|l| *l as u8)
        .unwrap_or(Level::Ok);
    check(
        "quotas",
        worst,
        format!(
            "listener rules {rules}/{rule_limit}, target groups {groups}/{group_limit} ({source})"
        ),
        (worst != Level::Ok).then_some(
            "`envctl gc --yes` removes expired envs; ask AWS for a higher limit in Service Quotas",
        ),
    )
}

/// The role or user to simulate for a caller ARN: an assumed role's session is simulated as the
/// role (its path is not in the session ARN, so a role with a path is not found).
pub fn principal_for_simulation(caller_arn: &str) -> Option<String> {
    let mut parts = caller_arn.splitn(6, ':');
    let (arn, partition, service, _, account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if arn != "arn" {
        return None;
    }
    match service {
        "iam" if resource.starts_with("user/") || resource.starts_with("role/") => {
            Some(caller_arn.to_string())
        }
        "sts" => {
            let role = resource.strip_prefix("assumed-role/")?.split('/').next()?;
            Some(format!("arn:{partition}:iam::{account}:role/{role}"))
        }
        _ => None,
    }
}

/// The permissions `up` needs, simulated for the caller statement by statement (each with its own
/// resources). Statements with conditions are left out: the simulation would need their context.
async fn permissions_check(
    aws: &Aws,
    cfg: &LoadedConfig,
    caller_arn: &str,
    account: &str,
) -> Check {
    let Some(principal) = principal_for_simulation(caller_arn) else {
        return check(
            "permissions",
            Level::Warn,
            format!("cannot simulate policies for `{caller_arn}`"),
            Some("compare your policy with `envctl iam-policy --for up`"),
        );
    };
    let policy = match iam_policy::iam_policy(
        cfg,
        &IamPolicyOptions {
            command: PolicyFor::Up,
            account: Some(account.to_string()),
            region: Some(aws.region.clone()),
        },
    ) {
        Ok((policy, _)) => policy,
        Err(e) => return failure("permissions", &e),
    };
    let statements: Vec<(Vec<String>, Vec<String>)> = policy["Statement"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|st| st.get("Condition").is_none())
        .map(|st| (strings(&st["Action"]), strings(&st["Resource"])))
        .collect();
    let results =
        futures::future::join_all(statements.iter().map(|(actions, resources)| {
            aws.simulate_principal_policy(&principal, actions, resources)
        }))
        .await;
    let mut decisions = Vec::new();
    for r in results {
        match r {
            Ok(d) => decisions.extend(d),
            Err(e) => {
                let e = crate::error::Error::from(e);
                return check(
                    "permissions",
                    Level::Warn,
                    format!("could not simulate the permissions `up` needs: {e}"),
                    Some("allow iam:SimulatePrincipalPolicy on yourself, or compare your policy with `envctl iam-policy --for up`"),
                );
            }
        }
    }
    permissions_level(&principal, &decisions)
}

/// Fail naming the denied actions; ok when every one is allowed.
pub fn permissions_level(principal: &str, decisions: &[Decision]) -> Check {
    let mut denied: Vec<&str> = decisions
        .iter()
        .filter(|d| !d.allowed)
        .map(|d| d.action.as_str())
        .collect();
    denied.sort_unstable();
    denied.dedup();
    if denied.is_empty() {
        return check(
            "permissions",
            Level::Ok,
            format!(
                "{} actions `up` needs are allowed for {principal}",
                decisions.len()
            ),
            None,
        );
    }
    check(
        "permissions",
        Level::Fail,
        format!("{principal} may not: {}", denied.join(", ")),
        Some("attach the policy `envctl iam-policy --for up` prints (docs/iam.md)"),
    )
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str())
            .map(String::from)
            .collect(),
        Value::String(s) => vec![s.clone()],
        _ => vec![],
    }
}

fn aws_failure(name: &'static str, e: crate::aws::AwsError) -> Check {
    failure(name, &crate::error::Error::from(e))
}

fn failure(name: &'static str, e: &crate::error::Error) -> Check {
    check(name, Level::Fail, e.to_string(), e.hint().as_deref())
}

/// `PATH` for `find_on_path`.
pub fn process_path() -> Option<std::ffi::OsString> {
    std::env::var_os("PATH")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callers_map_to_the_principal_iam_simulates() {
        assert_eq!(
            principal_for_simulation("arn:aws:iam::123456789012:user/dev").as_deref(),
            Some("arn:aws:iam::123456789012:user/dev")
        );
        assert_eq!(
            principal_for_simulation("arn:aws:sts::123456789012:assumed-role/envctl-ci/gh-42")
                .as_deref(),
            Some("arn:aws:iam::123456789012:role/envctl-ci")
        );
        assert_eq!(
            principal_for_simulation("arn:aws:iam::123456789012:root"),
            None
        );
        assert_eq!(principal_for_simulation("not an arn"), None);
    }

    #[test]
    fn denied_actions_fail_and_are_named_once() {
        let d = |action: &str, allowed| Decision {
            action: action.into(),
            resource: "*".into(),
            allowed,
        };
        let c = permissions_level(
            "arn:aws:iam::1:user/dev",
            &[
                d("ecs:CreateService", false),
                d("ecs:DescribeServices", true),
                d("ecs:CreateService", false),
            ],
        );
        assert_eq!(c.level, Level::Fail);
        assert_eq!(
            c.message,
            "arn:aws:iam::1:user/dev may not: ecs:CreateService"
        );
        assert!(c
            .fix
            .is_some_and(|f| f.contains("envctl iam-policy --for up")));
        let c = permissions_level("p", &[d("ecs:DescribeServices", true)]);
        assert_eq!(c.level, Level::Ok);
    }

    #[test]
    fn quotas_warn_from_90_percent_and_fail_at_the_limit() {
        assert_eq!(quota_level(10, 100, 5, 100, "x").level, Level::Ok);
        assert_eq!(quota_level(90, 100, 5, 100, "x").level, Level::Warn);
        assert_eq!(quota_level(10, 100, 100, 100, "x").level, Level::Fail);
        assert_eq!(
            quota_level(3, 100, 2, 100, "account limits").message,
            "listener rules 3/100, target groups 2/100 (account limits)"
        );
    }

    #[test]
    fn programs_are_found_on_the_given_path_only() {
        let dir = tempfile::tempdir().expect("temp dir");
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).expect("dir");
        std::fs::write(bin.join(SESSION_MANAGER_PLUGIN), "").expect("file");
        let path = std::env::join_paths([dir.path().to_path_buf(), bin.clone()]).expect("path");
        assert_eq!(
            find_on_path(SESSION_MANAGER_PLUGIN, Some(&path)),
            Some(bin.join(SESSION_MANAGER_PLUGIN))
        );
        assert_eq!(
            find_on_path(SESSION_MANAGER_PLUGIN, Some(dir.path().as_os_str())),
            None
        );
        assert_eq!(find_on_path(SESSION_MANAGER_PLUGIN, None), None);
    }
}
