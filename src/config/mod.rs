//! `envctl.toml`: the schema, `--set` overrides and validation. Pure: no AWS, no templates.
//! Every error names the file, the key and the fix, and is raised before any AWS call.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::naming;
use crate::schedule;

pub const DEFAULT_CONFIG_FILE: &str = "envctl.toml";

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

fn default_client_image() -> String {
    crate::database::DEFAULT_CLIENT_IMAGE.into()
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

/// When a hook runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HookKind {
    BeforeDeploy,
    AfterCreate,
    BeforeDestroy,
}

impl HookKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HookKind::BeforeDeploy => "before_deploy",
            HookKind::AfterCreate => "after_create",
            HookKind::BeforeDestroy => "before_destroy",
        }
    }
}

impl std::fmt::Display for HookKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
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

/// A config problem: where it is, what is wrong, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {}{message}", key.as_ref().map(|k| format!("`{k}`: ")).unwrap_or_default())]
pub struct ConfigError {
    pub file: String,
    pub key: Option<String>,
    pub message: String,
    pub hint: Option<String>,
}

impl ConfigError {
    fn new(file: &Path, key: Option<&str>, message: impl Into<String>, hint: Option<&str>) -> Self {
        ConfigError {
            file: file.display().to_string(),
            key: key.map(str::to_string),
            message: message.into(),
            hint: hint.map(str::to_string),
        }
    }
}

/// A parsed, validated config and where it came from (template paths are relative to it).
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedConfig {
    pub config: Config,
    pub path: PathBuf,
    pub dir: PathBuf,
}

impl LoadedConfig {
    pub fn resolve(&self, relative: &Path) -> PathBuf {
        self.dir.join(relative)
    }

    pub fn cluster_name(&self) -> String {
        self.config
            .cluster
            .name
            .clone()
            .unwrap_or_else(|| naming::cluster(&self.config.app))
    }
}

/// One `--set key.path=value` override; the value is TOML (`3`, `true`, `"x"`) or else a string.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub path: Vec<String>,
    pub value: toml::Value,
    pub raw: String,
}

impl std::str::FromStr for Override {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (key, value) = s
            .split_once('=')
            .ok_or_else(|| format!("`{s}` is not KEY=VALUE (example: services.web.count=3)"))?;
        let path: Vec<String> = key
            .trim()
            .split('.')
            .map(|p| p.trim().to_string())
            .collect();
        if path.iter().any(|p| p.is_empty()) {
            return Err(format!(
                "`{key}` is not a dotted key path (example: services.web.count)"
            ));
        }
        let value = toml::from_str::<toml::Table>(&format!("v = {value}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(value.to_string()));
        Ok(Override {
            path,
            value,
            raw: s.to_string(),
        })
    }
}

/// Reads, overrides and validates `path`.
pub fn load(path: &Path, overrides: &[Override]) -> Result<LoadedConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::new(
            path,
            None,
            format!("cannot read: {e}"),
            Some("run `envctl init --app NAME` to create one, or pass --config PATH"),
        )
    })?;
    let config = parse(path, &text, overrides)?;
    let dir = path
        .parent()
        .map(Path::to_path_buf)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    Ok(LoadedConfig {
        config,
        path: path.to_path_buf(),
        dir,
    })
}

/// Parses and validates config text (`file` is only used in messages).
pub fn parse(file: &Path, text: &str, overrides: &[Override]) -> Result<Config, ConfigError> {
    let config: Config = if overrides.is_empty() {
        toml::from_str(text).map_err(|e| toml_error(file, e))?
    } else {
        let mut table: toml::Table = toml::from_str(text).map_err(|e| toml_error(file, e))?;
        for o in overrides {
            apply_override(&mut table, o).map_err(|m| {
                ConfigError::new(file, Some(&o.path.join(".")), m, Some("fix the --set flag"))
            })?;
        }
        toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| {
                ConfigError::new(
                    file,
                    None,
                    format!(
                        "after --set {}: {}",
                        overrides
                            .iter()
                            .map(|o| o.raw.as_str())
                            .collect::<Vec<_>>()
                            .join(" "),
                        e.message()
                    ),
                    Some("check the key path and value type of the --set flags"),
                )
            })?
    };
    validate(file, &config)?;
    Ok(config)
}

fn toml_error(file: &Path, e: toml::de::Error) -> ConfigError {
    // toml's message carries line, column and the offending key.
    ConfigError::new(
        file,
        None,
        e.to_string().trim_end().to_string(),
        Some("see config/envctl.example.toml for every key"),
    )
}

fn apply_override(table: &mut toml::Table, o: &Override) -> Result<(), String> {
    let (last, parents) = o.path.split_last().ok_or("empty key")?;
    let mut cur = table;
    for (i, part) in parents.iter().enumerate() {
        let entry = cur
            .entry(part.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        cur = entry
            .as_table_mut()
            .ok_or_else(|| format!("`{}` is not a table", o.path[..=i].join(".")))?;
    }
    cur.insert(last.clone(), o.value.clone());
    Ok(())
}

/// CloudWatch Logs accepts only these retention periods.
const LOG_RETENTION_DAYS: [i32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// ECS's service quota default is far above this; the cap catches typos like `count = 1000`.
const MAX_COUNT: u32 = 100;

fn validate(file: &Path, c: &Config) -> Result<(), ConfigError> {
    let err = |key: &str, msg: String, hint: &str| {
        Err(ConfigError::new(file, Some(key), msg, Some(hint)))
    };
    if let Some(m) = naming::app_name_error(&c.app) {
        return err("app", m, "use a short lowercase name such as `shop`");
    }
    if c.services.is_empty() {
        return err(
            "services",
            "no services are defined".into(),
            "add a [services.web] table with at least `image = \"...\"`",
        );
    }
    if let Some(name) = &c.cluster.name {
        let ok = !name.is_empty()
            && name.len() <= 255
            && name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_');
        if !ok {
            return err(
                "cluster.name",
                format!("`{name}` is not a valid ECS cluster name"),
                "use letters, digits, '-' and '_' (at most 255)",
            );
        }
    }
    if !LOG_RETENTION_DAYS.contains(&c.logs.retention_days) {
        return err(
            "logs.retention_days",
            format!(
                "{} is not a retention CloudWatch Logs accepts",
                c.logs.retention_days
            ),
            "use one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...",
        );
    }
    for (i, s) in c.network.subnets.iter().enumerate() {
        if !s.starts_with("subnet-") {
            return err(
                &format!("network.subnets[{i}]"),
                format!("`{s}` is not a subnet id"),
                "subnet ids look like `subnet-0123abcd`",
            );
        }
    }
    for (i, s) in c.network.security_groups.iter().enumerate() {
        if !s.starts_with("sg-") {
            return err(
                &format!("network.security_groups[{i}]"),
                format!("`{s}` is not a security group id"),
                "security group ids look like `sg-0123abcd`",
            );
        }
    }
    for (key, arn) in [
        ("roles.execution_role_arn", &c.roles.execution_role_arn),
        ("roles.task_role_arn", &c.roles.task_role_arn),
    ] {
        if let Some(arn) = arn {
            if !(arn.starts_with("arn:") && arn.contains(":iam::") && arn.contains(":role/")) {
                return err(
                    key,
                    format!("`{arn}` is not an IAM role ARN"),
                    "use arn:aws:iam::ACCOUNT:role/NAME",
                );
            }
        }
    }
    if c.ecr.max_images == 0 {
        return err(
            "ecr.max_images",
            "must be at least 1".into(),
            "set it to the number of images to keep per env and service",
        );
    }
    if c.ecr.untagged_expire_days == 0 {
        return err(
            "ecr.untagged_expire_days",
            "must be at least 1".into(),
            "ECR lifecycle rules count whole days",
        );
    }
    validate_lifecycle(file, c)?;
    validate_preview(file, c)?;
    for (name, s) in &c.services {
        let key = |k: &str| format!("services.{name}.{k}");
        if let Some(m) = naming::service_key_error(name) {
            return err(
                &format!("services.{name}"),
                m,
                "use a short lowercase name such as `web`",
            );
        }
        match (&s.build, s.image.trim().is_empty()) {
            (None, true) => {
                return err(
                    &key("image"),
                    "is empty, and the service has no `build` table".into(),
                    "set an image URI such as `public.ecr.aws/nginx/nginx:1.27`, or add \
                     [services.<key>.build] to have envctl build it",
                )
            }
            (Some(_), false) => {
                return err(
                    &key("image"),
                    "is set, but so is `build` (envctl would build and use its own image)".into(),
                    "remove `image`, or remove the build table",
                )
            }
            (Some(b), true) => validate_build(file, name, b)?,
            (None, false) => {}
        }
        if let Some(m) = fargate_size_error(s.cpu, s.memory) {
            let field = if m.starts_with("cpu") {
                "cpu"
            } else {
                "memory"
            };
            return err(
                &key(field),
                m,
                "see the Fargate task size table in docs/configuration.md",
            );
        }
        if s.count > MAX_COUNT {
            return err(
                &key("count"),
                format!("{} is more than {MAX_COUNT}", s.count),
                "lower it, or split the load over several services",
            );
        }
        if s.on_demand_base > s.count {
            return err(
                &key("on_demand_base"),
                format!("{} is more than count ({})", s.on_demand_base, s.count),
                "on_demand_base is how many of the tasks run on on-demand FARGATE",
            );
        }
        if !s.spot && s.on_demand_base > 0 {
            return err(
                &key("on_demand_base"),
                "only applies with spot = true".into(),
                "remove it, or set spot = true",
            );
        }
        if s.port == Some(0) {
            return err(
                &key("port"),
                "0 is not a port".into(),
                "use the port the container listens on, e.g. 8080",
            );
        }
    }
    Ok(())
}

/// The Scheduler's largest flexible window.
const MAX_FLEXIBLE_WINDOW: u32 = 1440;

fn validate_lifecycle(file: &Path, c: &Config) -> Result<(), ConfigError> {
    let err = |key: &str, msg: String, hint: &str| {
        Err(ConfigError::new(file, Some(key), msg, Some(hint)))
    };
    let sc = &c.schedule;
    if let Err(m) = schedule::timezone(&sc.timezone) {
        return err(
            "schedule.timezone",
            m,
            "use an IANA name such as `Europe/Berlin` or `UTC`",
        );
    }
    // `days` on its own first, so that its errors name it (a full cron(...) time ignores it).
    if let Err(m) = schedule::schedule_expression("00:00", &sc.days) {
        return err(
            "schedule.days",
            m,
            "use MON-FRI, SAT-SUN, MON,WED,FRI or daily",
        );
    }
    for (key, at) in [("schedule.stop", &sc.stop), ("schedule.start", &sc.start)] {
        if let Err(m) = schedule::schedule_expression(at, &sc.days) {
            return err(key, m, "use HH:MM (24h) with `days`, or a full cron(...) such as `cron(0 20 ? * MON-FRI *)`");
        }
    }
    if sc.flexible_window_minutes > MAX_FLEXIBLE_WINDOW {
        return err(
            "schedule.flexible_window_minutes",
            format!(
                "{} is more than the Scheduler allows ({MAX_FLEXIBLE_WINDOW})",
                sc.flexible_window_minutes
            ),
            "use 0 (exact) to 1440 minutes",
        );
    }
    if let Err(m) = schedule::parse_duration_spec(&c.expiry.ttl) {
        return err(
            "expiry.ttl",
            m,
            "use a duration such as `7d`, `72h`, or `never`",
        );
    }
    validate_janitor(file, &c.janitor)?;
    validate_hooks(file, c)?;
    validate_database(file, c)?;
    validate_codebuild(file, &c.build)
}

/// CodeBuild accepts build timeouts from 5 minutes to 36 hours.
const BUILD_TIMEOUT_MINUTES: std::ops::RangeInclusive<u32> = 5..=2160;

fn validate_codebuild(file: &Path, b: &CodeBuildConfig) -> Result<(), ConfigError> {
    let err = |key: &str, msg: String, hint: &str| {
        Err(ConfigError::new(file, Some(key), msg, Some(hint)))
    };
    if !b.compute_type.starts_with("BUILD_") {
        return err(
            "build.compute_type",
            format!("`{}` is not a CodeBuild compute type", b.compute_type),
            "e.g. `BUILD_GENERAL1_MEDIUM` or `BUILD_GENERAL1_LARGE`",
        );
    }
    if b.image.trim().is_empty() {
        return err(
            "build.image",
            "is empty".into(),
            "e.g. `aws/codebuild/standard:7.0`",
        );
    }
    if !BUILD_TIMEOUT_MINUTES.contains(&b.timeout_minutes) {
        return err(
            "build.timeout_minutes",
            format!("{} is outside what CodeBuild allows", b.timeout_minutes),
            "use 5 to 2160 minutes",
        );
    }
    if b.buildspec.as_os_str().is_empty() {
        return err(
            "build.buildspec",
            "is empty".into(),
            "use a template path relative to the config file, e.g. templates/buildspec.yml.j2",
        );
    }
    Ok(())
}

/// `[services.<name>.build]`. Everything here ends up in the buildspec's shell commands, so
/// control characters (which would break its YAML) are rejected.
fn validate_build(file: &Path, name: &str, b: &BuildConfig) -> Result<(), ConfigError> {
    let err = |field: &str, msg: String, hint: &str| {
        Err(ConfigError::new(
            file,
            Some(&format!("services.{name}.build.{field}")),
            msg,
            Some(hint),
        ))
    };
    let has_control = |s: &str| s.chars().any(char::is_control);
    for (field, path, hint) in [
        (
            "context",
            &b.context,
            "use a directory relative to the config file, e.g. `.` or `services/api`",
        ),
        (
            "dockerfile",
            &b.dockerfile,
            "use a path relative to `context`, e.g. `Dockerfile`",
        ),
    ] {
        let text = path.to_string_lossy();
        if text.trim().is_empty() || has_control(&text) {
            return err(field, format!("{text:?} is not a usable path"), hint);
        }
        if path.is_absolute() {
            return err(field, format!("`{text}` is absolute"), hint);
        }
    }
    if b.dockerfile
        .components()
        .any(|c| c == std::path::Component::ParentDir)
    {
        return err(
            "dockerfile",
            format!("`{}` leaves the build context", b.dockerfile.display()),
            "put the Dockerfile inside `context`, or widen `context`",
        );
    }
    for (arg, value) in &b.args {
        let name_ok = arg
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && arg.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !name_ok {
            return err(
                "args",
                format!("`{arg}` is not a build argument name"),
                "use letters, digits and '_' (the name of an ARG in the Dockerfile)",
            );
        }
        if has_control(value) {
            return err(
                "args",
                format!("the value of `{arg}` contains a control character"),
                "build arguments must be single-line",
            );
        }
    }
    if b.preset == Some(BuildPreset::Custom) && b.cache_paths.is_empty() {
        return err(
            "cache_paths",
            "is empty, but preset = \"custom\" caches only these paths".into(),
            "list the dependency directories, e.g. cache_paths = [\"/root/.ivy2/**/*\"], or use a \
             preset (gradle, maven, npm, cargo, python)",
        );
    }
    for p in &b.cache_paths {
        if p.trim().is_empty() || has_control(p) {
            return err(
                "cache_paths",
                format!("{p:?} is not a usable path"),
                "use a path pattern such as `/root/.ivy2/**/*`",
            );
        }
    }
    match (b.source, b.repository_url.as_deref().map(str::trim)) {
        (BuildSource::Git, None | Some("")) => err(
            "repository_url",
            "is required with source = \"git\"".into(),
            "set the HTTPS URL CodeBuild clones (https://github.com/OWNER/REPO or \
             https://git-codecommit.REGION.amazonaws.com/v1/repos/REPO), or source = \"local\"",
        ),
        (_, Some(url)) if !url.is_empty() => match crate::ops::janitor::parse_source(url) {
            Ok(_) => Ok(()),
            Err(m) => err(
                "repository_url",
                m,
                "use https://github.com/OWNER/REPO or \
                 https://git-codecommit.REGION.amazonaws.com/v1/repos/REPO",
            ),
        },
        _ => Ok(()),
    }
}

/// Shape checks only; `janitor install` also requires `source`.
fn validate_janitor(file: &Path, j: &JanitorConfig) -> Result<(), ConfigError> {
    let err = |key: &str, msg: String, hint: &str| {
        Err(ConfigError::new(file, Some(key), msg, Some(hint)))
    };
    let s = j.schedule.trim();
    if !((s.starts_with("rate(") || s.starts_with("cron(")) && s.ends_with(')')) {
        return err(
            "janitor.schedule",
            format!("`{}` is not an EventBridge schedule expression", j.schedule),
            "use `rate(1 hour)`, `rate(30 minutes)` or `cron(0 * * * ? *)`",
        );
    }
    for (key, value, hint) in [
        (
            "janitor.branch",
            &j.branch,
            "the branch the build checks out, e.g. `main`",
        ),
        (
            "janitor.image",
            &j.image(),
            "e.g. `aws/codebuild/amazonlinux-aarch64-standard:3.0`, or remove the key",
        ),
        (
            "janitor.compute_type",
            &j.compute_type,
            "e.g. `BUILD_GENERAL1_SMALL`",
        ),
    ] {
        if value.trim().is_empty() {
            return err(key, "is empty".into(), hint);
        }
    }
    // Both go into the buildspec's shell commands.
    if let Some(v) = j
        .envctl_version
        .as_deref()
        .filter(|v| !crate::dist::is_version(v))
    {
        return err(
            "janitor.envctl_version",
            format!("`{v}` is not a release version"),
            &format!(
                "e.g. `{}`, or remove the key to use this envctl's version",
                crate::dist::VERSION
            ),
        );
    }
    if let Some(d) = j
        .envctl_sha256
        .as_deref()
        .filter(|d| !crate::dist::is_sha256(d))
    {
        return err(
            "janitor.envctl_sha256",
            format!("`{d}` is not a SHA-256 digest (64 hex digits)"),
            "copy the archive's digest from the release's SHA256SUMS, or remove the key",
        );
    }
    // It goes into the buildspec's shell commands unquoted.
    if let Some(c) = j
        .branch
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-_./".contains(*c)))
    {
        return err(
            "janitor.branch",
            format!("`{}` contains {c:?}", j.branch),
            "use a branch name of letters, digits, '-', '_', '.' and '/'",
        );
    }
    Ok(())
}

fn validate_database(file: &Path, c: &Config) -> Result<(), ConfigError> {
    let Some(d) = &c.database else {
        return Ok(());
    };
    let err = |key: &str, msg: String, hint: &str| {
        Err(ConfigError::new(file, Some(key), msg, Some(hint)))
    };
    if d.engine != "postgres" {
        return err(
            "database.engine",
            format!("`{}` is not supported", d.engine),
            "use engine = \"postgres\" (the only engine envctl creates databases on)",
        );
    }
    let p = &d.admin_url_param;
    if !p.starts_with('/') || p.len() < 2 || p.ends_with('/') || p.contains(char::is_whitespace) {
        return err(
            "database.admin_url_param",
            format!("`{p}` is not an SSM parameter name"),
            "give the full name of a SecureString, e.g. \"/envctl/shop/shared/DB_ADMIN_URL\"",
        );
    }
    if let Some(t) = &d.template {
        if t.is_empty() || t.len() > crate::naming::PG_IDENTIFIER_MAX {
            return err(
                "database.template",
                format!("`{t}` is not a database name"),
                "name an existing database on the server (at most 63 bytes), or remove the key",
            );
        }
    }
    for k in d.services.iter().flatten() {
        if !c.services.contains_key(k) {
            return err(
                "database.services",
                format!("names service `{k}`, which is not defined"),
                &format!(
                    "use some of: {}",
                    c.services.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            );
        }
    }
    if d.client_image.trim().is_empty() {
        return err(
            "database.client_image",
            "is empty".into(),
            "remove the key to use the pinned official postgres image",
        );
    }
    match crate::schedule::parse_duration_spec(&d.timeout) {
        Ok(Some(t)) if t.as_secs() > 0 => Ok(()),
        _ => err(
            "database.timeout",
            format!("`{}` is not a duration", d.timeout),
            "e.g. `15m` or `1h`",
        ),
    }
}

fn validate_hooks(file: &Path, c: &Config) -> Result<(), ConfigError> {
    let kinds = [
        (HookKind::BeforeDeploy, &c.hooks.before_deploy),
        (HookKind::AfterCreate, &c.hooks.after_create),
        (HookKind::BeforeDestroy, &c.hooks.before_destroy),
    ];
    for (kind, hooks) in kinds {
        for (i, h) in hooks.iter().enumerate() {
            let key = |field: &str| format!("hooks.{kind}[{i}].{field}");
            let err = |field: &str, msg: String, hint: String| {
                Err(ConfigError::new(file, Some(&key(field)), msg, Some(&hint)))
            };
            if !c.services.contains_key(&h.service) {
                return err(
                    "service",
                    format!("names service `{}`, which is not defined", h.service),
                    format!("use one of: {}", c.service_keys()),
                );
            }
            if h.command.is_empty() || h.command.iter().all(|a| a.trim().is_empty()) {
                return err(
                    "command",
                    "is empty".into(),
                    "give the container command as a list, e.g. command = [\"bin/rails\", \"db:migrate\"]".into(),
                );
            }
            if let Some(container) = &h.container {
                if container.trim().is_empty() {
                    return err(
                        "container",
                        "is empty".into(),
                        "name a container of the service's task definition, or remove the key"
                            .into(),
                    );
                }
            }
            match crate::schedule::parse_duration_spec(&h.timeout) {
                Ok(Some(d)) if d.as_secs() > 0 => {}
                _ => {
                    return err(
                        "timeout",
                        format!("`{}` is not a duration", h.timeout),
                        "e.g. `15m` or `1h`".into(),
                    )
                }
            }
        }
    }
    Ok(())
}

fn validate_preview(file: &Path, c: &Config) -> Result<(), ConfigError> {
    let err = |key: &str, msg: String, hint: &str| {
        Err(ConfigError::new(file, Some(key), msg, Some(hint)))
    };
    let p = &c.preview;
    let public: Vec<&String> = c
        .services
        .iter()
        .filter(|(_, s)| s.public)
        .map(|(k, _)| k)
        .collect();
    if !p.enabled {
        if let Some(k) = public.first() {
            return err(
                &format!("services.{k}.public"),
                "is set, but [preview] is not enabled".into(),
                "set preview.enabled = true and preview.domain, or remove `public`",
            );
        }
        return Ok(());
    }
    let domain_ok = !p.domain.is_empty()
        && p.domain.len() <= 200
        && p.domain.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
        });
    if !domain_ok {
        return err(
            "preview.domain",
            format!("`{}` is not a lowercase DNS name", p.domain),
            "e.g. preview.example.com (point *.preview.example.com at the ALB)",
        );
    }
    let listener_ok = p.listener_arn.is_empty()
        || (p.listener_arn.starts_with("arn:") && p.listener_arn.contains(":listener/"));
    if !listener_ok {
        return err(
            "preview.listener_arn",
            format!("`{}` is not a listener ARN", p.listener_arn),
            "copy it from `aws elbv2 describe-listeners`, or leave it empty for bootstrap's ALB",
        );
    }
    if p.scheme != "http" && p.scheme != "https" {
        return err(
            "preview.scheme",
            format!("`{}` is neither http nor https", p.scheme),
            "use https when the listener has a certificate",
        );
    }
    for (k, s) in &c.services {
        if s.public && s.port.is_none() {
            return err(
                &format!("services.{k}.port"),
                "a public service needs the port its container listens on".into(),
                "e.g. port = 8080",
            );
        }
        if s.public && !s.health_check_path.starts_with('/') {
            return err(
                &format!("services.{k}.health_check_path"),
                format!("`{}` must start with /", s.health_check_path),
                "e.g. /healthz",
            );
        }
    }
    Ok(())
}

/// Fargate only runs these cpu/memory pairs (memory in MiB).
pub fn fargate_size_error(cpu: u32, memory: u32) -> Option<String> {
    let gb = |g: u32| g * 1024;
    let ok = match cpu {
        256 => [512, 1024, 2048].contains(&memory),
        512 => (1..=4).map(gb).any(|m| m == memory),
        1024 => (2..=8).map(gb).any(|m| m == memory),
        2048 => (4..=16).map(gb).any(|m| m == memory),
        4096 => (8..=30).map(gb).any(|m| m == memory),
        8192 => (16..=60).step_by(4).map(gb).any(|m| m == memory),
        16384 => (32..=120).step_by(8).map(gb).any(|m| m == memory),
        _ => {
            return Some(format!(
                "cpu = {cpu} is not a Fargate size (256, 512, 1024, 2048, 4096, 8192, 16384)"
            ))
        }
    };
    (!ok).then(|| format!("memory = {memory} does not fit cpu = {cpu} on Fargate"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../config/envctl.example.toml");
    const MINIMAL: &str = "app = \"shop\"\n\n[services.web]\nimage = \"nginx:1.27\"\n";

    fn file() -> &'static Path {
        Path::new("envctl.toml")
    }

    fn parse_text(text: &str) -> Result<Config, ConfigError> {
        parse(file(), text, &[])
    }

    fn parse_with(text: &str, sets: &[&str]) -> Result<Config, ConfigError> {
        let overrides: Vec<Override> = sets
            .iter()
            .map(|s| s.parse().expect("test override parses"))
            .collect();
        parse(file(), text, &overrides)
    }

    /// Runs `parse`, expecting a validation error, and returns it.
    fn error(text: &str) -> ConfigError {
        match parse_text(text) {
            Ok(c) => panic!("expected an error, got {c:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn example_config_parses_with_its_documented_values() {
        let c = parse_text(EXAMPLE).expect("config/envctl.example.toml is valid");
        assert_eq!(c.app, "shop");
        assert_eq!(c.logs.retention_days, 7);
        assert_eq!(c.ecr.max_images, 10);
        assert!(c.network.assign_public_ip);
        assert_eq!(
            c.vars.get("log_level"),
            Some(&toml::Value::String("info".into()))
        );
        let web = &c.services["web"];
        assert_eq!(web.image, "public.ecr.aws/nginx/nginx:1.27-alpine");
        assert_eq!((web.cpu, web.memory, web.count), (256, 512, 1));
        assert_eq!(web.port, Some(80));
        assert!(web.spot);
        assert_eq!(c.services.len(), 1);
    }

    #[test]
    fn minimal_config_gets_defaults() {
        let c = parse_text(MINIMAL).expect("minimal config is valid");
        let web = &c.services["web"];
        assert_eq!((web.cpu, web.memory, web.count), (256, 512, 1));
        assert!(web.spot);
        assert_eq!(web.on_demand_base, 0);
        assert_eq!(c.logs.retention_days, 7);
        assert_eq!(c.templates, TemplatesConfig::default());
    }

    #[test]
    fn malformed_toml_reports_the_line() {
        let text = "app = \"shop\"\n\n[services.web]\nimage = = \"nginx\"\n";
        let e = error(text);
        assert_eq!(e.file, "envctl.toml");
        assert!(
            e.message.contains("line 4"),
            "message should point at line 4: {}",
            e.message
        );
        assert!(e.hint.is_some());
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let text = "app = \"shop\"\n[services.web]\nimage = \"nginx\"\nimgae = \"nginx\"\n";
        let e = error(text);
        assert!(e.message.contains("imgae"), "{}", e.message);
        assert!(e.message.contains("line 4"), "{}", e.message);
    }

    #[test]
    fn bad_app_name_is_rejected() {
        for app in [
            "Shop",
            "shop_1",
            "1shop",
            "",
            "shop-",
            "a-very-long-app-name",
        ] {
            let e = error(&MINIMAL.replace("\"shop\"", &format!("{app:?}")));
            assert_eq!(e.key.as_deref(), Some("app"), "app = {app:?}: {e}");
        }
    }

    #[test]
    fn no_services_is_rejected() {
        let e = error("app = \"shop\"\n[services]\n");
        assert_eq!(e.key.as_deref(), Some("services"));
        assert!(e.message.contains("no services"), "{e}");
        // Leaving the table out entirely is a parse error that names it.
        let e = error("app = \"shop\"\n");
        assert!(e.message.contains("services"), "{e}");
    }

    #[test]
    fn bad_fargate_size_names_the_memory_key() {
        let e = error(&format!("{MINIMAL}cpu = 256\nmemory = 4096\n"));
        assert_eq!(e.key.as_deref(), Some("services.web.memory"));
        assert!(e.message.contains("4096"), "{e}");
        // The same memory fits a bigger cpu.
        parse_text(&format!("{MINIMAL}cpu = 1024\nmemory = 4096\n")).expect("valid pair");
    }

    #[test]
    fn fargate_size_table_edges() {
        assert_eq!(fargate_size_error(256, 512), None);
        assert_eq!(fargate_size_error(256, 2048), None);
        assert!(fargate_size_error(256, 3072).is_some());
        assert_eq!(fargate_size_error(512, 4096), None);
        assert_eq!(fargate_size_error(4096, 30 * 1024), None);
        // 8 vCPU: 16 to 60 GB in 4 GB steps.
        assert_eq!(fargate_size_error(8192, 20 * 1024), None);
        assert!(fargate_size_error(8192, 18 * 1024).is_some());
        assert!(fargate_size_error(8192, 64 * 1024).is_some());
        assert!(fargate_size_error(300, 512).is_some_and(|m| m.contains("cpu = 300")));
    }

    #[test]
    fn bad_retention_is_rejected() {
        let e = error(&format!("{MINIMAL}\n[logs]\nretention_days = 8\n"));
        assert_eq!(e.key.as_deref(), Some("logs.retention_days"));
        assert!(e.message.contains('8'), "{e}");
        parse_text(&format!("{MINIMAL}\n[logs]\nretention_days = 14\n")).expect("14 is valid");
    }

    #[test]
    fn set_overrides_a_service_key() {
        let c = parse_with(EXAMPLE, &["services.web.count=3"]).expect("override applies");
        assert_eq!(c.services["web"].count, 3);
        // Everything else is left as the file says.
        let base = parse_text(EXAMPLE).expect("example parses");
        assert_eq!(base.services["web"].count, 1);
        assert_eq!(c.services["web"].memory, base.services["web"].memory);
        assert_eq!(c.app, base.app);
    }

    #[test]
    fn set_with_unknown_key_fails_naming_it() {
        let e = parse_with(EXAMPLE, &["services.web.cnt=3"]).expect_err("cnt is not a key");
        assert!(e.message.contains("cnt"), "{e}");
        assert!(e.message.contains("services.web.cnt=3"), "{e}");
    }

    #[test]
    fn set_is_validated_like_the_file() {
        let e = parse_with(EXAMPLE, &["services.web.memory=4096"]).expect_err("bad size");
        assert_eq!(e.key.as_deref(), Some("services.web.memory"));
        let e = parse_with(EXAMPLE, &["services.web.count=true"]).expect_err("wrong type");
        assert!(e.message.contains("services.web.count=true"), "{e}");
    }

    #[test]
    fn set_through_a_scalar_fails_naming_the_key() {
        let e = parse_with(EXAMPLE, &["app.name=x"]).expect_err("app is a string");
        assert_eq!(e.key.as_deref(), Some("app.name"));
        assert!(e.message.contains("`app` is not a table"), "{e}");
    }

    #[test]
    fn on_demand_base_above_count_is_rejected() {
        let e = error(&format!("{MINIMAL}count = 2\non_demand_base = 3\n"));
        assert_eq!(e.key.as_deref(), Some("services.web.on_demand_base"));
        assert!(e.message.contains("count (2)"), "{e}");
        parse_text(&format!("{MINIMAL}count = 2\non_demand_base = 2\n")).expect("equal is fine");
        let e = error(&format!(
            "{MINIMAL}count = 2\nspot = false\non_demand_base = 1\n"
        ));
        assert_eq!(e.key.as_deref(), Some("services.web.on_demand_base"));
    }

    #[test]
    fn override_values_are_toml_or_else_strings() {
        let o: Override = "a.b=3".parse().expect("int");
        assert_eq!(o.path, ["a", "b"]);
        assert_eq!(o.value, toml::Value::Integer(3));
        assert_eq!(o.raw, "a.b=3");
        let o: Override = "a.b=true".parse().expect("bool");
        assert_eq!(o.value, toml::Value::Boolean(true));
        let o: Override = "a.b=hello".parse().expect("bare string");
        assert_eq!(o.value, toml::Value::String("hello".into()));
        let o: Override = "a.b=\"3\"".parse().expect("quoted string");
        assert_eq!(o.value, toml::Value::String("3".into()));
        let o: Override = "services.web.image=nginx:1.27=x"
            .parse()
            .expect("first = splits");
        assert_eq!(o.path, ["services", "web", "image"]);
        assert_eq!(o.value, toml::Value::String("nginx:1.27=x".into()));
    }

    #[test]
    fn override_without_value_or_with_empty_key_part_fails() {
        let e = "nokey".parse::<Override>().expect_err("no =");
        assert!(e.contains("nokey"), "{e}");
        let e = "a..b=1".parse::<Override>().expect_err("empty part");
        assert!(e.contains("a..b"), "{e}");
    }

    #[test]
    fn janitor_defaults_and_schedule_validation() {
        let c = parse_text(MINIMAL).expect("minimal config is valid");
        assert_eq!(c.janitor, JanitorConfig::default());
        assert_eq!(c.janitor.schedule, "rate(1 hour)");
        assert!(c.janitor.source.is_empty() && c.janitor.install_command.is_empty());
        assert!(!c.janitor.live_branches);
        let c = parse_with(MINIMAL, &["janitor.schedule=cron(0 * * * ? *)"]).expect("cron");
        assert_eq!(c.janitor.schedule, "cron(0 * * * ? *)");
        let e = parse_with(MINIMAL, &["janitor.schedule=hourly"]).expect_err("not an expression");
        assert_eq!(e.key.as_deref(), Some("janitor.schedule"));
        let e = error(&format!("{MINIMAL}\n[janitor]\nbranch = \"\"\n"));
        assert_eq!(e.key.as_deref(), Some("janitor.branch"));
        let e = error(&format!(
            "{MINIMAL}\n[janitor]\nbranch = \"main; rm -rf /\"\n"
        ));
        assert_eq!(e.key.as_deref(), Some("janitor.branch"));
        let e = error(&format!("{MINIMAL}\n[janitor]\nsoruce = \"x\"\n"));
        assert!(e.message.contains("soruce"), "{e}");
    }

    const BUILT: &str = "app = \"shop\"\n\n[services.api.build]\nrepository_url = \"https://github.com/acme/shop\"\n";

    /// The key of the validation error `extra` (appended to [services.api.build]) causes.
    fn build_error_key(extra: &str) -> Option<String> {
        let e = error(&format!("{BUILT}{extra}"));
        assert!(e.hint.is_some(), "{e}");
        e.key
    }

    #[test]
    fn build_table_defaults() {
        let c = parse_text(BUILT).expect("a build table replaces image");
        let api = &c.services["api"];
        assert!(api.image.is_empty());
        let b = api.build.as_ref().expect("build table");
        assert_eq!(b.context, Path::new("."));
        assert_eq!(b.dockerfile, Path::new("Dockerfile"));
        assert_eq!((b.source, b.preset), (BuildSource::Git, None));
        assert!(b.args.is_empty() && b.cache_paths.is_empty());
        assert_eq!(c.build, CodeBuildConfig::default());
        assert_eq!(c.build.compute_type, "BUILD_GENERAL1_MEDIUM");
        assert_eq!(c.build.image, "aws/codebuild/standard:7.0");
        assert_eq!(c.build.timeout_minutes, 30);
        assert_eq!(c.build.buildspec, Path::new("templates/buildspec.yml.j2"));
        let c = parse_text(&format!(
            "{BUILT}preset = \"gradle\"\ncontext = \"api\"\nargs = {{ JDK = \"21\" }}\n"
        ))
        .expect("preset and args");
        let b = c.services["api"].build.clone().expect("build table");
        assert_eq!(b.preset, Some(BuildPreset::Gradle));
        assert_eq!(b.args["JDK"], "21");
    }

    #[test]
    fn image_or_build_exactly_one() {
        let e = error("app = \"shop\"\n[services.web]\ncount = 1\n");
        assert_eq!(e.key.as_deref(), Some("services.web.image"));
        assert!(
            e.hint.as_deref().is_some_and(|h| h.contains("build")),
            "{e:?}"
        );
        let both = BUILT.replace(
            "[services.api.build]",
            "[services.api]\nimage = \"nginx\"\n\n[services.api.build]",
        );
        let e = error(&both);
        assert_eq!(e.key.as_deref(), Some("services.api.image"), "{e}");
        assert!(e.message.contains("build"), "{e}");
    }

    #[test]
    fn build_repository_url_is_required_for_git_and_checked() {
        let text = "app = \"shop\"\n[services.api.build]\n";
        let e = error(text);
        assert_eq!(e.key.as_deref(), Some("services.api.build.repository_url"));
        assert!(e.message.contains("required"), "{e}");
        parse_text(&format!("{text}source = \"local\"\n")).expect("local needs no URL");
        let e = error(&format!(
            "{text}repository_url = \"git@github.com:acme/shop.git\"\n"
        ));
        assert_eq!(e.key.as_deref(), Some("services.api.build.repository_url"));
        parse_text(&format!(
            "{text}repository_url = \"https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/shop\"\n"
        ))
        .expect("CodeCommit URL");
        let e = error(&format!("{text}source = \"s3\"\n"));
        assert!(e.message.contains("s3"), "{e}");
    }

    #[test]
    fn build_fields_are_validated_by_name() {
        let key = |f: &str| Some(format!("services.api.build.{f}"));
        assert_eq!(build_error_key("preset = \"custom\"\n"), key("cache_paths"));
        parse_text(&format!(
            "{BUILT}preset = \"custom\"\ncache_paths = [\"/root/.ivy2/**/*\"]\n"
        ))
        .expect("custom with paths");
        assert_eq!(
            build_error_key("cache_paths = [\"\"]\n"),
            key("cache_paths")
        );
        assert_eq!(build_error_key("args = { \"1X\" = \"a\" }\n"), key("args"));
        assert_eq!(build_error_key("args = { X = \"a\\nb\" }\n"), key("args"));
        assert_eq!(
            build_error_key("dockerfile = \"../Dockerfile\"\n"),
            key("dockerfile")
        );
        assert_eq!(build_error_key("context = \"/abs\"\n"), key("context"));
        assert_eq!(build_error_key("context = \"\"\n"), key("context"));
        let e = error(&format!("{BUILT}preset = \"ant\"\n"));
        assert!(e.message.contains("ant"), "{e}");
    }

    #[test]
    fn app_build_table_is_validated() {
        let e = error(&format!("{BUILT}\n[build]\ntimeout_minutes = 2\n"));
        assert_eq!(e.key.as_deref(), Some("build.timeout_minutes"));
        let e = error(&format!("{BUILT}\n[build]\ncompute_type = \"large\"\n"));
        assert_eq!(e.key.as_deref(), Some("build.compute_type"));
        let c = parse_with(BUILT, &["build.compute_type=BUILD_GENERAL1_LARGE"]).expect("--set");
        assert_eq!(c.build.compute_type, "BUILD_GENERAL1_LARGE");
    }

    #[test]
    fn error_display_names_file_and_key() {
        let e = error(&format!("{MINIMAL}\n[logs]\nretention_days = 8\n"));
        assert!(
            e.to_string()
                .starts_with("envctl.toml: `logs.retention_days`: "),
            "{e}"
        );
    }

    #[test]
    fn exec_is_on_by_default_and_only_takes_a_boolean() {
        assert!(parse_text(MINIMAL).expect("minimal").exec.enabled);
        let off = parse_with(MINIMAL, &["exec.enabled=false"]).expect("--set exec.enabled");
        assert!(!off.exec.enabled);
        let e = error(&format!("{MINIMAL}\n[exec]\nenabled = \"yes\"\n"));
        assert!(e.message.contains("enabled"), "{e}");
        let e = error(&format!("{MINIMAL}\n[exec]\nshell = \"/bin/bash\"\n"));
        assert!(e.message.contains("shell"), "{e}");
        assert!(parse_text(EXAMPLE).expect("example").exec.enabled);
    }
}
