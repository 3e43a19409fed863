//! CodeBuild: projects with an inline buildspec (the janitor's, which checks out the app's
//! repository; source-less ones for image builds). The only module that calls
//! `aws_sdk_codebuild`.

use std::collections::BTreeMap;

use aws_sdk_codebuild::types as cb;
use aws_smithy_types::error::operation::BuildError;

use super::{Aws, AwsError, AwsResult};
use crate::model::Tags;

/// A project as envctl wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectSpec {
    pub name: String,
    pub description: String,
    pub service_role_arn: String,
    /// Build image, e.g. `aws/codebuild/amazonlinux2-x86_64-standard:5.0`.
    pub image: String,
    /// e.g. `BUILD_GENERAL1_SMALL`.
    pub compute_type: String,
    /// `GITHUB`, `CODECOMMIT`, `NO_SOURCE`, ...
    pub source_type: String,
    /// The repository URL; empty for `NO_SOURCE`.
    pub source_location: String,
    /// What the build checks out (a branch, tag or commit); `None`: the default branch.
    pub source_version: Option<String>,
    /// The buildspec YAML itself (inline, never read from the source).
    pub buildspec: String,
    /// Plain-text environment variables.
    pub environment: BTreeMap<String, String>,
    /// Needed to run a Docker daemon inside the build.
    pub privileged: bool,
    pub timeout_minutes: i32,
    pub tags: Tags,
}

/// A project as observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectState {
    pub name: String,
    pub arn: String,
    pub buildspec: String,
    pub source_type: String,
    pub source_location: String,
    pub source_version: Option<String>,
    pub image: String,
    pub compute_type: String,
    pub service_role_arn: String,
    /// Every environment variable by name; for non-plain-text ones the value is the reference
    /// (parameter or secret name), never the secret.
    pub environment: BTreeMap<String, String>,
    pub tags: Tags,
}

/// The request parts CreateProject and UpdateProject share.
struct ProjectParts {
    source: cb::ProjectSource,
    artifacts: cb::ProjectArtifacts,
    environment: cb::ProjectEnvironment,
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
        Ok(out
            .projects()
            .iter()
            .find(|p| p.name() == Some(name))
            .map(project_from_sdk))
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
            .set_source_version(spec.source_version.clone())
            .service_role(&spec.service_role_arn)
            .timeout_in_minutes(spec.timeout_minutes)
            .set_tags(Some(parts.tags.unwrap_or_default()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(ACTION, &spec.name, e))?;
        project_arn(ACTION, &spec.name, out.project())
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
    let variables = spec
        .environment
        .iter()
        .map(|(k, v)| {
            cb::EnvironmentVariable::builder()
                .name(k)
                .value(v)
                .r#type(cb::EnvironmentVariableType::Plaintext)
                .build()
        })
        .collect::<Result<Vec<_>, _>>()?;
    let environment = cb::ProjectEnvironment::builder()
        .r#type(cb::EnvironmentType::LinuxContainer)
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
    Ok(ProjectParts {
        source,
        artifacts,
        environment,
        tags: (!tags.is_empty()).then_some(tags),
    })
}

fn project_from_sdk(p: &cb::Project) -> ProjectState {
    let env = p.environment();
    let source = p.source();
    ProjectState {
        name: p.name().unwrap_or_default().to_string(),
        arn: p.arn().unwrap_or_default().to_string(),
        buildspec: source
            .and_then(|s| s.buildspec())
            .unwrap_or_default()
            .to_string(),
        source_type: source
            .map(|s| s.r#type().as_str().to_string())
            .unwrap_or_default(),
        source_location: source
            .and_then(|s| s.location())
            .unwrap_or_default()
            .to_string(),
        source_version: p.source_version().map(str::to_string),
        image: env.map(|e| e.image().to_string()).unwrap_or_default(),
        compute_type: env
            .map(|e| e.compute_type().as_str().to_string())
            .unwrap_or_default(),
        service_role_arn: p.service_role().unwrap_or_default().to_string(),
        environment: env
            .map(|e| {
                e.environment_variables()
                    .iter()
                    .map(|v| (v.name().to_string(), v.value().to_string()))
                    .collect()
            })
            .unwrap_or_default(),
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
    }
}

fn project_arn(action: &str, name: &str, project: Option<&cb::Project>) -> AwsResult<String> {
    project
        .and_then(|p| p.arn())
        .map(str::to_string)
        .ok_or_else(|| AwsError::unexpected(action, name, "reply has no project ARN"))
}

fn build_error(action: &str, resource: &str, e: BuildError) -> AwsError {
    AwsError::unexpected(action, resource, format!("invalid request: {e}"))
}
