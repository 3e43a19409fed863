//! The janitor `install` wants, from the config alone (and the rendered buildspec, the account
//! and region): two roles, the project, the rule. The ARNs it names are the ones AWS gives
//! resources of these names.

use serde::Serialize;
use serde_json::Value;

use super::policy::{build_role_policy, PolicyScope};
use super::{
    BUILD_POLICY, BUILD_TIMEOUT_MINUTES, BUILD_TIMEOUT_MINUTES_CUSTOM_INSTALL, EVENTS_POLICY,
};
use crate::config::{GitSource, LoadedConfig};
use crate::model::{ProjectSpec, Tags};
use crate::naming;

/// The services the janitor's roles trust.
const CODEBUILD: &str = "codebuild.amazonaws.com";
const EVENTS: &str = "events.amazonaws.com";
/// A rule envctl wants is always enabled.
pub(super) const ENABLED: &str = "ENABLED";

/// The account and region the janitor goes in, for the ARNs envctl knows before AWS hands them
/// out (a role's and a project's ARN follow from their names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub partition: String,
    pub region: String,
    pub account: String,
}

impl Place {
    fn role_arn(&self, name: &str) -> String {
        format!("arn:{}:iam::{}:role/{name}", self.partition, self.account)
    }

    fn project_arn(&self, name: &str) -> String {
        format!(
            "arn:{}:codebuild:{}:{}:project/{name}",
            self.partition, self.region, self.account
        )
    }
}

/// A service role as install wants it; its inline policy is planned with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleSpec {
    pub name: String,
    /// The ARN IAM gives a role of this name.
    pub arn: String,
    pub trusted_service: &'static str,
    pub policy_name: &'static str,
}

/// The rule as install wants it (always enabled, on the default bus).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleSpec {
    pub name: String,
    pub schedule: String,
    pub description: String,
}

/// Everything `janitor install` wants, from the config, the rendered buildspec and the place.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    pub app: String,
    pub region: String,
    pub tags: Tags,
    pub build_role: RoleSpec,
    /// What `envctl gc --yes` needs, scoped to the app.
    pub build_policy: Value,
    /// Its `service_role_arn` is the build role's.
    pub project: ProjectSpec,
    /// The ARN CodeBuild gives the project; the events role may start only that.
    pub project_arn: String,
    pub events_role: RoleSpec,
    pub rule: RuleSpec,
}

/// The janitor as it should be for `cfg`, with `buildspec` already rendered.
pub fn desired(
    cfg: &LoadedConfig,
    source: &GitSource,
    buildspec: String,
    place: &Place,
    tags: Tags,
) -> Desired {
    let c = &cfg.config;
    let j = &c.janitor;
    let app = c.app.as_str();
    let name = naming::janitor(app);
    let cluster = cfg.cluster_name();
    // The roles `down`'s one-off tasks are passed: the execution role, and the task role if any
    // (the user's, or bootstrap's for ECS Exec).
    let task_roles: Vec<String> = [
        Some(
            c.roles
                .execution_role_arn
                .clone()
                .unwrap_or_else(|| place.role_arn(&naming::execution_role(app))),
        ),
        c.roles.task_role_arn.clone().or_else(|| {
            c.exec
                .enabled
                .then(|| place.role_arn(&naming::task_role(app)))
        }),
    ]
    .into_iter()
    .flatten()
    .collect();
    let build_policy = build_role_policy(&PolicyScope {
        partition: &place.partition,
        region: &place.region,
        account: &place.account,
        app,
        cluster: &cluster,
        previews: c.preview.enabled,
        one_off_tasks: !c.hooks.before_destroy.is_empty() || c.database.is_some(),
        database: c.database.is_some(),
        task_roles,
        codecommit_repo: source
            .codecommit_repo
            .as_ref()
            .map(|(r, n)| (r.as_str(), n.as_str())),
    });
    let build_role = RoleSpec {
        name: name.clone(),
        arn: place.role_arn(&name),
        trusted_service: CODEBUILD,
        policy_name: BUILD_POLICY,
    };
    let events_role_name = naming::janitor_events_role(app);
    let project = ProjectSpec {
        name: name.clone(),
        description: format!(
            "envctl janitor for app {app}: runs `envctl gc --yes` when EventBridge rule {name} fires"
        ),
        service_role_arn: build_role.arn.clone(),
        image: j.image(),
        compute_type: j.compute_type.clone(),
        environment_type: j.environment_type().to_string(),
        source_type: source.source_type.to_string(),
        source_location: source.location.clone(),
        source_version: Some(j.branch.clone()),
        buildspec,
        environment: Default::default(),
        privileged: false,
        timeout_minutes: if j.install_command.trim().is_empty() {
            BUILD_TIMEOUT_MINUTES
        } else {
            BUILD_TIMEOUT_MINUTES_CUSTOM_INSTALL
        },
        cache: Default::default(),
        tags: tags.clone(),
    };
    Desired {
        app: app.to_string(),
        region: place.region.clone(),
        project_arn: place.project_arn(&name),
        build_role,
        build_policy,
        project,
        events_role: RoleSpec {
            arn: place.role_arn(&events_role_name),
            name: events_role_name,
            trusted_service: EVENTS,
            policy_name: EVENTS_POLICY,
        },
        rule: RuleSpec {
            description: format!("envctl janitor for app {app}: starts CodeBuild project {name}"),
            name,
            schedule: j.schedule.clone(),
        },
        tags,
    }
}
