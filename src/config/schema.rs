//! The `envctl.toml` schema: every table and key, with its default. Types only; reading the file
//! is in `load`, `--set` in `overrides`, the checks in `validate`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Hook kinds are the model's (`[[hooks.<kind>]]` names them); re-exported for config users.
pub use crate::model::HookKind;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Short app name; prefixes every AWS name envctl derives.
    pub app: String,
    /// Default region when neither `--region` nor the AWS environment sets one.
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub cluster: ClusterConfig,
    #[serde(default)]
    pub network: NetworkConfig,
    #[serde(default)]
    pub logs: LogsConfig,
    #[serde(default)]
    pub ecr: EcrConfig,
    #[serde(default)]
    pub templates: TemplatesConfig,
    #[serde(default)]
    pub roles: RolesConfig,
    /// Extra values for templates, as `vars.<name>`.
    #[serde(default)]
    pub vars: BTreeMap<String, toml::Value>,
    pub services: BTreeMap<String, ServiceConfig>,
    #[serde(default)]
    pub schedule: ScheduleConfig,
    #[serde(default)]
    pub expiry: ExpiryConfig,
    #[serde(default)]
    pub preview: PreviewConfig,
    #[serde(default)]
    pub janitor: JanitorConfig,
    /// CodeBuild settings for services with a `[services.<key>.build]` table.
    #[serde(default)]
    pub build: CodeBuildConfig,
    /// One-off tasks around deploys: migrations, seeding, cleanup.
    #[serde(default)]
    pub hooks: HooksConfig,
    /// `envctl exec`: ECS Exec on the env's services.
    #[serde(default)]
    pub exec: ExecConfig,
    /// A database per env on a shared server (docs/database.md).
    #[serde(default)]
    pub database: Option<DatabaseConfig>,
}

/// `[exec]`: whether services run with ECS Exec (`enableExecuteCommand`), so `envctl exec` can
/// open a shell in their containers. On by default: the point of a preview env is poking at it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecConfig {
    /// Sets the `exec_enabled` template variable and makes the env's tasks run with a task role
    /// (`roles.task_role_arn`, else bootstrap's `envctl-<app>-task`).
    #[serde(default = "yes")]
    pub enabled: bool,
}

impl Default for ExecConfig {
    fn default() -> Self {
        Self { enabled: true }
    }
}

/// `[database]`: each env gets its own database and login role on a shared Postgres server,
/// created by a one-off task in the env's network, and a `DATABASE_URL` SecureString.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// Only `postgres`.
    pub engine: String,
    /// SSM SecureString holding `postgres://ADMIN:PASSWORD@HOST:5432/postgres`.
    pub admin_url_param: String,
    /// A database to copy (`CREATE DATABASE ... TEMPLATE`).
    #[serde(default)]
    pub template: Option<String>,
    /// Services that get `DATABASE_URL`; default all.
    #[serde(default)]
    pub services: Option<Vec<String>>,
    /// The image running psql (official postgres image, pinned).
    #[serde(default = "default_client_image")]
    pub client_image: String,
    /// How long the database task may run (a template copy of a big seed takes a while).
    #[serde(default = "default_database_timeout")]
    pub timeout: String,
}

/// The official client image used when `database.client_image` is not set (pinned).
pub const DEFAULT_CLIENT_IMAGE: &str = "public.ecr.aws/docker/library/postgres:17.6-alpine";

fn default_client_image() -> String {
    DEFAULT_CLIENT_IMAGE.into()
}

fn default_database_timeout() -> String {
    "15m".into()
}

impl DatabaseConfig {
    /// Whether the service `key` gets `DATABASE_URL`.
    pub fn serves(&self, key: &str) -> bool {
        self.services
            .as_ref()
            .is_none_or(|s| s.iter().any(|k| k == key))
    }

    pub fn timeout_secs(&self) -> u64 {
        crate::schedule::parse_duration_spec(&self.timeout)
            .ok()
            .flatten()
            .and_then(|d| u64::try_from(d.as_secs()).ok())
            .unwrap_or(900)
    }
}

/// `[[hooks.before_deploy]]`, `[[hooks.after_create]]`, `[[hooks.before_destroy]]`: each a
/// one-off task of a service's task definition with its own command. Hooks must be idempotent:
/// one cut off by a crash runs again on the next `up` (or `down`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HooksConfig {
    /// Before any service is updated, with the service's **new** task definition revision; runs
    /// whenever the service is about to move to another revision. A failure stops the deploy.
    #[serde(default)]
    pub before_deploy: Vec<HookConfig>,
    /// After an env's services are first created (seeding); never again once it succeeded.
    #[serde(default)]
    pub after_create: Vec<HookConfig>,
    /// At the start of `down`, with the revision the service runs.
    #[serde(default)]
    pub before_destroy: Vec<HookConfig>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HookConfig {
    /// The `[services.<key>]` whose task definition runs the command.
    pub service: String,
    /// The container command, e.g. `["bin/rails", "db:migrate"]`.
    pub command: Vec<String>,
    /// The container to run it in; default: the task definition's first essential container.
    #[serde(default)]
    pub container: Option<String>,
    /// How long the task may run, e.g. `15m` (default 30m).
    #[serde(default = "default_hook_timeout")]
    pub timeout: String,
}

fn default_hook_timeout() -> String {
    "30m".into()
}

impl Config {
    /// The service keys, for hints: `api, web, worker`.
    pub fn service_keys(&self) -> String {
        self.services.keys().cloned().collect::<Vec<_>>().join(", ")
    }
}

impl HooksConfig {
    /// Every hook with its kind, in the order they run within a kind.
    pub fn all(&self) -> impl Iterator<Item = (HookKind, &HookConfig)> {
        self.before_deploy
            .iter()
            .map(|h| (HookKind::BeforeDeploy, h))
            .chain(self.after_create.iter().map(|h| (HookKind::AfterCreate, h)))
            .chain(
                self.before_destroy
                    .iter()
                    .map(|h| (HookKind::BeforeDestroy, h)),
            )
    }
}

/// App-wide `[build]`: the CodeBuild project that builds images for services with a `build` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeBuildConfig {
    #[serde(default = "default_build_compute_type")]
    pub compute_type: String,
    /// CodeBuild image; it must have Docker with buildx (the standard images do).
    #[serde(default = "default_build_image")]
    pub image: String,
    #[serde(default = "default_build_timeout")]
    pub timeout_minutes: u32,
    /// Buildspec template, relative to the config file.
    #[serde(default = "default_buildspec")]
    pub buildspec: PathBuf,
}

impl Default for CodeBuildConfig {
    fn default() -> Self {
        Self {
            compute_type: default_build_compute_type(),
            image: default_build_image(),
            timeout_minutes: default_build_timeout(),
            buildspec: default_buildspec(),
        }
    }
}

fn default_build_compute_type() -> String {
    "BUILD_GENERAL1_MEDIUM".into()
}
fn default_build_image() -> String {
    "aws/codebuild/standard:7.0".into()
}
fn default_build_timeout() -> u32 {
    30
}
pub fn default_buildspec() -> PathBuf {
    PathBuf::from("templates/buildspec.yml.j2")
}

/// `[services.<key>.build]`: envctl builds the service's image with CodeBuild instead of using
/// `image`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildConfig {
    /// Docker build context, relative to the config file.
    #[serde(default = "default_build_context")]
    pub context: PathBuf,
    /// Relative to `context`.
    #[serde(default = "default_dockerfile")]
    pub dockerfile: PathBuf,
    /// `--build-arg NAME=VALUE` for each entry.
    #[serde(default)]
    pub args: BTreeMap<String, String>,
    /// Which dependency directories CodeBuild caches between builds.
    #[serde(default)]
    pub preset: Option<BuildPreset>,
    /// More cache paths (the only ones with `preset = "custom"`).
    #[serde(default)]
    pub cache_paths: Vec<String>,
    #[serde(default)]
    pub source: BuildSource,
    /// HTTPS URL of the GitHub or CodeCommit repository (required with `source = "git"`).
    #[serde(default)]
    pub repository_url: Option<String>,
}

impl Default for BuildConfig {
    fn default() -> Self {
        Self {
            context: default_build_context(),
            dockerfile: default_dockerfile(),
            args: BTreeMap::new(),
            preset: None,
            cache_paths: vec![],
            source: BuildSource::Git,
            repository_url: None,
        }
    }
}

fn default_build_context() -> PathBuf {
    PathBuf::from(".")
}
fn default_dockerfile() -> PathBuf {
    PathBuf::from("Dockerfile")
}

/// A build tool whose dependency cache directories envctl knows (see `build::preset_cache_paths`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BuildPreset {
    Gradle,
    Maven,
    Npm,
    Cargo,
    Python,
    /// Only `cache_paths`.
    Custom,
}

/// What CodeBuild builds from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BuildSource {
    /// The branch's pushed commit, checked out from `repository_url`.
    #[default]
    Git,
    /// The working tree (git-tracked and untracked, not ignored), zipped and uploaded.
    Local,
}

/// The cloud janitor (`envctl janitor install`): an EventBridge rule that starts a CodeBuild
/// build running `envctl gc --yes` on a schedule, so cleanup never depends on a laptop or CI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JanitorConfig {
    /// EventBridge rule expression: `rate(1 hour)`, `cron(0 * * * ? *)`.
    #[serde(default = "default_janitor_schedule")]
    pub schedule: String,
    /// HTTPS git URL of the app's repository (GitHub or CodeCommit); the build checks it out
    /// for envctl.toml and the list of live branches. Required by `janitor install`.
    #[serde(default)]
    pub source: String,
    /// The branch the build checks out.
    #[serde(default = "default_janitor_branch")]
    pub branch: String,
    /// Your own shell command that puts `envctl` on PATH in the build. Empty (the default): the
    /// build downloads the prebuilt release binary of `envctl_version` and checks its SHA-256.
    #[serde(default)]
    pub install_command: String,
    /// The prebuilt envctl the build runs; default: the version of the envctl that installs the
    /// janitor (re-run `janitor install` after upgrading envctl).
    #[serde(default)]
    pub envctl_version: Option<String>,
    /// Pins the SHA-256 of the release archive for `architecture`; default: checked against
    /// the release's SHA256SUMS.
    #[serde(default)]
    pub envctl_sha256: Option<String>,
    /// The build container's CPU: `arm64` (cheapest) or `x86_64`.
    #[serde(default)]
    pub architecture: JanitorArch,
    /// CodeBuild image; default: Amazon Linux standard for `architecture`.
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default = "default_janitor_compute_type")]
    pub compute_type: String,
    /// Buildspec template, relative to the config file.
    #[serde(default = "default_janitor_buildspec")]
    pub buildspec: PathBuf,
    /// Also collect envs whose branch is gone (`gc --live-branches-from git`). Off by default:
    /// every env not named after a remote branch (`pr-12`, `lt-1`) would be deleted too.
    #[serde(default)]
    pub live_branches: bool,
}

impl Default for JanitorConfig {
    fn default() -> Self {
        Self {
            schedule: default_janitor_schedule(),
            source: String::new(),
            branch: default_janitor_branch(),
            install_command: String::new(),
            envctl_version: None,
            envctl_sha256: None,
            architecture: JanitorArch::default(),
            image: None,
            compute_type: default_janitor_compute_type(),
            buildspec: default_janitor_buildspec(),
            live_branches: false,
        }
    }
}

fn default_janitor_schedule() -> String {
    "rate(1 hour)".into()
}
fn default_janitor_branch() -> String {
    "main".into()
}
/// The janitor build's CPU architecture.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JanitorArch {
    /// Graviton: the cheapest CodeBuild compute.
    #[default]
    Arm64,
    X86_64,
}

impl JanitorConfig {
    /// The CodeBuild image: the configured one, else Amazon Linux standard for the CPU.
    pub fn image(&self) -> String {
        self.image.clone().unwrap_or_else(|| {
            match self.architecture {
                JanitorArch::Arm64 => "aws/codebuild/amazonlinux-aarch64-standard:3.0",
                JanitorArch::X86_64 => "aws/codebuild/amazonlinux-x86_64-standard:5.0",
            }
            .to_string()
        })
    }

    /// CodeBuild's environment type for the CPU.
    pub fn environment_type(&self) -> &'static str {
        match self.architecture {
            JanitorArch::Arm64 => "ARM_CONTAINER",
            JanitorArch::X86_64 => "LINUX_CONTAINER",
        }
    }

    /// The release target of the prebuilt binary the build downloads.
    pub fn target(&self) -> crate::dist::Target {
        match self.architecture {
            JanitorArch::Arm64 => crate::dist::Target::LinuxAarch64,
            JanitorArch::X86_64 => crate::dist::Target::LinuxX86_64,
        }
    }
}
fn default_janitor_compute_type() -> String {
    "BUILD_GENERAL1_SMALL".into()
}
pub fn default_janitor_buildspec() -> PathBuf {
    PathBuf::from("templates/janitor-buildspec.yml.j2")
}

/// Nightly stop / morning start (EventBridge Scheduler), per env and service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// IANA time zone the times are in.
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// `HH:MM`, or a full `cron(...)` expression (then `days` is ignored).
    #[serde(default = "default_stop")]
    pub stop: String,
    #[serde(default = "default_start")]
    pub start: String,
    /// `MON-FRI`, `MON,WED,FRI`, `daily`, ...
    #[serde(default = "default_days")]
    pub days: String,
    /// Scheduler spreads each firing over this window (0 = exactly on time); see docs/lifecycle.md.
    #[serde(default = "default_flexible_window")]
    pub flexible_window_minutes: u32,
    /// Envs (names or slugs) that never get stop/start schedules.
    #[serde(default)]
    pub always_on: Vec<String>,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            timezone: default_timezone(),
            stop: default_stop(),
            start: default_start(),
            days: default_days(),
            flexible_window_minutes: default_flexible_window(),
            always_on: vec![],
        }
    }
}

/// How long an env lives without an `up`, and which envs are never collected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpiryConfig {
    /// `7d`, `72h`, ... counted from the last `up`; `never` turns expiry off.
    #[serde(default = "default_ttl")]
    pub ttl: String,
    /// Envs (names or slugs) that `gc` never deletes and `down` deletes only with --force.
    #[serde(default)]
    pub protected: Vec<String>,
}

impl Default for ExpiryConfig {
    fn default() -> Self {
        Self {
            ttl: default_ttl(),
            protected: vec![],
        }
    }
}

fn default_timezone() -> String {
    "UTC".into()
}
fn default_stop() -> String {
    "20:00".into()
}
fn default_start() -> String {
    "08:00".into()
}
fn default_days() -> String {
    "MON-FRI".into()
}
fn default_flexible_window() -> u32 {
    15
}
fn default_ttl() -> String {
    "7d".into()
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// Defaults to `envctl-<app>`.
    #[serde(default)]
    pub name: Option<String>,
    /// Use a cluster someone else manages: `bootstrap` will not create it.
    #[serde(default)]
    pub existing: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// Empty: the default VPC's subnets.
    #[serde(default)]
    pub subnets: Vec<String>,
    /// Empty: the VPC's `default` security group.
    #[serde(default)]
    pub security_groups: Vec<String>,
    #[serde(default = "yes")]
    pub assign_public_ip: bool,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        Self {
            subnets: vec![],
            security_groups: vec![],
            assign_public_ip: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogsConfig {
    #[serde(default = "default_retention")]
    pub retention_days: i32,
}

impl Default for LogsConfig {
    fn default() -> Self {
        Self {
            retention_days: default_retention(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EcrConfig {
    /// Lifecycle policy template, relative to the config file.
    #[serde(default = "default_lifecycle_template")]
    pub lifecycle_policy: PathBuf,
    /// Tagged images kept per env and service.
    #[serde(default = "default_max_images")]
    pub max_images: u32,
    /// Days before an untagged image expires.
    #[serde(default = "one")]
    pub untagged_expire_days: u32,
}

impl Default for EcrConfig {
    fn default() -> Self {
        Self {
            lifecycle_policy: default_lifecycle_template(),
            max_images: default_max_images(),
            untagged_expire_days: 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplatesConfig {
    #[serde(default = "default_task_definition_template")]
    pub task_definition: PathBuf,
    #[serde(default = "default_service_template")]
    pub service: PathBuf,
}

impl Default for TemplatesConfig {
    fn default() -> Self {
        Self {
            task_definition: default_task_definition_template(),
            service: default_service_template(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolesConfig {
    /// Defaults to the role `bootstrap` creates (`envctl-<app>-execution`).
    #[serde(default)]
    pub execution_role_arn: Option<String>,
    #[serde(default)]
    pub task_role_arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// Image URI; may use template variables (`{{ account }}`, `{{ slug }}`, ...). Empty when
    /// the service has `build` (envctl builds the image; exactly one of the two is set).
    #[serde(default)]
    pub image: String,
    /// Build the image with CodeBuild instead of using `image`.
    #[serde(default)]
    pub build: Option<BuildConfig>,
    #[serde(default = "default_cpu")]
    pub cpu: u32,
    #[serde(default = "default_memory")]
    pub memory: u32,
    /// Desired task count.
    #[serde(default = "one")]
    pub count: u32,
    #[serde(default)]
    pub port: Option<u16>,
    /// Run on FARGATE_SPOT (default) or on-demand FARGATE.
    #[serde(default = "yes")]
    pub spot: bool,
    /// With spot: tasks kept on on-demand FARGATE before the rest go to spot.
    #[serde(default)]
    pub on_demand_base: u32,
    #[serde(default)]
    pub command: Vec<String>,
    /// Per-service template overrides, relative to the config file.
    #[serde(default)]
    pub task_definition_template: Option<PathBuf>,
    #[serde(default)]
    pub service_template: Option<PathBuf>,
    #[serde(default)]
    pub vars: BTreeMap<String, toml::Value>,
    /// Give the service a preview URL on the shared ALB (needs `port` and `[preview]`).
    #[serde(default)]
    pub public: bool,
    #[serde(default = "default_health_check_path")]
    pub health_check_path: String,
    /// HTTP codes the ALB counts as healthy.
    #[serde(default = "default_health_check_matcher")]
    pub health_check_matcher: String,
}

fn default_health_check_path() -> String {
    "/".into()
}
fn default_health_check_matcher() -> String {
    "200-399".into()
}

/// Preview URLs: per env and public service, a listener rule and a target group on one shared ALB.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewConfig {
    #[serde(default)]
    pub enabled: bool,
    /// An existing HTTP(S) listener; empty: the one `bootstrap` creates (ALB `envctl-<app>`).
    #[serde(default)]
    pub listener_arn: String,
    /// Base domain: env `feature-x` is served at `feature-x.<domain>` (host mode).
    #[serde(default)]
    pub domain: String,
    #[serde(default)]
    pub mode: PreviewMode,
    /// URL scheme shown to users (`https` when the listener terminates TLS).
    #[serde(default = "default_scheme")]
    pub scheme: String,
    /// The listener's rule quota (AWS default 100; raise it here after a quota increase).
    #[serde(default = "default_alb_limit")]
    pub max_rules: u32,
    /// Target groups per load balancer (AWS hard limit 100).
    #[serde(default = "default_alb_limit")]
    pub max_target_groups: u32,
}

impl Default for PreviewConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            listener_arn: String::new(),
            domain: String::new(),
            mode: PreviewMode::Host,
            scheme: default_scheme(),
            max_rules: default_alb_limit(),
            max_target_groups: default_alb_limit(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PreviewMode {
    /// `host-header` rules: `<env>.<domain>` (needs a wildcard DNS record).
    #[default]
    Host,
    /// `path-pattern` rules: `<domain>/<env>/` (no wildcard DNS needed; the app must serve below
    /// that prefix).
    Path,
}

fn default_scheme() -> String {
    "http".into()
}
fn default_alb_limit() -> u32 {
    100
}

fn yes() -> bool {
    true
}
fn one() -> u32 {
    1
}
fn default_retention() -> i32 {
    7
}
fn default_max_images() -> u32 {
    10
}
fn default_cpu() -> u32 {
    256
}
fn default_memory() -> u32 {
    512
}
fn default_lifecycle_template() -> PathBuf {
    PathBuf::from("templates/ecr-lifecycle.json.j2")
}
fn default_task_definition_template() -> PathBuf {
    PathBuf::from("templates/task-definition.json.j2")
}
fn default_service_template() -> PathBuf {
    PathBuf::from("templates/service.json.j2")
}
