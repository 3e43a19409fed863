//! `janitor install` and `uninstall` as plans. `Desired` (`desired.rs`) is the janitor from the
//! config alone; `Observed` is what AWS has under its names; `plan_install` compares them resource by resource,
//! each kind with its own normalizer (the project with `normalize::project_changes`, roles by
//! their trust and inline policies as JSON, the rule by schedule and state, the target by what
//! it starts and as whom), and lists the steps, in the order they must run. The plan also decides
//! the report: which resources are created, updated or left as they are.

use serde::Serialize;
use serde_json::Value;

use super::desired::{Desired, RoleSpec, RuleSpec, ENABLED};
use super::policy::events_role_policy;
use super::report::{JanitorReport, ResourceReport, State};
use super::TARGET_ID;
use crate::model::{
    app_ownership, trust_policy, Ownership, ProjectSpec, ProjectState, RuleState, RuleTarget,
    ServiceRoleState, Tags,
};
use crate::naming;
use crate::normalize;
use crate::normalize::policy::same_policy;
use crate::plan::{Conflict, Verb};

/// The janitor's resources as found under its names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observed {
    pub build_role: Option<ServiceRoleState>,
    pub project: Option<ProjectState>,
    pub events_role: Option<ServiceRoleState>,
    pub rule: Option<RuleState>,
    /// The rule's target with id `TARGET_ID`.
    pub target: Option<RuleTarget>,
}

/// The names the janitor needs that are not the app's: install and uninstall write nothing
/// while there is one.
pub fn conflicts(o: &Observed, app: &str) -> Vec<Conflict> {
    let found = [
        (
            "EventBridge rule",
            o.rule.as_ref().map(|r| (&r.name, &r.tags)),
        ),
        (
            "CodeBuild project",
            o.project.as_ref().map(|p| (&p.name, &p.tags)),
        ),
        (
            "IAM role",
            o.build_role.as_ref().map(|r| (&r.name, &r.tags)),
        ),
        (
            "IAM role",
            o.events_role.as_ref().map(|r| (&r.name, &r.tags)),
        ),
    ];
    found
        .into_iter()
        .filter_map(|(kind, found)| {
            let (name, tags) = found?;
            let owner = app_ownership(tags, app);
            (owner != Ownership::Ours).then(|| Conflict {
                kind: kind.into(),
                name: name.clone(),
                owner,
            })
        })
        .collect()
}

/// The janitor's five resources, in the order install creates them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    BuildRole,
    Project,
    EventsRole,
    Rule,
    Target,
}

impl Resource {
    /// The report's RESOURCE column.
    pub fn label(self) -> &'static str {
        match self {
            Resource::BuildRole => "CodeBuild role",
            Resource::Project => "CodeBuild project",
            Resource::EventsRole => "events role",
            Resource::Rule => "EventBridge rule",
            Resource::Target => "rule target",
        }
    }

    fn name(self, app: &str) -> String {
        match self {
            Resource::BuildRole | Resource::Project | Resource::Rule => naming::janitor(app),
            Resource::EventsRole => naming::janitor_events_role(app),
            Resource::Target => TARGET_ID.to_string(),
        }
    }
}

/// One step of a janitor plan; each is one or two AWS calls.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum JanitorAction {
    CreateRole {
        resource: Resource,
        role: RoleSpec,
        tags: Tags,
    },
    UpdateTrustPolicy {
        resource: Resource,
        role: RoleSpec,
    },
    PutRolePolicy {
        resource: Resource,
        role: String,
        policy_name: &'static str,
        document: Value,
        /// The role has a policy of that name already: unified diff against it.
        #[serde(skip_serializing_if = "Option::is_none")]
        diff: Option<String>,
    },
    CreateProject {
        spec: ProjectSpec,
        /// The ARN the events role's policy and the target name.
        arn: String,
        /// The build role is created in the same run: CodeBuild may not be able to assume it
        /// yet (IAM is eventually consistent), so CreateProject is retried for a while.
        role_is_new: bool,
    },
    UpdateProject {
        /// With the project's own tags: UpdateProject replaces them.
        spec: ProjectSpec,
        changes: Vec<&'static str>,
        /// Unified diff of the buildspec, when it changed.
        #[serde(skip_serializing_if = "Option::is_none")]
        diff: Option<String>,
    },
    CreateRule {
        rule: RuleSpec,
        tags: Tags,
    },
    UpdateRule {
        rule: RuleSpec,
        /// The rule's own tags: PutRule would add any that differ (created-at, say).
        tags: Tags,
        changes: Vec<String>,
    },
    PutTarget {
        rule: String,
        target: RuleTarget,
        /// What differs in the target the rule has; empty when it has none.
        changes: Vec<&'static str>,
    },
    DeleteRule {
        name: String,
    },
    DeleteProject {
        name: String,
    },
    DeleteRole {
        resource: Resource,
        name: String,
    },
}

impl JanitorAction {
    pub fn resource(&self) -> Resource {
        match self {
            JanitorAction::CreateRole { resource, .. }
            | JanitorAction::UpdateTrustPolicy { resource, .. }
            | JanitorAction::PutRolePolicy { resource, .. }
            | JanitorAction::DeleteRole { resource, .. } => *resource,
            JanitorAction::CreateProject { .. }
            | JanitorAction::UpdateProject { .. }
            | JanitorAction::DeleteProject { .. } => Resource::Project,
            JanitorAction::CreateRule { .. }
            | JanitorAction::UpdateRule { .. }
            | JanitorAction::DeleteRule { .. } => Resource::Rule,
            JanitorAction::PutTarget { .. } => Resource::Target,
        }
    }

    pub fn verb(&self) -> Verb {
        match self {
            JanitorAction::CreateRole { .. }
            | JanitorAction::CreateProject { .. }
            | JanitorAction::CreateRule { .. }
            | JanitorAction::PutRolePolicy { diff: None, .. } => Verb::Create,
            JanitorAction::PutTarget { changes, .. } if changes.is_empty() => Verb::Create,
            JanitorAction::UpdateTrustPolicy { .. }
            | JanitorAction::PutRolePolicy { .. }
            | JanitorAction::UpdateProject { .. }
            | JanitorAction::UpdateRule { .. }
            | JanitorAction::PutTarget { .. } => Verb::Update,
            JanitorAction::DeleteRule { .. }
            | JanitorAction::DeleteProject { .. }
            | JanitorAction::DeleteRole { .. } => Verb::Delete,
        }
    }

    /// Whether this step brings the resource into being (the report's `created`).
    fn creates(&self) -> bool {
        matches!(
            self,
            JanitorAction::CreateRole { .. }
                | JanitorAction::CreateProject { .. }
                | JanitorAction::CreateRule { .. }
        ) || matches!(self, JanitorAction::PutTarget { changes, .. } if changes.is_empty())
    }

    /// One line for humans.
    pub fn describe(&self) -> String {
        match self {
            JanitorAction::CreateRole { role, .. } => format!(
                "create IAM role {} (trusted by {})",
                role.name, role.trusted_service
            ),
            JanitorAction::UpdateTrustPolicy { role, .. } => format!(
                "update trust policy of IAM role {}: only {} may assume it",
                role.name, role.trusted_service
            ),
            JanitorAction::PutRolePolicy {
                role,
                policy_name,
                diff: None,
                ..
            } => format!("put inline policy {policy_name} on IAM role {role}"),
            JanitorAction::PutRolePolicy {
                role, policy_name, ..
            } => format!("update inline policy {policy_name} of IAM role {role}"),
            JanitorAction::CreateProject { spec, .. } => format!(
                "create CodeBuild project {} ({} {}, branch {}; {} {})",
                spec.name,
                spec.source_type,
                spec.source_location,
                spec.source_version.as_deref().unwrap_or("default"),
                spec.environment_type,
                spec.compute_type
            ),
            JanitorAction::UpdateProject { spec, changes, .. } => format!(
                "update CodeBuild project {}: {}",
                spec.name,
                changes.join(", ")
            ),
            JanitorAction::CreateRule { rule, .. } => {
                format!("create EventBridge rule {} ({})", rule.name, rule.schedule)
            }
            JanitorAction::UpdateRule { rule, changes, .. } => format!(
                "update EventBridge rule {}: {}",
                rule.name,
                changes.join("; ")
            ),
            JanitorAction::PutTarget {
                rule,
                target,
                changes,
            } if changes.is_empty() => format!(
                "add target {} to EventBridge rule {rule}: start the project as the events role",
                target.id
            ),
            JanitorAction::PutTarget {
                rule,
                target,
                changes,
            } => format!(
                "update target {} of EventBridge rule {rule}: {}",
                target.id,
                changes.join(", ")
            ),
            JanitorAction::DeleteRule { name } => {
                format!("delete EventBridge rule {name} and its targets")
            }
            JanitorAction::DeleteProject { name } => format!("delete CodeBuild project {name}"),
            JanitorAction::DeleteRole { name, .. } => format!("delete IAM role {name}"),
        }
    }

    fn diff(&self) -> Option<&str> {
        match self {
            JanitorAction::PutRolePolicy { diff, .. }
            | JanitorAction::UpdateProject { diff, .. } => diff.as_deref(),
            _ => None,
        }
    }
}

/// Install or uninstall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    Install,
    Uninstall,
}

/// What `janitor install` or `uninstall` would do.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JanitorPlan {
    pub operation: Operation,
    pub app: String,
    pub region: String,
    /// The rule's schedule (install only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    pub actions: Vec<JanitorAction>,
    /// Names taken by resources that are not the app's: nothing is applied while any exist.
    pub conflicts: Vec<Conflict>,
}

/// Everything `install` has to do to turn `o` into `d`, in the order it must happen: each role
/// before what names it (project, target), the project before the events role's policy (which
/// names the project), the rule before its target.
pub fn plan_install(d: &Desired, o: &Observed) -> JanitorPlan {
    let mut actions = Vec::new();
    // The ARN of what exists is the one AWS reports; of what does not, the one it will give.
    let build_role_arn = o.build_role.as_ref().map_or(&d.build_role.arn, |r| &r.arn);
    let events_role_arn = o
        .events_role
        .as_ref()
        .map_or(&d.events_role.arn, |r| &r.arn);
    let project_arn = o.project.as_ref().map_or(&d.project_arn, |p| &p.arn);

    role_actions(
        &mut actions,
        Resource::BuildRole,
        &d.build_role,
        &d.build_policy,
        o.build_role.as_ref(),
        &d.tags,
    );

    let project = ProjectSpec {
        service_role_arn: build_role_arn.clone(),
        ..d.project.clone()
    };
    match &o.project {
        None => actions.push(JanitorAction::CreateProject {
            spec: project,
            arn: d.project_arn.clone(),
            role_is_new: o.build_role.is_none(),
        }),
        Some(have) => {
            let changes = normalize::project_changes(&project, have);
            if !changes.is_empty() {
                // Compared as the normalizer does: CodeBuild may drop the final newline.
                let lines = |s: &str| format!("{}\n", s.trim());
                let diff = changes
                    .contains(&"buildspec")
                    .then(|| text_diff(&lines(&have.buildspec), &lines(&project.buildspec)));
                actions.push(JanitorAction::UpdateProject {
                    spec: ProjectSpec {
                        tags: have.tags.clone(),
                        ..project
                    },
                    changes,
                    diff,
                });
            }
        }
    }

    role_actions(
        &mut actions,
        Resource::EventsRole,
        &d.events_role,
        &events_role_policy(project_arn),
        o.events_role.as_ref(),
        &d.tags,
    );

    match &o.rule {
        None => actions.push(JanitorAction::CreateRule {
            rule: d.rule.clone(),
            tags: d.tags.clone(),
        }),
        Some(have) => {
            let changes = rule_changes(&d.rule, have);
            if !changes.is_empty() {
                actions.push(JanitorAction::UpdateRule {
                    rule: d.rule.clone(),
                    tags: have.tags.clone(),
                    changes,
                });
            }
        }
    }

    let target = RuleTarget {
        id: TARGET_ID.into(),
        arn: project_arn.clone(),
        role_arn: Some(events_role_arn.clone()),
    };
    let changes = match &o.target {
        None => Some(Vec::new()),
        Some(have) => Some(target_changes(&target, have)).filter(|c| !c.is_empty()),
    };
    if let Some(changes) = changes {
        actions.push(JanitorAction::PutTarget {
            rule: d.rule.name.clone(),
            target,
            changes,
        });
    }

    JanitorPlan {
        operation: Operation::Install,
        app: d.app.clone(),
        region: d.region.clone(),
        schedule: Some(d.rule.schedule.clone()),
        actions,
        conflicts: conflicts(o, &d.app),
    }
}

/// Everything `uninstall` deletes: the rule first (targets, then the rule), so nothing starts a
/// build that is going away, then the project, then both roles.
pub fn plan_uninstall(app: &str, region: &str, o: &Observed) -> JanitorPlan {
    let mut actions = Vec::new();
    if let Some(r) = &o.rule {
        actions.push(JanitorAction::DeleteRule {
            name: r.name.clone(),
        });
    }
    if let Some(p) = &o.project {
        actions.push(JanitorAction::DeleteProject {
            name: p.name.clone(),
        });
    }
    for (resource, role) in [
        (Resource::EventsRole, &o.events_role),
        (Resource::BuildRole, &o.build_role),
    ] {
        if let Some(r) = role {
            actions.push(JanitorAction::DeleteRole {
                resource,
                name: r.name.clone(),
            });
        }
    }
    JanitorPlan {
        operation: Operation::Uninstall,
        app: app.to_string(),
        region: region.to_string(),
        schedule: None,
        actions,
        conflicts: conflicts(o, app),
    }
}

/// A role's steps: create it with its policy, or bring its trust and inline policy to the wanted
/// documents (compared after `normalize::policy`, from JSON that `aws::iam` decodes from IAM's
/// URL-encoded form).
fn role_actions(
    actions: &mut Vec<JanitorAction>,
    resource: Resource,
    spec: &RoleSpec,
    policy: &Value,
    have: Option<&ServiceRoleState>,
    tags: &Tags,
) {
    let current_policy = match have {
        None => {
            actions.push(JanitorAction::CreateRole {
                resource,
                role: spec.clone(),
                tags: tags.clone(),
            });
            None
        }
        Some(have) => {
            let trusted = trust_policy(spec.trusted_service);
            if !have
                .trust_policy
                .as_ref()
                .is_some_and(|t| same_policy(t, &trusted))
            {
                actions.push(JanitorAction::UpdateTrustPolicy {
                    resource,
                    role: spec.clone(),
                });
            }
            if have.policy.as_ref().is_some_and(|p| same_policy(p, policy)) {
                return;
            }
            have.policy.as_ref()
        }
    };
    actions.push(JanitorAction::PutRolePolicy {
        resource,
        role: spec.name.clone(),
        policy_name: spec.policy_name,
        document: policy.clone(),
        diff: current_policy.map(|old| json_diff(old, policy)),
    });
}

/// What differs in the rule: its schedule, or that it is not enabled.
fn rule_changes(want: &RuleSpec, have: &RuleState) -> Vec<String> {
    let mut changes = Vec::new();
    if have.schedule_expression.as_deref().map(str::trim) != Some(want.schedule.trim()) {
        changes.push(format!(
            "schedule {} → {}",
            have.schedule_expression.as_deref().unwrap_or("(none)"),
            want.schedule
        ));
    }
    if have.state != ENABLED {
        changes.push(format!("state {} → {ENABLED}", have.state));
    }
    changes
}

/// What differs in the target: the project it starts, or the role it starts it as.
fn target_changes(want: &RuleTarget, have: &RuleTarget) -> Vec<&'static str> {
    let mut changes = Vec::new();
    if have.arn != want.arn {
        changes.push("project");
    }
    if have.role_arn != want.role_arn {
        changes.push("role");
    }
    changes
}

fn json_diff(old: &Value, new: &Value) -> String {
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string());
    text_diff(&pretty(old), &pretty(new))
}

fn text_diff(old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(2)
        .header("in use", "desired")
        .to_string()
}

impl JanitorPlan {
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// The plan for people, as `--plan` prints it: a line per step (with diffs), a summary, and
    /// the conflicts.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let (app, region) = (&self.app, &self.region);
        match (self.operation, self.is_empty()) {
            (Operation::Install, true) => out.push_str(&format!(
                "No changes: the janitor of app `{app}` is installed in {region}.\n"
            )),
            (Operation::Uninstall, true) => out.push_str(&format!(
                "No changes: app `{app}` has no janitor in {region}.\n"
            )),
            (Operation::Install, false) => out.push_str(&format!(
                "Plan for the janitor of app `{app}` in {region}:\n"
            )),
            (Operation::Uninstall, false) => out.push_str(&format!(
                "Plan to remove the janitor of app `{app}` in {region}:\n"
            )),
        }
        if !self.is_empty() {
            let (mut create, mut update, mut delete) = (0, 0, 0);
            for a in &self.actions {
                let mark = match a.verb() {
                    Verb::Create => {
                        create += 1;
                        '+'
                    }
                    Verb::Update => {
                        update += 1;
                        '~'
                    }
                    Verb::Delete => {
                        delete += 1;
                        '-'
                    }
                };
                out.push_str(&format!("  {mark} {}\n", a.describe()));
                for line in a.diff().into_iter().flat_map(str::lines) {
                    out.push_str(&format!("      {line}\n"));
                }
            }
            out.push_str(&format!(
                "Plan: {create} to create, {update} to update, {delete} to delete.\n"
            ));
        }
        for c in &self.conflicts {
            out.push_str(&format!("  ! conflict: {c}\n"));
        }
        out
    }

    /// The resources and what the plan does to each: the report after it is applied.
    pub fn report(&self) -> JanitorReport {
        let touched = |r: Resource| self.actions.iter().filter(move |a| a.resource() == r);
        let rows: &[Resource] = match self.operation {
            Operation::Install => &[
                Resource::BuildRole,
                Resource::Project,
                Resource::EventsRole,
                Resource::Rule,
                Resource::Target,
            ],
            Operation::Uninstall => &[
                Resource::Rule,
                Resource::Project,
                Resource::EventsRole,
                Resource::BuildRole,
            ],
        };
        let resources = rows
            .iter()
            .map(|&r| ResourceReport {
                resource: r.label().into(),
                name: r.name(&self.app),
                state: match self.operation {
                    Operation::Install if touched(r).any(|a| a.creates()) => State::Created,
                    Operation::Install if touched(r).next().is_some() => State::Updated,
                    Operation::Install => State::Exists,
                    Operation::Uninstall if touched(r).next().is_some() => State::Deleted,
                    Operation::Uninstall => State::Absent,
                },
            })
            .collect();
        JanitorReport {
            app: self.app.clone(),
            region: self.region.clone(),
            schedule: self.schedule.clone(),
            resources,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::config::{self, parse_source, LoadedConfig, Override};
    use crate::janitor::buildspec::{context, render_buildspec, BUILDSPEC_TEMPLATE};
    use crate::janitor::desired::{desired, Place};
    use crate::model::ProjectCacheSpec;

    const CONFIG: &str = r#"
app = "shop"

[services.web]
image = "nginx:1.27"

[janitor]
source = "https://github.com/acme/shop.git"
"#;

    fn place() -> Place {
        Place {
            partition: "aws".into(),
            region: "eu-west-1".into(),
            account: "123456789012".into(),
        }
    }

    fn tags() -> Tags {
        crate::model::app_tags("shop", "alice", "2026-01-02T03:04:05Z")
    }

    /// The janitor for `CONFIG` with `--set` flags, with the built-in buildspec.
    fn desired_with(sets: &[&str]) -> Desired {
        let overrides: Vec<Override> = sets
            .iter()
            .map(|s| s.parse().expect("test override parses"))
            .collect();
        let config =
            config::parse(Path::new("envctl.toml"), CONFIG, &overrides).expect("config is valid");
        let cfg = LoadedConfig {
            config,
            path: PathBuf::from("envctl.toml"),
            dir: PathBuf::from("."),
        };
        let j = &cfg.config.janitor;
        let source = parse_source(&j.source).expect("source parses");
        let ctx = context("shop", &place().region, j, &source);
        let buildspec = render_buildspec("janitor-buildspec.yml.j2", BUILDSPEC_TEMPLATE, &ctx)
            .expect("buildspec renders");
        desired(&cfg, &source, buildspec, &place(), tags())
    }

    fn role_state(spec: &RoleSpec, policy: &Value) -> ServiceRoleState {
        ServiceRoleState {
            name: spec.name.clone(),
            arn: spec.arn.clone(),
            tags: tags(),
            trust_policy: Some(trust_policy(spec.trusted_service)),
            policy: Some(policy.clone()),
        }
    }

    /// What AWS holds after `d` was installed (as CodeBuild echoes it: trailing newline trimmed).
    fn installed(d: &Desired) -> Observed {
        let p = &d.project;
        Observed {
            build_role: Some(role_state(&d.build_role, &d.build_policy)),
            project: Some(ProjectState {
                name: p.name.clone(),
                arn: d.project_arn.clone(),
                buildspec: p.buildspec.trim_end().to_string(),
                source_type: p.source_type.clone(),
                source_location: p.source_location.clone(),
                source_version: p.source_version.clone(),
                image: p.image.clone(),
                compute_type: p.compute_type.clone(),
                environment_type: p.environment_type.clone(),
                service_role_arn: d.build_role.arn.clone(),
                environment: p.environment.clone(),
                cache: ProjectCacheSpec::None,
                tags: tags(),
            }),
            events_role: Some(role_state(
                &d.events_role,
                &events_role_policy(&d.project_arn),
            )),
            rule: Some(RuleState {
                name: d.rule.name.clone(),
                arn: "arn:aws:events:eu-west-1:123456789012:rule/envctl-shop-janitor".into(),
                schedule_expression: Some(d.rule.schedule.clone()),
                state: ENABLED.into(),
                tags: tags(),
            }),
            target: Some(RuleTarget {
                id: TARGET_ID.into(),
                arn: d.project_arn.clone(),
                role_arn: Some(d.events_role.arn.clone()),
            }),
        }
    }

    fn states(plan: &JanitorPlan) -> Vec<(String, &'static str)> {
        plan.report()
            .resources
            .into_iter()
            .map(|r| (r.resource, r.state.as_str()))
            .collect()
    }

    #[test]
    fn fresh_install_creates_everything_in_dependency_order() {
        let d = desired_with(&[]);
        let plan = plan_install(&d, &Observed::default());
        insta::assert_snapshot!("janitor_fresh_install", plan.text());
        assert_eq!(
            states(&plan),
            [
                ("CodeBuild role".to_string(), "created"),
                ("CodeBuild project".to_string(), "created"),
                ("events role".to_string(), "created"),
                ("EventBridge rule".to_string(), "created"),
                ("rule target".to_string(), "created"),
            ]
        );
        // The ARNs are the ones AWS will give, so the policy and the target name the project.
        let Some(JanitorAction::CreateProject {
            spec,
            arn,
            role_is_new,
        }) = plan.actions.get(2)
        else {
            panic!("third step creates the project: {plan:#?}");
        };
        assert_eq!(
            arn,
            "arn:aws:codebuild:eu-west-1:123456789012:project/envctl-shop-janitor"
        );
        assert_eq!(
            spec.service_role_arn,
            "arn:aws:iam::123456789012:role/envctl-shop-janitor"
        );
        assert!(role_is_new);
        assert!(matches!(
            plan.actions.last(),
            Some(JanitorAction::PutTarget { target, .. })
                if target.arn == *arn
                    && target.role_arn.as_deref()
                        == Some("arn:aws:iam::123456789012:role/envctl-shop-janitor-events")
        ));
    }

    #[test]
    fn installed_janitor_plans_nothing() {
        let d = desired_with(&[]);
        let plan = plan_install(&d, &installed(&d));
        insta::assert_snapshot!("janitor_no_op", plan.text());
        assert!(plan.is_empty(), "{plan:#?}");
        assert!(!plan.report().changed());
    }

    /// Turning previews on gives gc more to delete: only the build role's inline policy changes,
    /// shown as a diff.
    #[test]
    fn changed_policy_updates_only_the_build_roles_policy() {
        let before = desired_with(&[]);
        let after = desired_with(&["preview.enabled=true", "preview.domain=preview.example.com"]);
        let plan = plan_install(&after, &installed(&before));
        insta::assert_snapshot!("janitor_changed_policy", plan.text());
        assert_eq!(
            states(&plan),
            [
                ("CodeBuild role".to_string(), "updated"),
                ("CodeBuild project".to_string(), "exists"),
                ("events role".to_string(), "exists"),
                ("EventBridge rule".to_string(), "exists"),
                ("rule target".to_string(), "exists"),
            ]
        );
    }

    #[test]
    fn changed_schedule_and_branch_update_the_rule_and_the_project() {
        let before = desired_with(&[]);
        let after = desired_with(&["janitor.schedule=rate(30 minutes)", "janitor.branch=trunk"]);
        let mut have = installed(&before);
        if let Some(rule) = &mut have.rule {
            rule.state = "DISABLED".into();
        }
        let plan = plan_install(&after, &have);
        insta::assert_snapshot!("janitor_changed_schedule_and_branch", plan.text());
        // UpdateProject keeps the project's own tags; PutRule the rule's.
        for a in &plan.actions {
            match a {
                JanitorAction::UpdateProject { spec, changes, .. } => {
                    assert_eq!(spec.tags, tags());
                    assert_eq!(changes, &["buildspec", "source version"]);
                }
                JanitorAction::UpdateRule { tags: t, .. } => assert_eq!(t, &tags()),
                other => panic!("unexpected step {other:?}"),
            }
        }
    }

    #[test]
    fn foreign_or_drifted_pieces_are_conflicts_or_repairs() {
        let d = desired_with(&[]);
        let mut have = installed(&d);
        // Someone's own rule under the janitor's name, a role trusting another service, and a
        // target pointing elsewhere.
        if let Some(rule) = &mut have.rule {
            rule.tags = Tags::new();
        }
        if let Some(role) = &mut have.events_role {
            role.trust_policy = Some(trust_policy("lambda.amazonaws.com"));
        }
        if let Some(t) = &mut have.target {
            t.arn = "arn:aws:codebuild:eu-west-1:123456789012:project/other".into();
        }
        let plan = plan_install(&d, &have);
        assert_eq!(plan.conflicts.len(), 1, "{plan:#?}");
        assert_eq!(plan.conflicts[0].kind, "EventBridge rule");
        let lines: Vec<String> = plan.actions.iter().map(JanitorAction::describe).collect();
        assert_eq!(
            lines,
            [
                "update trust policy of IAM role envctl-shop-janitor-events: only \
                 events.amazonaws.com may assume it",
                "update target envctl-janitor of EventBridge rule envctl-shop-janitor: project",
            ]
        );
    }

    #[test]
    fn uninstall_deletes_what_exists_rule_first() {
        let d = desired_with(&[]);
        let plan = plan_uninstall("shop", "eu-west-1", &installed(&d));
        insta::assert_snapshot!("janitor_uninstall", plan.text());
        let nothing = plan_uninstall("shop", "eu-west-1", &Observed::default());
        assert!(nothing.is_empty());
        assert!(nothing
            .report()
            .resources
            .iter()
            .all(|r| r.state == State::Absent));
    }
}
