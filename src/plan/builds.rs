//! The image builds' CodeBuild projects (one per built service, shared by every env of the app) as
//! a plan: create the missing ones, update those that differ, compared with
//! `normalize::project_changes` (the comparator the janitor uses too). Pure: `ops::build`
//! observes the projects and `apply::builds` runs the steps.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{app_ownership, Ownership, ProjectSpec, ProjectState};
use crate::normalize;
use crate::plan::{Conflict, Verb};

/// What to do with a service's build project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ProjectChange {
    None,
    Create,
    /// The fields that differ.
    Update(Vec<String>),
}

/// Compares the wanted project with the one CodeBuild has.
pub fn project_change(want: &ProjectSpec, have: Option<&ProjectState>) -> ProjectChange {
    let Some(have) = have else {
        return ProjectChange::Create;
    };
    let diff = normalize::project_changes(want, have);
    if diff.is_empty() {
        ProjectChange::None
    } else {
        ProjectChange::Update(diff.into_iter().map(String::from).collect())
    }
}

/// One step of a projects plan; each is one CodeBuild call.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ProjectAction {
    CreateProject {
        spec: ProjectSpec,
    },
    UpdateProject {
        /// With the project's own tags: UpdateProject replaces them, and the ones it has say
        /// who created it when.
        spec: ProjectSpec,
        changes: Vec<String>,
        /// Unified diff of the buildspec, when it changed.
        #[serde(skip_serializing_if = "Option::is_none")]
        diff: Option<String>,
    },
}

impl ProjectAction {
    pub fn spec(&self) -> &ProjectSpec {
        match self {
            ProjectAction::CreateProject { spec } | ProjectAction::UpdateProject { spec, .. } => {
                spec
            }
        }
    }

    pub fn verb(&self) -> Verb {
        match self {
            ProjectAction::CreateProject { .. } => Verb::Create,
            ProjectAction::UpdateProject { .. } => Verb::Update,
        }
    }

    /// One line for humans.
    pub fn describe(&self) -> String {
        match self {
            ProjectAction::CreateProject { spec } => format!(
                "create CodeBuild project {} ({} {}; {} {})",
                spec.name,
                spec.source_type,
                spec.source_location,
                spec.environment_type,
                spec.compute_type
            ),
            ProjectAction::UpdateProject { spec, changes, .. } => format!(
                "update CodeBuild project {}: {}",
                spec.name,
                changes.join(", ")
            ),
        }
    }
}

/// What the builds' projects need.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectsPlan {
    pub actions: Vec<ProjectAction>,
    /// Project names taken by something that is not the app's: nothing is applied while any
    /// exist.
    pub conflicts: Vec<Conflict>,
}

/// The steps from `have` (by project name; a missing project is absent) to `want`.
pub fn plan_projects(
    app: &str,
    want: &[ProjectSpec],
    have: &BTreeMap<String, ProjectState>,
) -> ProjectsPlan {
    let mut actions = Vec::new();
    let mut conflicts = Vec::new();
    for spec in want {
        let found = have.get(&spec.name);
        if let Some(h) = found {
            let owner = app_ownership(&h.tags, app);
            if owner != Ownership::Ours {
                conflicts.push(Conflict {
                    kind: "CodeBuild project".into(),
                    name: spec.name.clone(),
                    owner,
                });
                continue;
            }
        }
        match (project_change(spec, found), found) {
            (ProjectChange::Create, _) => {
                actions.push(ProjectAction::CreateProject { spec: spec.clone() })
            }
            (ProjectChange::Update(changes), Some(h)) => {
                // Compared as the normalizer does: CodeBuild may drop the final newline.
                let lines = |s: &str| format!("{}\n", s.trim());
                let diff = changes.iter().any(|c| c == "buildspec").then(|| {
                    similar::TextDiff::from_lines(&lines(&h.buildspec), &lines(&spec.buildspec))
                        .unified_diff()
                        .context_radius(2)
                        .header("in use", "desired")
                        .to_string()
                });
                actions.push(ProjectAction::UpdateProject {
                    spec: ProjectSpec {
                        tags: h.tags.clone(),
                        ..spec.clone()
                    },
                    changes,
                    diff,
                });
            }
            _ => {}
        }
    }
    ProjectsPlan { actions, conflicts }
}

impl ProjectsPlan {
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// A line per step with the buildspec diffs, then the conflicts.
    pub fn text(&self) -> String {
        let mut out = String::new();
        if self.is_empty() && self.conflicts.is_empty() {
            out.push_str("No changes: every build project is up to date.\n");
        }
        for a in &self.actions {
            let mark = if a.verb() == Verb::Create { '+' } else { '~' };
            out.push_str(&format!("  {mark} {}\n", a.describe()));
            if let ProjectAction::UpdateProject { diff: Some(d), .. } = a {
                for line in d.lines() {
                    out.push_str(&format!("      {line}\n"));
                }
            }
        }
        for c in &self.conflicts {
            out.push_str(&format!("  ! conflict: {c}\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{app_tags, ProjectCacheSpec, Tags};

    use super::*;

    fn tags() -> Tags {
        app_tags("shop", "alice", "2026-01-02T03:04:05Z")
    }

    fn spec(service: &str) -> ProjectSpec {
        ProjectSpec {
            name: format!("envctl-shop-{service}-build"),
            description: format!("envctl: images of service `{service}` of app `shop`"),
            service_role_arn: "arn:aws:iam::123456789012:role/envctl-shop-build".into(),
            image: "aws/codebuild/standard:7.0".into(),
            compute_type: "BUILD_GENERAL1_MEDIUM".into(),
            environment_type: "LINUX_CONTAINER".into(),
            source_type: "GITHUB".into(),
            source_location: "https://github.com/acme/shop.git".into(),
            source_version: None,
            buildspec: "version: 0.2\nphases:\n  build:\n    commands:\n      - make image\n"
                .into(),
            environment: BTreeMap::new(),
            privileged: true,
            timeout_minutes: 30,
            cache: ProjectCacheSpec::S3 {
                location: format!("bucket/cache/shop/{service}"),
            },
            tags: app_tags("shop", "bob", "2026-03-04T05:06:07Z"),
        }
    }

    /// The project as CodeBuild hands it back: trailing newline trimmed, its own tags.
    fn state(s: &ProjectSpec) -> ProjectState {
        ProjectState {
            name: s.name.clone(),
            arn: format!(
                "arn:aws:codebuild:eu-west-1:123456789012:project/{}",
                s.name
            ),
            buildspec: s.buildspec.trim_end().to_string(),
            source_type: s.source_type.clone(),
            source_location: s.source_location.clone(),
            source_version: Some(String::new()),
            image: s.image.clone(),
            compute_type: s.compute_type.clone(),
            environment_type: s.environment_type.clone(),
            service_role_arn: s.service_role_arn.clone(),
            environment: s.environment.clone(),
            cache: s.cache.clone(),
            tags: tags(),
        }
    }

    fn observed(specs: &[ProjectSpec]) -> BTreeMap<String, ProjectState> {
        specs.iter().map(|s| (s.name.clone(), state(s))).collect()
    }

    #[test]
    fn fresh_account_creates_each_project() {
        let want = [spec("api"), spec("web")];
        let plan = plan_projects("shop", &want, &BTreeMap::new());
        insta::assert_snapshot!("projects_fresh", plan.text());
        assert!(plan.conflicts.is_empty());
    }

    #[test]
    fn converged_projects_plan_nothing() {
        let want = [spec("api"), spec("web")];
        let plan = plan_projects("shop", &want, &observed(&want));
        insta::assert_snapshot!("projects_converged", plan.text());
        assert!(plan.is_empty(), "{plan:#?}");
    }

    /// A changed buildspec and cache: one update, with a diff, keeping the project's own tags.
    #[test]
    fn drifted_project_is_updated_with_its_own_tags() {
        let before = spec("web");
        let mut after = spec("web");
        after.buildspec = before.buildspec.replace("make image", "make image push");
        after.cache = ProjectCacheSpec::None;
        let plan = plan_projects("shop", &[after], &observed(&[before]));
        insta::assert_snapshot!("projects_drifted", plan.text());
        let [ProjectAction::UpdateProject { spec, changes, .. }] = plan.actions.as_slice() else {
            panic!("one update: {plan:#?}");
        };
        assert_eq!(changes, &["buildspec", "cache"]);
        assert_eq!(spec.tags, tags());
    }

    #[test]
    fn foreign_project_is_a_conflict_and_not_updated() {
        let want = spec("web");
        let mut have = observed(std::slice::from_ref(&want));
        if let Some(p) = have.get_mut(&want.name) {
            p.tags = Tags::new();
            p.image = "someone/else:1".into();
        }
        let plan = plan_projects("shop", &[want], &have);
        insta::assert_snapshot!("projects_foreign", plan.text());
        assert!(plan.actions.is_empty());
        assert_eq!(plan.conflicts.len(), 1);
    }
}
