//! Command-line definitions (clap). Parsing only: handlers live in `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::Override;
use crate::output::Format;

mod help;
pub use help::{command, EXAMPLES, SECTIONS};

/// The heading global flags are listed under, in every command's help.
pub const GLOBAL_HEADING: &str = "Global options";

/// `envctl 0.1.0 (commit abc123def456, built 2026-12-02)`: the commit and date come from the
/// crate's build script (build.rs), `unknown` outside a git checkout.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("ENVCTL_COMMIT"),
    ", built ",
    env!("ENVCTL_BUILD_DATE"),
    ")"
);

impl Cli {
    /// Parses the process's arguments with the sectioned help and examples.
    pub fn parse_args() -> Result<Cli, clap::Error> {
        use clap::FromArgMatches;
        let matches = command().try_get_matches()?;
        Cli::from_arg_matches(&matches)
    }
}

/// Short-lived per-branch Fargate Spot environments on AWS.
#[derive(Debug, Parser)]
#[command(name = "envctl", version = VERSION, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes; help lists them under their own heading, apart from the
/// command's own.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = GLOBAL_HEADING)]
pub struct GlobalArgs {
    /// Path to envctl.toml [default: the nearest envctl.toml in this directory or above]
    #[arg(long, global = true, env = "ENVCTL_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// AWS region (else AWS_REGION, the profile, or `region` in envctl.toml)
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// AWS shared-config profile
    #[arg(long, global = true, env = "AWS_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,
    /// Send every AWS call to this endpoint (e.g. a local emulator)
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Output format for data on stdout
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    pub output: Format,
    /// More detail on stderr (plain progress lines, debug logs)
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    pub verbose: bool,
    /// Only errors on stderr
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Print AWS API calls per service/operation and the wall time on stderr at the end
    #[arg(long, global = true)]
    pub stats: bool,
    /// Attempts per AWS call, first one included [default: 12]
    #[arg(long, global = true, env = "ENVCTL_MAX_ATTEMPTS", value_name = "N", value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_attempts: Option<u32>,
    /// Give up on one AWS call after this long, retries included, e.g. 90s [default: 40s]
    #[arg(long, global = true, env = "ENVCTL_OPERATION_TIMEOUT", value_name = "DURATION", value_parser = parse_operation_timeout)]
    pub operation_timeout: Option<std::time::Duration>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write envctl.toml and templates/ for a new app (or from a live ECS service)
    Init(InitArgs),
    /// Create the app's shared cluster and task execution role, once per app and region
    Bootstrap(BootstrapArgs),
    /// Manage the SSM parameters that become an env's container environment and secrets
    #[command(subcommand)]
    Params(ParamsCommand),
    /// Print the rendered task and service definitions of an env (no AWS writes)
    Render(EnvArgs),
    /// Check config, templates and the rendered model offline: no credentials, no AWS calls
    Validate(EnvArgs),
    /// Show what `up` would change
    Plan(PlanArgs),
    /// Create or update an env (building images that changed first), then wait until stable
    Up(UpArgs),
    /// Build the env's images with CodeBuild (skipped when ECR has the image already)
    Build(BuildArgs),
    /// Run a one-off task of a service (migrations, scripts): streams its logs, exits with its code
    Run(RunArgs),
    /// Show an env's container logs, all services interleaved (`-f` to follow)
    Logs(LogsArgs),
    /// Open a shell (or run a command) in a running container of a service (ECS Exec)
    Exec(ExecArgs),
    /// Redeploy the previous task definition revision of each service (or the ones given)
    Rollback(RollbackArgs),
    /// Delete everything an env owns
    Down(DownArgs),
    /// List the app's envs, as many columns as fit the terminal (`--wide` for all)
    Ls(LsArgs),
    /// Estimate what an env (or, without ENV, every env) costs per day and month
    Cost(CostArgs),
    /// Show an env's services, deployments, events and stopped tasks
    Status(StatusWatchArgs),
    /// Open the env's preview URL in a browser (`--print` only prints it)
    Open(OpenArgs),
    /// Scale an env's services to 0, remembering their counts
    Stop(StatusArgs),
    /// Restore the counts `stop` remembered (or the configured ones)
    Start(StatusArgs),
    /// Push an env's expiry out, e.g. `envctl extend feature-x 48h`
    Extend(ExtendArgs),
    /// Find envs past their TTL or whose branch is gone; delete them with --yes
    Gc(GcArgs),
    /// Check credentials, region, bootstrap, ALB quotas, the exec plugin and `up`'s permissions
    Doctor,
    /// Print the least-privilege IAM policy a command's caller needs, for this app's config
    IamPolicy(IamPolicyArgs),
    /// Write CI configuration for per-PR envs
    #[command(subcommand)]
    Ci(CiCommand),
    /// Run `gc --yes` inside AWS on a schedule (an EventBridge rule starting CodeBuild)
    #[command(subcommand)]
    Janitor(JanitorCommand),
    /// Print a shell completion script: bash, zsh, fish or powershell
    Completions(CompletionsArgs),
    /// Print envctl's man page (roff), e.g. `envctl man > envctl.1`; `--dir` writes one per command
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Every column at full width, whatever the terminal's width
    #[arg(long)]
    pub wide: bool,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write envctl.1 and a page per command (envctl-up.1, envctl-params-set.1, …) into DIR
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Env or branch name
    pub env: String,
    /// The service whose task definition, network, secrets and environment the task gets
    pub service: String,
    /// The command, after `--`: envctl run feature-x api -- bin/rails db:seed
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<String>,
    /// Override a config value for this run (repeatable)
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<Override>,
    /// Use this image for a service (repeatable)
    #[arg(long = "image", value_name = "SERVICE=URI")]
    pub images: Vec<String>,
    /// The container to run the command in (default: the first essential one)
    #[arg(long)]
    pub container: Option<String>,
    /// Run on FARGATE_SPOT instead of on-demand FARGATE (cheaper; may be interrupted)
    #[arg(long)]
    pub spot: bool,
    /// Start the task, print its ARN and exit without waiting
    #[arg(long)]
    pub detach: bool,
    /// Stop the task if it runs longer than this, e.g. 30m, 2h
    #[arg(long, default_value = "1h", value_parser = parse_duration)]
    pub timeout: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Env or branch name (default: the current git branch)
    pub env: Option<String>,
    /// Only this service's lines (repeatable)
    #[arg(long = "service", short = 's', value_name = "SERVICE")]
    pub services: Vec<String>,
    /// Keep polling for new lines until Ctrl-C
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// Start this long ago (15m, 2h, 1d) or at this time (RFC 3339)
    #[arg(long, value_name = "DURATION|TIME", default_value = crate::ops::logs::DEFAULT_SINCE)]
    pub since: String,
    /// Only lines matching this CloudWatch Logs filter pattern, e.g. ERROR or "\"user 42\""
    #[arg(long, value_name = "PATTERN")]
    pub filter: Option<String>,
    /// Put each line's time (UTC) after the service column
    #[arg(long, short = 't')]
    pub timestamps: bool,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Env or branch name
    pub env: String,
    /// The service whose running task to enter
    pub service: String,
    /// The container (default: the one named after the service, or the task's only one)
    #[arg(long)]
    pub container: Option<String>,
    /// A running task's id or ARN (default: the newest running task)
    #[arg(long, value_name = "ID")]
    pub task: Option<String>,
    /// The command, after `--` [default: /bin/sh]
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// App name: short, lowercase (e.g. `shop`); with --from-service, defaults to the cluster name
    #[arg(long, required_unless_present = "from_service")]
    pub app: Option<String>,
    /// Import a live ECS service: its image, size, port, command, env vars, secrets (docs/import.md)
    #[arg(long, value_name = "CLUSTER/SERVICE")]
    pub from_service: Option<String>,
    /// Directory to write into
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// Overwrite existing files
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args, Clone)]
pub struct EnvArgs {
    /// Env or branch name (default: the current git branch)
    pub env: Option<String>,
    /// Override a config value for this run, e.g. services.web.count=3 (repeatable)
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<Override>,
    /// Use this image for a service, e.g. web=123.dkr.ecr.../web:abc (repeatable)
    #[arg(long = "image", value_name = "SERVICE=URI")]
    pub images: Vec<String>,
    /// Expire the env this long after this run (overrides expiry.ttl), e.g. 72h, 7d, never
    #[arg(long, value_name = "DURATION")]
    pub ttl: Option<String>,
    /// Protect the env from `gc` and from `down` without --force (sticky)
    #[arg(long)]
    pub protect: bool,
    /// Create no stop/start schedules for this env
    #[arg(long)]
    pub always_on: bool,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub env: EnvArgs,
    /// Exit 0 when there is nothing to do, 2 when there are changes, 1 on errors
    #[arg(long)]
    pub detailed_exitcode: bool,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub env: EnvArgs,
    /// Do not wait for services to become stable
    #[arg(long)]
    pub no_wait: bool,
    /// How long to wait for stable services, e.g. 90s, 10m
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    pub wait_timeout: std::time::Duration,
    #[command(flatten)]
    pub build: BuildFlags,
}

/// How images are built (`up` and `build`).
#[derive(Debug, Args, Clone, Default)]
pub struct BuildFlags {
    /// Build from the pushed commit (`git`) or the working tree zipped and uploaded (`local`)
    #[arg(long, value_name = "SOURCE", value_parser = ["git", "local"])]
    pub source: Option<String>,
    /// Build even when ECR already has the image for this commit
    #[arg(long)]
    pub force_build: bool,
    /// Deploy without building (give each built service an image with --image SERVICE=URI)
    #[arg(long, conflicts_with_all = ["source", "force_build"])]
    pub no_build: bool,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub env: EnvArgs,
    /// Only these services (repeatable)
    #[arg(long = "service", value_name = "SERVICE")]
    pub services: Vec<String>,
    #[command(flatten)]
    pub build: BuildFlags,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// Env or branch name (default: the current git branch)
    pub env: Option<String>,
    /// Revision to deploy: a number for every service (`12`) or SERVICE:REVISION (`web:41`);
    /// repeatable [default: each service's previous ACTIVE revision]
    #[arg(long, value_name = "REVISION")]
    pub to: Vec<String>,
    /// Do not wait for services to become stable
    #[arg(long)]
    pub no_wait: bool,
    /// How long to wait for stable services, e.g. 90s, 10m
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    pub wait_timeout: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct DownArgs {
    /// Env or branch name (default: the current git branch)
    pub env: Option<String>,
    /// Do not ask for confirmation (required when stdin is not a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Delete a protected env too
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ExtendArgs {
    /// Env or branch name
    pub env: String,
    /// How much longer, e.g. 48h, 7d
    pub duration: String,
}

#[derive(Debug, Args)]
pub struct GcArgs {
    /// Delete the envs found (otherwise only list them)
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Also collect envs whose branch is gone: `git` uses the local repository's remote branches
    #[arg(long, value_name = "SOURCE", value_parser = ["git"], conflicts_with = "live_branches")]
    pub live_branches_from: Option<String>,
    /// Also collect envs whose branch is not listed in FILE (one branch per line)
    #[arg(long, value_name = "FILE")]
    pub live_branches: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CostArgs {
    /// Env or branch name (default: every env of the app, plus the shared overhead)
    pub env: Option<String>,
    /// Price table to use instead of the embedded one (same TOML format; docs/cost.md)
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,
    /// Print the arithmetic: hours × vCPU × price, per service
    #[arg(long)]
    pub explain: bool,
    /// Real costs from Cost Explorer, grouped by the `envctl:env` cost-allocation tag
    #[arg(long, conflicts_with_all = ["prices", "explain"])]
    pub actual: bool,
    /// With --actual: how many days back, today excluded
    #[arg(long, default_value_t = 30, requires = "actual", value_name = "N")]
    pub days: u32,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Env or branch name (default: the current git branch)
    pub env: Option<String>,
}

#[derive(Debug, Args)]
pub struct StatusWatchArgs {
    #[command(flatten)]
    pub status: StatusArgs,
    /// Refresh until Ctrl-C: redraw every few seconds on a terminal; print each snapshot that
    /// differs from the last one on a pipe
    #[arg(long, short = 'w')]
    pub watch: bool,
    /// Seconds between refreshes with --watch
    #[arg(long, value_name = "SECONDS", default_value_t = 5, requires = "watch", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub interval: u64,
}

#[derive(Debug, Args)]
pub struct OpenArgs {
    /// Env or branch name (default: the current git branch)
    pub env: Option<String>,
    /// Only this service's URL (default: every public service's)
    #[arg(long, value_name = "SERVICE")]
    pub service: Option<String>,
    /// Print the URL and open nothing
    #[arg(long)]
    pub print: bool,
}

#[derive(Debug, Subcommand)]
pub enum ParamsCommand {
    /// Set a parameter: `params set ENV NAME=VALUE`, or `params set ENV NAME --secure` (value from stdin)
    Set(ParamsSetArgs),
    /// Print a parameter's value (SecureString values are never shown)
    Get(ParamsNameArgs),
    /// List an env's parameters (and the shared ones it inherits)
    Ls(ParamsLsArgs),
    /// Delete a parameter
    Rm(ParamsNameArgs),
    /// Set every KEY=VALUE of a .env file as parameters (the keys in --secure-keys as SecureStrings)
    Import(ParamsImportArgs),
}

#[derive(Debug, Args)]
pub struct ParamsImportArgs {
    /// Env or branch name (default: the current git branch); left out with --shared
    pub env: Option<String>,
    /// The dotenv file: KEY=VALUE lines, `#` comments, `export `, quotes, multi-line "..." values
    #[arg(long, value_name = "FILE")]
    pub file: PathBuf,
    /// Keys stored as SecureString, comma-separated; their values are never printed
    #[arg(long, value_delimiter = ',', value_name = "K1,K2")]
    pub secure_keys: Vec<String>,
    /// Set the app-wide shared parameters instead of an env's
    #[arg(long, conflicts_with = "env")]
    pub shared: bool,
}

#[derive(Debug, Args)]
pub struct ParamsSetArgs {
    /// ENV NAME=VALUE, or ENV NAME with --secure; with --shared, ENV is left out
    #[arg(required = true, num_args = 1..=2, value_name = "ARGS")]
    pub args: Vec<String>,
    /// Store a SecureString; the value is read from stdin (a pipe: all of it, multi-line, one
    /// trailing newline dropped; a terminal: typed without echo), never from the command line
    #[arg(long)]
    pub secure: bool,
    /// Set the app-wide shared parameter instead of an env's
    #[arg(long)]
    pub shared: bool,
}

#[derive(Debug, Args)]
pub struct ParamsNameArgs {
    /// ENV NAME; with --shared, only NAME
    #[arg(required = true, num_args = 1..=2, value_name = "ARGS")]
    pub args: Vec<String>,
    /// The app-wide shared parameter instead of an env's
    #[arg(long)]
    pub shared: bool,
}

#[derive(Debug, Args)]
pub struct ParamsLsArgs {
    /// Env or branch name (default: the current git branch); ignored with --shared
    pub env: Option<String>,
    /// Only the app-wide shared parameters
    #[arg(long)]
    pub shared: bool,
}

/// A duration of at least a second: each attempt of a call gets half of it to answer.
fn parse_operation_timeout(s: &str) -> Result<std::time::Duration, String> {
    let d = parse_duration(s)?;
    if d < std::time::Duration::from_secs(1) {
        return Err(format!("`{s}` is too short: at least 1s"));
    }
    Ok(d)
}

/// `90s`, `10m`, `1h`, `1h30m`, or plain seconds.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<u64>() {
        return Ok(std::time::Duration::from_secs(secs));
    }
    let span: jiff::Span = s
        .parse()
        .map_err(|e| format!("`{s}` is not a duration like 90s, 10m or 1h30m ({e})"))?;
    let signed = jiff::SignedDuration::try_from(span).map_err(|e| format!("`{s}`: {e}"))?;
    std::time::Duration::try_from(signed).map_err(|_| format!("`{s}` must be positive"))
}

#[derive(Debug, Args)]
pub struct IamPolicyArgs {
    /// Whose policy: the caller of `up`, `down` or `gc`, the CI workflow's role, or the janitor's
    #[arg(long = "for", value_enum, default_value_t = crate::janitor::policy::PolicyFor::Up)]
    pub command: crate::janitor::policy::PolicyFor,
    /// The 12-digit account id in the ARNs [default: the placeholder 123456789012]
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum CiCommand {
    /// Write .github/workflows/envctl.yml: up on PR open/push, down on close, scheduled gc
    Github(CiGithubArgs),
}

#[derive(Debug, Args)]
pub struct CiGithubArgs {
    /// IAM role the workflow assumes through GitHub's OIDC provider
    #[arg(long, value_name = "ARN")]
    pub role_arn: String,
    /// How each PR's env is named
    #[arg(long, value_enum, default_value_t = crate::ops::ci::EnvNaming::Pr)]
    pub env_name: crate::ops::ci::EnvNaming,
    /// How the jobs get envctl: the prebuilt release binary (pinned, checksum-verified), or
    /// `cargo install` from the git URL in the secret ENVCTL_GIT_URL, cached per version
    #[arg(long, value_enum, default_value_t = crate::ops::ci::InstallKind::Release)]
    pub install: crate::ops::ci::InstallKind,
    /// The envctl version the workflow installs [default: this envctl's version]
    #[arg(long, value_name = "X.Y.Z")]
    pub envctl_version: Option<String>,
    /// Pin the SHA-256 of the x86_64 Linux release archive (else it is checked against the
    /// release's SHA256SUMS)
    #[arg(long, value_name = "HEX")]
    pub sha256: Option<String>,
    /// Your own shell command that puts envctl on PATH (replaces --install)
    #[arg(long, value_name = "CMD")]
    pub install_command: Option<String>,
    /// Where to write the workflow, relative to the current directory
    #[arg(long, default_value = crate::ops::ci::DEFAULT_WORKFLOW_PATH)]
    pub path: PathBuf,
    /// Overwrite an existing workflow file
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum JanitorCommand {
    /// Create or update the janitor from `[janitor]` in envctl.toml (needs janitor.source)
    Install(JanitorArgs),
    /// Delete the janitor's rule, CodeBuild project and roles
    Uninstall(JanitorArgs),
}

#[derive(Debug, Args)]
pub struct BootstrapArgs {
    /// Print what would change and exit without writing anything
    #[arg(long)]
    pub plan: bool,
    /// With --plan: exit 0 when there is nothing to do, 2 when there are changes, 1 on errors
    #[arg(long, requires = "plan")]
    pub detailed_exitcode: bool,
}

#[derive(Debug, Args)]
pub struct JanitorArgs {
    /// Override a config value for this run, e.g. janitor.schedule="rate(30 minutes)" (repeatable)
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<Override>,
    /// Print what would change and exit without writing anything
    #[arg(long)]
    pub plan: bool,
    /// With --plan: exit 0 when there is nothing to do, 2 when there are changes, 1 on errors
    #[arg(long, requires = "plan")]
    pub detailed_exitcode: bool,
}
