//! CodeBuild: projects with an inline buildspec (the janitor's, which checks out the app's
//! repository; image builds, from a repository or an uploaded S3 archive, with a cache), and
//! the builds they run. The only module that calls `aws_sdk_codebuild`.

use std::collections::BTreeMap;

use aws_sdk_codebuild::types as cb;
use aws_smithy_types::error::operation::BuildError;

use super::reply::{required, required_part};
use super::{Aws, AwsError, AwsResult};
use crate::model::{ProjectCacheSpec, ProjectSpec, ProjectState};

/// One build to start; `None`/empty fields keep the project's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildRequest {
    pub project: String,
    /// A branch, tag or commit for repository sources; an object version for S3 sources.
    pub source_version: Option<String>,
    /// `bucket/key.zip` of an uploaded local source.
    pub source_location_override: Option<String>,
    /// e.g. `S3` together with `source_location_override`.
    pub source_type_override: Option<String>,
    /// Plain-text environment variables added to (or replacing) the project's.
    pub env: BTreeMap<String, String>,
}

/// A build as observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildState {
    pub id: String,
    /// `IN_PROGRESS`, `SUCCEEDED`, `FAILED`, `FAULT`, `STOPPED` or `TIMED_OUT`.
    pub status: String,
    /// e.g. `PROVISIONING`, `BUILD`, `COMPLETED`.
    pub current_phase: Option<String>,
    pub phases: Vec<BuildPhase>,
    pub log_group: Option<String>,
    pub log_stream: Option<String>,
    /// The console link to the build's logs.
    pub deep_link: Option<String>,
}

/// Phase statuses that end a build unsuccessfully.
const PHASE_FAILURES: [&str; 4] = ["FAILED", "FAULT", "TIMED_OUT", "STOPPED"];

impl BuildState {
    /// Whether the build has stopped, successfully or not.
    pub fn is_finished(&self) -> bool {
        self.status != "IN_PROGRESS"
    }

    /// The phase that ended the build: the first one that failed, faulted, timed out or was
    /// stopped. `current_phase` cannot say: a finished build is always in `COMPLETED`.
    pub fn failed_phase(&self) -> Option<&BuildPhase> {
        self.phases.iter().find(|p| {
            p.status
                .as_deref()
                .is_some_and(|s| PHASE_FAILURES.contains(&s))
        })
    }
}

/// One phase of a build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildPhase {
    /// e.g. `DOWNLOAD_SOURCE`, `BUILD`.
    pub name: String,
    /// `None` while the phase runs.
    pub status: Option<String>,
    pub duration_secs: Option<i64>,
    /// What CodeBuild says about how the phase ended, e.g. `COMMAND_EXECUTION_ERROR: Error while
    /// executing command: make. Reason: exit status 2`; `None` when it says nothing.
    pub context: Option<String>,
}

/// BatchGetBuilds accepts at most this many ids per call.
const BUILDS_PER_GET: usize = 100;

/// The request parts CreateProject and UpdateProject share.
struct ProjectParts {
    source: cb::ProjectSource,
    artifacts: cb::ProjectArtifacts,
    environment: cb::ProjectEnvironment,
    cache: cb::ProjectCache,
    tags: Option<Vec<cb::Tag>>,
}

impl Aws {
    /// The project, or `None` when it does not exist.
    pub async fn describe_project(&self, name: &str) -> AwsResult<Option<ProjectState>> {
        let out = self
            .codebuild
            .batch_get_projects()
            .names(name)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("codebuild:BatchGetProjects", name, e))?;
        // Unknown names come back in `projectsNotFound`, which is exactly "not there".
        out.projects()
            .iter()
            .find(|p| p.name() == Some(name))
            .map(|p| project_from_sdk(p, name))
            .transpose()
    }

    /// Creates the project and returns its ARN. An existing name is an error
    /// (ResourceAlreadyExistsException); callers observe first.
    pub async fn create_project(&self, spec: &ProjectSpec) -> AwsResult<String> {
        const ACTION: &str = "codebuild:CreateProject";
        let parts = project_parts(spec).map_err(|e| build_error(ACTION, &spec.name, e))?;
        let out = self
            .codebuild
            .create_project()
            .name(&spec.name)
            .description(&spec.description)
            .source(parts.source)
            .artifacts(parts.artifacts)
            .environment(parts.environment)
            .cache(parts.cache)
            .set_source_version(spec.source_version.clone())
            .service_role(&spec.service_role_arn)
            .timeout_in_minutes(spec.timeout_minutes)
            .set_tags(parts.tags)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(ACTION, &spec.name, e))?;
        project_arn(ACTION, &spec.name, out.project())
    }

    /// Brings an existing project to `spec` and returns its ARN. Every field envctl manages is
    /// sent, tags included (UpdateProject replaces the project's tags with the ones given).
    pub async fn update_project(&self, spec: &ProjectSpec) -> AwsResult<String> {
        const ACTION: &str = "codebuild:UpdateProject";
        let parts = project_parts(spec).map_err(|e| build_error(ACTION, &spec.name, e))?;
        let out = self
            .codebuild
            .update_project()
            .name(&spec.name)
            .description(&spec.description)
            .source(parts.source)
            .artifacts(parts.artifacts)
            .environment(parts.environment)
            .cache(parts.cache)
            .set_source_version(spec.source_version.clone())
            .service_role(&spec.service_role_arn)
            .timeout_in_minutes(spec.timeout_minutes)
            .set_tags(Some(parts.tags.unwrap_or_default()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(ACTION, &spec.name, e))?;
        project_arn(ACTION, &spec.name, out.project())
    }

    /// Starts a build and returns its id (`project:uuid`).
    pub async fn start_build(&self, req: &BuildRequest) -> AwsResult<String> {
        const ACTION: &str = "codebuild:StartBuild";
        let variables =
            plaintext_variables(&req.env).map_err(|e| build_error(ACTION, &req.project, e))?;
        let out = self
            .codebuild
            .start_build()
            .project_name(&req.project)
            .set_source_version(req.source_version.clone())
            .set_source_location_override(req.source_location_override.clone())
            .set_source_type_override(
                req.source_type_override
                    .as_deref()
                    .map(cb::SourceType::from),
            )
            .set_environment_variables_override((!variables.is_empty()).then_some(variables))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(ACTION, &req.project, e))?;
        required(
            out.build_value().and_then(|b| b.id()),
            ACTION,
            &req.project,
            "build id",
        )
    }

    /// The builds with these ids, in the order CodeBuild answers; unknown ids are left out.
    pub async fn get_builds(&self, ids: &[String]) -> AwsResult<Vec<BuildState>> {
        const ACTION: &str = "codebuild:BatchGetBuilds";
        let mut builds = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(BUILDS_PER_GET) {
            let resource = chunk.join(",");
            let out = self
                .codebuild
                .batch_get_builds()
                .set_ids(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| AwsError::from_sdk(ACTION, &resource, e))?;
            for b in out.builds() {
                builds.push(build_from_sdk(b).ok_or_else(|| {
                    AwsError::unexpected(
                        ACTION,
                        &resource,
                        "reply has a build without id or status",
                    )
                })?);
            }
        }
        Ok(builds)
    }

    /// Deletes the project; a missing project is success (CodeBuild answers 200 for it).
    pub async fn delete_project(&self, name: &str) -> AwsResult<()> {
        self.codebuild
            .delete_project()
            .name(name)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("codebuild:DeleteProject", name, e))?;
        Ok(())
    }
}

/// The spec's source with the inline buildspec, no artifacts (builds push images or delete
/// things themselves), a Linux container with plain-text variables.
fn project_parts(spec: &ProjectSpec) -> Result<ProjectParts, BuildError> {
    let source = cb::ProjectSource::builder()
        .r#type(cb::SourceType::from(spec.source_type.as_str()))
        .set_location((!spec.source_location.is_empty()).then(|| spec.source_location.clone()))
        .buildspec(&spec.buildspec)
        .build()?;
    let artifacts = cb::ProjectArtifacts::builder()
        .r#type(cb::ArtifactsType::NoArtifacts)
        .build()?;
    let variables = plaintext_variables(&spec.environment)?;
    let environment = cb::ProjectEnvironment::builder()
        .r#type(cb::EnvironmentType::from(spec.environment_type.as_str()))
        .image(&spec.image)
        .compute_type(cb::ComputeType::from(spec.compute_type.as_str()))
        .privileged_mode(spec.privileged)
        .set_environment_variables((!variables.is_empty()).then_some(variables))
        .build()?;
    let tags: Vec<cb::Tag> = spec
        .tags
        .iter()
        .map(|(k, v)| cb::Tag::builder().key(k).value(v).build())
        .collect();
    let cache = match &spec.cache {
        ProjectCacheSpec::None => cb::ProjectCache::builder().r#type(cb::CacheType::NoCache),
        ProjectCacheSpec::S3 { location } => cb::ProjectCache::builder()
            .r#type(cb::CacheType::S3)
            .location(location),
        ProjectCacheSpec::Local { modes } => cb::ProjectCache::builder()
            .r#type(cb::CacheType::Local)
            .set_modes(Some(
                modes
                    .iter()
                    .map(|m| cb::CacheMode::from(m.as_str()))
                    .collect(),
            )),
    }
    .build()?;
    Ok(ProjectParts {
        source,
        artifacts,
        environment,
        cache,
        tags: (!tags.is_empty()).then_some(tags),
    })
}

fn plaintext_variables(
    vars: &BTreeMap<String, String>,
) -> Result<Vec<cb::EnvironmentVariable>, BuildError> {
    vars.iter()
        .map(|(k, v)| {
            cb::EnvironmentVariable::builder()
                .name(k)
                .value(v)
                .r#type(cb::EnvironmentVariableType::Plaintext)
                .build()
        })
        .collect()
}

/// An S3 cache without a location would compare as a different cache on every run.
fn cache_from_sdk(cache: Option<&cb::ProjectCache>, resource: &str) -> AwsResult<ProjectCacheSpec> {
    Ok(match cache.map(|c| (c.r#type(), c)) {
        Some((cb::CacheType::S3, c)) => ProjectCacheSpec::S3 {
            location: required(
                c.location(),
                "codebuild:BatchGetProjects",
                resource,
                "S3 cache location",
            )?,
        },
        Some((cb::CacheType::Local, c)) => ProjectCacheSpec::Local {
            modes: c.modes().iter().map(|m| m.as_str().to_string()).collect(),
        },
        _ => ProjectCacheSpec::None,
    })
}

fn build_from_sdk(b: &cb::Build) -> Option<BuildState> {
    let logs = b.logs();
    Some(BuildState {
        id: b.id()?.to_string(),
        status: b.build_status()?.as_str().to_string(),
        current_phase: b.current_phase().map(str::to_string),
        phases: b
            .phases()
            .iter()
            .map(|p| BuildPhase {
                name: p
                    .phase_type()
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_default(),
                status: p.phase_status().map(|s| s.as_str().to_string()),
                duration_secs: p.duration_in_seconds(),
                context: phase_context(p.contexts()),
            })
            .collect(),
        log_group: logs.and_then(|l| l.group_name()).map(str::to_string),
        log_stream: logs.and_then(|l| l.stream_name()).map(str::to_string),
        deep_link: logs.and_then(|l| l.deep_link()).map(str::to_string),
    })
}

/// A phase's contexts as one line (`STATUS_CODE: message; ...`), skipping the empty ones CodeBuild
/// reports for phases that succeeded.
fn phase_context(contexts: &[cb::PhaseContext]) -> Option<String> {
    let parts: Vec<String> = contexts
        .iter()
        .filter_map(|c| {
            let code = c.status_code().unwrap_or_default().trim();
            let message = c.message().unwrap_or_default().trim();
            match (code.is_empty(), message.is_empty()) {
                (true, true) => None,
                (false, true) => Some(code.to_string()),
                (true, false) => Some(message.to_string()),
                (false, false) => Some(format!("{code}: {message}")),
            }
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// The project as envctl compares it. Its name, ARN (a rule target and a policy resource),
/// source, environment and service role are required: a reply without them is an error, not an
/// empty string. A missing buildspec or source location reads as empty, which is what a project
/// reading its buildspec from the repository, or one without source, has.
fn project_from_sdk(p: &cb::Project, resource: &str) -> AwsResult<ProjectState> {
    const ACTION: &str = "codebuild:BatchGetProjects";
    let env = required_part(p.environment(), ACTION, resource, "project environment")?;
    let source = required_part(p.source(), ACTION, resource, "project source")?;
    Ok(ProjectState {
        name: required(p.name(), ACTION, resource, "project name")?,
        arn: required(p.arn(), ACTION, resource, "project ARN")?,
        buildspec: source.buildspec().unwrap_or_default().to_string(),
        source_type: source.r#type().as_str().to_string(),
        source_location: source.location().unwrap_or_default().to_string(),
        source_version: p.source_version().map(str::to_string),
        image: env.image().to_string(),
        compute_type: env.compute_type().as_str().to_string(),
        environment_type: env.r#type().as_str().to_string(),
        service_role_arn: required(p.service_role(), ACTION, resource, "project service role")?,
        environment: env
            .environment_variables()
            .iter()
            .map(|v| (v.name().to_string(), v.value().to_string()))
            .collect(),
        cache: cache_from_sdk(p.cache(), resource)?,
        tags: p
            .tags()
            .iter()
            .filter_map(|t| {
                Some((
                    t.key()?.to_string(),
                    t.value().unwrap_or_default().to_string(),
                ))
            })
            .collect(),
    })
}

fn project_arn(action: &str, name: &str, project: Option<&cb::Project>) -> AwsResult<String> {
    required(project.and_then(|p| p.arn()), action, name, "project ARN")
}

fn build_error(action: &str, resource: &str, e: BuildError) -> AwsError {
    AwsError::unexpected(action, resource, format!("invalid request: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phase_contexts_become_one_line_and_empty_ones_are_dropped() {
        let phase = |status: cb::StatusType, contexts: Vec<cb::PhaseContext>| {
            cb::BuildPhase::builder()
                .phase_type(cb::BuildPhaseType::Build)
                .phase_status(status)
                .set_contexts(Some(contexts))
                .build()
        };
        let ctx = |code: &str, message: &str| {
            cb::PhaseContext::builder()
                .status_code(code)
                .message(message)
                .build()
        };
        let build = cb::Build::builder()
            .id("p:1")
            .build_status(cb::StatusType::Failed)
            .current_phase("COMPLETED")
            .phases(phase(cb::StatusType::Succeeded, vec![ctx("", "")]))
            .phases(phase(
                cb::StatusType::Failed,
                vec![ctx(
                    "COMMAND_EXECUTION_ERROR",
                    "Error while executing command: make. Reason: exit status 2",
                )],
            ))
            .build();
        let st = build_from_sdk(&build).expect("a build with id and status");
        assert_eq!(st.phases[0].context, None);
        assert_eq!(
            st.phases[1].context.as_deref(),
            Some("COMMAND_EXECUTION_ERROR: Error while executing command: make. Reason: exit status 2")
        );
        let failed = st.failed_phase().expect("the BUILD phase failed");
        assert_eq!(failed.name, "BUILD");
    }

    fn sdk_project(arn: Option<&str>) -> cb::Project {
        cb::Project::builder()
            .name("envctl-shop-janitor")
            .set_arn(arn.map(str::to_string))
            .service_role("arn:aws:iam::123456789012:role/envctl-shop-janitor")
            .source(
                cb::ProjectSource::builder()
                    .r#type(cb::SourceType::Github)
                    .location("https://github.com/acme/shop.git")
                    .buildspec("version: 0.2\n")
                    .build()
                    .expect("source"),
            )
            .environment(
                cb::ProjectEnvironment::builder()
                    .r#type(cb::EnvironmentType::ArmContainer)
                    .image("aws/codebuild/amazonlinux-aarch64-standard:3.0")
                    .compute_type(cb::ComputeType::BuildGeneral1Small)
                    .build()
                    .expect("environment"),
            )
            .build()
    }

    /// Regression: a project read without an ARN became `arn: ""`, which the janitor then used
    /// as its rule's target and in the events role's policy.
    #[test]
    fn missing_project_arn_is_an_error_not_an_empty_string() {
        let arn = "arn:aws:codebuild:eu-west-1:123456789012:project/envctl-shop-janitor";
        let p = project_from_sdk(&sdk_project(Some(arn)), "envctl-shop-janitor")
            .expect("a complete project");
        assert_eq!(p.arn, arn);
        assert_eq!(p.source_type, "GITHUB");
        let e = project_from_sdk(&sdk_project(None), "envctl-shop-janitor").unwrap_err();
        assert_eq!(
            e.to_string(),
            "codebuild:BatchGetProjects on envctl-shop-janitor failed: reply has no project ARN"
        );
    }
}
