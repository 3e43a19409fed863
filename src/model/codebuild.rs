//! CodeBuild projects as envctl wants them and as observed: the janitor's and the image builds'.
//! `aws::codebuild` converts to and from the SDK; `normalize::project_changes` compares them.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Tags;

/// A project as envctl wants it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectSpec {
    pub name: String,
    pub description: String,
    pub service_role_arn: String,
    /// Build image, e.g. `aws/codebuild/amazonlinux2-x86_64-standard:5.0`.
    pub image: String,
    /// e.g. `BUILD_GENERAL1_SMALL`.
    pub compute_type: String,
    /// `LINUX_CONTAINER` (x86_64) or `ARM_CONTAINER` (arm64).
    pub environment_type: String,
    /// `GITHUB`, `CODECOMMIT`, `S3`, `NO_SOURCE`, ...
    pub source_type: String,
    /// The repository URL, `bucket/key.zip` for `S3`; empty for `NO_SOURCE`.
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
    pub cache: ProjectCacheSpec,
    pub tags: Tags,
}

/// The project's build cache. CodeBuild allows one cache type per project, hence an enum.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ProjectCacheSpec {
    /// `NO_CACHE` (also what a project without a cache setting reads back as).
    #[default]
    None,
    /// `S3`: `location` is `bucket/prefix`; shared by every build host.
    S3 { location: String },
    /// `LOCAL`: kept on the build host, so only hit by builds that land on a warm host.
    /// `modes`: `LOCAL_DOCKER_LAYER_CACHE`, `LOCAL_SOURCE_CACHE`, `LOCAL_CUSTOM_CACHE`.
    Local { modes: Vec<String> },
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
    pub environment_type: String,
    pub service_role_arn: String,
    /// Every environment variable by name; for non-plain-text ones the value is the reference
    /// (parameter or secret name), never the secret.
    pub environment: BTreeMap<String, String>,
    pub cache: ProjectCacheSpec,
    pub tags: Tags,
}
