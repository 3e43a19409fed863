//! envctl's error type and the one place that maps errors to exit codes and hints.

use crate::aws::error::AwsErrorKind;
use crate::aws::AwsError;
use crate::config::ConfigError;
use crate::naming::NameError;
use crate::plan::Conflict;
use crate::render::RenderError;

/// Exit codes (documented in docs/exit-codes.md).
pub mod exit {
    pub const OK: i32 = 0;
    /// An AWS call or another runtime step failed.
    pub const FAILURE: i32 = 1;
    /// `plan --detailed-exitcode`: the plan has changes.
    pub const CHANGES: i32 = 2;
    /// Bad input (config, template, env name, flag values): nothing was changed.
    pub const INVALID_INPUT: i32 = 3;
    /// A resource envctl needs is owned by someone else, or a precondition is missing.
    pub const CONFLICT: i32 = 4;
    /// Services did not become stable in time, or their deployment failed.
    pub const NOT_STABLE: i32 = 5;
    /// `down` needs confirmation (`--yes`) and could not ask.
    pub const NOT_CONFIRMED: i32 = 6;
    /// The command line itself is wrong (unknown flag, missing argument).
    pub const USAGE: i32 = 64;
    /// Ctrl-C: envctl stopped what it had started (a one-off task) and gave up.
    pub const INTERRUPTED: i32 = 130;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Name(#[from] NameError),
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("{message}")]
    Invalid {
        message: String,
        hint: Option<String>,
    },
    #[error("refusing to touch resources envctl does not own:\n{}", .0.iter().map(|c| format!("  - {c}")).collect::<Vec<_>>().join("\n"))]
    Conflicts(Vec<Conflict>),
    #[error("{message}")]
    Precondition { message: String, hint: String },
    #[error("{message}")]
    NotStable { message: String },
    /// A CodeBuild build failed: nothing was deployed.
    #[error("{message}")]
    BuildFailed {
        message: String,
        link: Option<String>,
    },
    #[error("{message}")]
    NotConfirmed { message: String, hint: String },
    /// A one-off task (a hook) failed; the message ends with the tail of its log.
    #[error("{message}")]
    TaskFailed { message: String, hint: String },
    #[error("{message}")]
    Interrupted { message: String, hint: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn invalid(message: impl Into<String>, hint: impl Into<Option<String>>) -> Self {
        Error::Invalid {
            message: message.into(),
            hint: hint.into(),
        }
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_) | Error::Render(_) | Error::Name(_) | Error::Invalid { .. } => {
                exit::INVALID_INPUT
            }
            // A region or profile that cannot work is bad input, found before any call.
            Error::Aws(e) if matches!(e.kind, AwsErrorKind::Region | AwsErrorKind::Profile) => {
                exit::INVALID_INPUT
            }
            Error::Conflicts(_) | Error::Precondition { .. } => exit::CONFLICT,
            // A create lost a race to a resource envctl does not own: a conflict like any other.
            Error::Aws(e) if e.kind == AwsErrorKind::Taken => exit::CONFLICT,
            Error::NotStable { .. } => exit::NOT_STABLE,
            Error::NotConfirmed { .. } => exit::NOT_CONFIRMED,
            Error::Aws(_)
            | Error::Io { .. }
            | Error::BuildFailed { .. }
            | Error::TaskFailed { .. } => exit::FAILURE,
            Error::Interrupted { .. } => exit::INTERRUPTED,
        }
    }

    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Config(e) => e.hint.clone(),
            Error::Render(e) => e.hint.clone(),
            Error::Name(_) => Some("pass a branch name such as `feature/login` or an env name such as `feature-x`".into()),
            Error::Invalid { hint, .. } => hint.clone(),
            Error::Conflicts(_) => Some(
                "rename the service in envctl.toml or choose another env name; envctl never changes resources without its envctl:managed-by tag".into(),
            ),
            Error::Precondition { hint, .. }
            | Error::NotConfirmed { hint, .. }
            | Error::TaskFailed { hint, .. }
            | Error::Interrupted { hint, .. } => Some(hint.clone()),
            Error::NotStable { .. } => Some("see `envctl status ENV` for events and stopped-task reasons; raise --wait-timeout or use --no-wait".into()),
            Error::Aws(e) => aws_hint(e),
            Error::Io { .. } => None,
            Error::BuildFailed { link, .. } => Some(match link {
                Some(l) => format!("nothing was deployed; the whole build log: {l}"),
                None => "nothing was deployed; see the build in the CodeBuild console".into(),
            }),
        }
    }
}

fn aws_hint(e: &AwsError) -> Option<String> {
    if let Some(hint) = e.hint() {
        return Some(hint.to_string());
    }
    Some(match e.kind {
        AwsErrorKind::Credentials => "no AWS credentials found: pass --profile NAME, run `aws sso login --profile NAME`, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".into(),
        AwsErrorKind::Profile => "pass a profile from your AWS config with --profile or AWS_PROFILE".into(),
        AwsErrorKind::Region => "set a region with --region, AWS_REGION, `region` in envctl.toml or your AWS profile".into(),
        AwsErrorKind::AccessDenied => format!("the caller lacks `{}`; docs/iam.md lists every action envctl needs", e.action),
        AwsErrorKind::Throttled => "AWS throttled envctl even after retries; run again in a minute or raise --max-attempts".into(),
        AwsErrorKind::Connection => match (e.region(), e.endpoint()) {
            (Some(region), Some(_)) => format!("check the network, and that `{region}` is a region you use: the endpoint comes from it (--region, AWS_REGION, the profile or `region` in envctl.toml)"),
            (None, Some(endpoint)) => format!("check that {endpoint} is up and reachable, or change --endpoint-url / AWS_ENDPOINT_URL"),
            _ => "check the network, --endpoint-url / AWS_ENDPOINT_URL, and the region".into(),
        },
        AwsErrorKind::Taken => "envctl never changes resources without its envctl:managed-by tag: delete or rename the one that took the name, or choose another app name".into(),
        AwsErrorKind::Service => match e.endpoint() {
            Some(endpoint) => format!("{endpoint} did not answer like AWS; check --endpoint-url / AWS_ENDPOINT_URL"),
            None => return None,
        },
    })
}
