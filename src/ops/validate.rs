//! `envctl validate`: config, templates and the rendered model, checked offline. What `up` reads
//! from AWS (account, network, roles, parameters) is replaced by placeholders shaped like the real
//! thing, so the same render and the same checks run, and fail with the same messages, with no
//! credentials and no network.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::naming;
use crate::ops::up::{self, Prepared};
use crate::render::{Facts, Params};

/// Where the region for the region-dependent checks comes from when nothing names one.
pub const FALLBACK_REGION: &str = "us-east-1";
/// The account id in placeholder ARNs (AWS's documentation account).
const PLACEHOLDER_ACCOUNT: &str = "123456789012";

/// What `validate` checks against, besides the prepared config and flags.
#[derive(Debug, Clone, Default)]
pub struct ValidateOptions {
    /// `--region`; else `AWS_REGION`, `AWS_DEFAULT_REGION`, the config's `region`, then
    /// `FALLBACK_REGION` (only parameter name lengths depend on it).
    pub region: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ValidateReport {
    pub config: String,
    pub env: String,
    pub region: String,
    /// Service keys whose task and service definitions rendered and passed.
    pub services: Vec<String>,
    /// What was checked, one line each.
    pub checked: Vec<String>,
    /// What only `plan`/`up` can check, because it needs AWS.
    pub skipped: Vec<String>,
}

/// Renders and checks `p` as `up` would, without AWS.
pub fn validate(p: &Prepared, opts: &ValidateOptions) -> Result<ValidateReport> {
    let region = region(p, opts)?;
    let facts = offline_facts(p, &region);
    // Parameters live in SSM; the templates get them as an empty set (they become container
    // environment and secrets, which no template can require by name).
    let desired = up::render_with(p, &facts, Params::default())?;
    let c = &p.config.config;
    let mut checked = vec![
        format!("config {}: schema, keys and values", p.config.path.display()),
        format!(
            "templates: {} service(s) rendered for env `{}`",
            desired.services.len(),
            p.env.slug.as_str()
        ),
        "rendered model: Fargate sizes, network mode, images, ports, health checks, log driver, dependsOn, name lengths".to_string(),
    ];
    if !desired.hooks.is_empty() {
        checked.push(format!("hooks: {} rendered", desired.hooks.len()));
    }
    if !p.images.is_empty() {
        checked.push("--image flags: services exist, references are valid".to_string());
    }
    let mut skipped = Vec::new();
    if c.network.subnets.is_empty() {
        skipped.push("default VPC lookup (network.subnets is empty)".to_string());
    } else {
        skipped.push("network.subnets exist and share one VPC".to_string());
    }
    if !c.network.security_groups.is_empty() {
        skipped.push("network.security_groups exist in that VPC".to_string());
    }
    skipped.push(
        "roles exist (execution, task, scheduler: created by `envctl bootstrap`)".to_string(),
    );
    skipped.push("SSM parameters of the env and shared ones (names, values)".to_string());
    if c.preview.enabled {
        skipped.push("the preview listener exists".to_string());
    }
    skipped.push("the cluster exists and the env's resources are envctl's".to_string());
    Ok(ValidateReport {
        config: p.config.path.display().to_string(),
        env: p.env.slug.as_str().to_string(),
        region,
        services: desired.services.iter().map(|s| s.key.clone()).collect(),
        checked,
        skipped,
    })
}

/// The region as `up` would pick it, without the profile (reading it would need the SDK's
/// config loader; only parameter name lengths depend on the region).
fn region(p: &Prepared, opts: &ValidateOptions) -> Result<String> {
    let env = |var: &str| std::env::var(var).ok().filter(|v| !v.is_empty());
    let (region, origin) = if let Some(r) = &opts.region {
        (r.clone(), "from --region")
    } else if let Some(r) = env("AWS_REGION") {
        (r, "from AWS_REGION")
    } else if let Some(r) = env("AWS_DEFAULT_REGION") {
        (r, "from AWS_DEFAULT_REGION")
    } else if let Some(r) = &p.config.config.region {
        (r.clone(), "from `region` in envctl.toml")
    } else {
        return Ok(FALLBACK_REGION.to_string());
    };
    if !crate::aws::credentials::is_region_name(&region) {
        return Err(Error::invalid(
            format!(
                "`{region}` ({origin}) is not an AWS region name such as us-east-1 or eu-west-1"
            ),
            Some("pass --region with a region name".to_string()),
        ));
    }
    Ok(region)
}

/// What `observe::facts` would read, as placeholders with the real names: configured values
/// where the config has them, else the names `bootstrap` gives.
fn offline_facts(p: &Prepared, region: &str) -> Facts {
    let c = &p.config.config;
    let role = |name: String| format!("arn:aws:iam::{PLACEHOLDER_ACCOUNT}:role/{name}");
    let or_placeholder = |ids: &[String], placeholder: &str| {
        if ids.is_empty() {
            vec![placeholder.to_string()]
        } else {
            ids.to_vec()
        }
    };
    let task_role_arn = match &c.roles.task_role_arn {
        Some(arn) => Some(arn.clone()),
        None if c.exec.enabled => Some(role(naming::task_role(&c.app))),
        None => None,
    };
    let preview_listener_arn = c.preview.enabled.then(|| {
        if c.preview.listener_arn.is_empty() {
            format!(
                "arn:aws:elasticloadbalancing:{region}:{PLACEHOLDER_ACCOUNT}:listener/app/{}/0000000000000000/0000000000000000",
                naming::load_balancer(&c.app)
            )
        } else {
            c.preview.listener_arn.clone()
        }
    });
    Facts {
        account: PLACEHOLDER_ACCOUNT.to_string(),
        region: region.to_string(),
        subnets: or_placeholder(&c.network.subnets, "subnet-00000000000000000"),
        security_groups: or_placeholder(&c.network.security_groups, "sg-00000000000000000"),
        execution_role_arn: c
            .roles
            .execution_role_arn
            .clone()
            .unwrap_or_else(|| role(naming::execution_role(&c.app))),
        task_role_arn,
        scheduler_role_arn: c
            .schedule
            .enabled
            .then(|| role(naming::scheduler_role(&c.app))),
        preview_listener_arn,
        vpc_id: c
            .preview
            .enabled
            .then(|| "vpc-00000000000000000".to_string()),
    }
}
