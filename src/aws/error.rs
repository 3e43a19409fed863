//! Typed AWS failures: which call on which resource failed, and what kind of failure it was, so
//! the binary can choose an exit code and a hint without reading message text.

use std::error::Error as StdError;
use std::fmt;

use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

pub type AwsResult<T> = Result<T, AwsError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsErrorKind {
    /// No usable credentials were found.
    Credentials,
    /// No region configured.
    Region,
    /// The caller lacks an IAM permission.
    AccessDenied,
    /// Rate limited even after retries.
    Throttled,
    /// The endpoint could not be reached or did not answer in time.
    Connection,
    /// Anything else the service answered.
    Service,
    /// A create found its name taken, between envctl's read and its write, by a resource that
    /// envctl does not own for this app or env; nothing was written to it.
    Taken,
}

#[derive(Debug, thiserror::Error)]
pub struct AwsError {
    pub kind: AwsErrorKind,
    /// `ecs:CreateService`, the IAM action style users grant.
    pub action: String,
    pub resource: String,
    pub code: Option<String>,
    pub message: String,
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} on {} failed", self.action, self.resource)?;
        if let Some(code) = &self.code {
            write!(f, " ({code})")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl AwsError {
    pub fn no_region() -> Self {
        AwsError {
            kind: AwsErrorKind::Region,
            action: "resolve region".into(),
            resource: "configuration".into(),
            code: None,
            message: "no AWS region is configured".into(),
        }
    }

    /// A failure envctl detects itself (e.g. a reply missing a field it needs).
    pub fn unexpected(
        action: &str,
        resource: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        AwsError {
            kind: AwsErrorKind::Service,
            action: action.into(),
            resource: resource.into(),
            code: None,
            message: message.into(),
        }
    }

    /// A create that lost a race to a resource that is not ours (see `AwsErrorKind::Taken`).
    pub fn taken(action: &str, resource: impl Into<String>, message: impl Into<String>) -> Self {
        AwsError {
            kind: AwsErrorKind::Taken,
            ..AwsError::unexpected(action, resource, message)
        }
    }

    /// The service answered that the name is taken: someone created the resource between
    /// envctl's read and its create. Each service has its own code for it; ECS's CreateService
    /// has none (see `Aws::create_service`).
    pub fn is_already_exists(&self) -> bool {
        matches!(
            self.code.as_deref(),
            Some(
                "ResourceAlreadyExistsException" // logs
                    | "RepositoryAlreadyExistsException" // ecr
                    | "ConflictException" // scheduler
                    | "DuplicateTargetGroupName" // elasticloadbalancing
                    | "NamespaceAlreadyExists" // servicediscovery
                    | "ParameterAlreadyExists" // ssm
                    | "EntityAlreadyExists" // iam
            )
        )
    }

    /// Wraps an SDK error from `action` (e.g. `"ecs:CreateService"`) on `resource`.
    pub fn from_sdk<E, R>(action: &str, resource: impl Into<String>, err: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
        R: fmt::Debug + Send + Sync + 'static,
    {
        let code = err.code().map(str::to_string);
        let kind = match &err {
            SdkError::TimeoutError(_) => AwsErrorKind::Connection,
            SdkError::DispatchFailure(d) if d.is_timeout() || d.is_io() => AwsErrorKind::Connection,
            SdkError::ServiceError(_) => classify_code(code.as_deref()),
            _ if has_credentials_error(&err) => AwsErrorKind::Credentials,
            _ => AwsErrorKind::Service,
        };
        let message = match &err {
            SdkError::ServiceError(_) => err.message().unwrap_or("no message").to_string(),
            _ => DisplayErrorContext(&err).to_string(),
        };
        AwsError {
            kind,
            action: action.into(),
            resource: resource.into(),
            code,
            message,
        }
    }
}

/// Error codes are the services' stable identifiers for an error type (not message text).
fn classify_code(code: Option<&str>) -> AwsErrorKind {
    match code {
        Some(
            "AccessDenied"
            | "AccessDeniedException"
            | "UnauthorizedOperation"
            | "UnrecognizedClientException"
            | "InvalidClientTokenId"
            | "ExpiredToken"
            | "ExpiredTokenException",
        ) => AwsErrorKind::AccessDenied,
        Some(
            "ThrottlingException"
            | "Throttling"
            | "TooManyRequestsException"
            | "RequestLimitExceeded",
        ) => AwsErrorKind::Throttled,
        _ => AwsErrorKind::Service,
    }
}

fn has_credentials_error(err: &(dyn StdError + 'static)) -> bool {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if e.downcast_ref::<CredentialsError>().is_some() {
            return true;
        }
        cur = e.source();
    }
    false
}
