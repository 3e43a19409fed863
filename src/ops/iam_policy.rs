//! `envctl iam-policy`: the least-privilege policy a command's caller needs, for this app's
//! config, from the grant tables in `janitor::policy` (the ones the janitor's role is made from).
//! Offline: the account and region are flags or placeholders, not AWS calls.

use serde_json::Value;

use crate::config::{self, LoadedConfig};
use crate::error::{Error, Result};
use crate::janitor::policy::{command_policy, PolicyFor, PolicyScope, UpFeatures};
use crate::naming;

/// The account id used when `--account` is not given (AWS's documentation account).
pub const PLACEHOLDER_ACCOUNT: &str = "123456789012";
/// The region used when nothing names one.
pub const PLACEHOLDER_REGION: &str = "eu-west-1";

#[derive(Debug, Clone)]
pub struct IamPolicyOptions {
    pub command: PolicyFor,
    /// The 12-digit account id; `None` for the placeholder.
    pub account: Option<String>,
    /// `None`: AWS_REGION, AWS_DEFAULT_REGION, the config's `region`, then the placeholder.
    pub region: Option<String>,
}

/// The policy document, and whether placeholders stand in for the account or region.
pub fn iam_policy(cfg: &LoadedConfig, opts: &IamPolicyOptions) -> Result<(Value, Vec<String>)> {
    let c = &cfg.config;
    let mut placeholders = Vec::new();
    let account = match &opts.account {
        Some(a) if a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()) => a.clone(),
        Some(a) => {
            return Err(Error::invalid(
                format!("--account `{a}` is not a 12-digit AWS account id"),
                Some("`aws sts get-caller-identity --query Account` prints yours".to_string()),
            ))
        }
        None => {
            placeholders.push(format!("account {PLACEHOLDER_ACCOUNT} (pass --account)"));
            PLACEHOLDER_ACCOUNT.to_string()
        }
    };
    let env = |var: &str| std::env::var(var).ok().filter(|v| !v.is_empty());
    let region = match opts
        .region
        .clone()
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .or_else(|| c.region.clone())
    {
        Some(r) if crate::aws::credentials::is_region_name(&r) => r,
        Some(r) => {
            return Err(Error::invalid(
                format!("`{r}` is not an AWS region name such as us-east-1 or eu-west-1"),
                Some("pass --region with a region name".to_string()),
            ))
        }
        None => {
            placeholders.push(format!("region {PLACEHOLDER_REGION} (pass --region)"));
            PLACEHOLDER_REGION.to_string()
        }
    };
    let partition = if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    };
    let app = c.app.as_str();
    let role = |name: String| format!("arn:{partition}:iam::{account}:role/{name}");
    // The roles tasks are passed: the execution role, and the task role if any.
    let task_roles: Vec<String> = [
        Some(
            c.roles
                .execution_role_arn
                .clone()
                .unwrap_or_else(|| role(naming::execution_role(app))),
        ),
        c.roles
            .task_role_arn
            .clone()
            .or_else(|| c.exec.enabled.then(|| role(naming::task_role(app)))),
    ]
    .into_iter()
    .flatten()
    .collect();
    let source = (!c.janitor.source.is_empty())
        .then(|| config::parse_source(&c.janitor.source).ok())
        .flatten();
    let cluster = cfg.cluster_name();
    let scope = PolicyScope {
        partition,
        region: &region,
        account: &account,
        app,
        cluster: &cluster,
        previews: c.preview.enabled,
        one_off_tasks: !c.hooks.before_destroy.is_empty() || c.database.is_some(),
        database: c.database.is_some(),
        task_roles,
        codecommit_repo: source
            .as_ref()
            .and_then(|s| s.codecommit_repo.as_ref())
            .map(|(r, n)| (r.as_str(), n.as_str())),
    };
    let up = UpFeatures {
        schedules: c.schedule.enabled,
        builds: c.services.values().any(|s| s.build.is_some()),
        one_off_tasks: !c.hooks.before_deploy.is_empty()
            || !c.hooks.after_create.is_empty()
            || c.database.is_some(),
    };
    Ok((command_policy(opts.command, &scope, up), placeholders))
}
