//! Typed AWS failures: which call on which resource failed, and what kind of failure it was, so
//! the binary can choose an exit code and a hint without reading message text. Messages are
//! built from error types and `Display` text, never from an SDK type's `Debug` output.

use std::error::Error as StdError;
use std::fmt;

use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::credentials::{chain, credentials_error, ProfileInfo};
use super::retry::{find, Outcome, TransportError};

pub type AwsResult<T> = Result<T, AwsError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsErrorKind {
    /// No usable credentials were found.
    Credentials,
    /// The named profile is not in the config files, or they cannot be read.
    Profile,
    /// No region configured, or one that is not a region name.
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

impl AwsErrorKind {
    /// Set-up failures found before any call: the message alone says it all.
    fn is_setup(self) -> bool {
        matches!(
            self,
            AwsErrorKind::Credentials | AwsErrorKind::Profile | AwsErrorKind::Region
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub struct AwsError {
    pub kind: AwsErrorKind,
    /// `ecs:CreateService`, the IAM action style users grant; empty for set-up failures.
    pub action: String,
    pub resource: String,
    pub code: Option<String>,
    pub message: String,
    /// Rarely set, so boxed: keeps `AwsResult` small.
    detail: Option<Box<Detail>>,
}

#[derive(Debug, Default)]
struct Detail {
    endpoint: Option<String>,
    region: Option<String>,
    hint: Option<String>,
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kind.is_setup() {
            return f.write_str(&self.message);
        }
        write!(f, "{} on {} failed", self.action, self.resource)?;
        if let Some(code) = &self.code {
            write!(f, " ({code})")?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

impl AwsError {
    /// A failure of the set-up before any call (region, profile, credentials).
    pub fn setup(kind: AwsErrorKind, message: impl Into<String>) -> Self {
        AwsError {
            kind,
            action: String::new(),
            resource: String::new(),
            code: None,
            message: message.into(),
            detail: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.detail.get_or_insert_default().hint = Some(hint.into());
        self
    }

    /// The fix, when the failure itself knows it better than its kind does.
    pub fn hint(&self) -> Option<&str> {
        self.detail.as_ref()?.hint.as_deref()
    }

    /// Where the call went, when it never got a reply in the service's protocol.
    pub fn endpoint(&self) -> Option<&str> {
        self.detail.as_ref()?.endpoint.as_deref()
    }

    /// The region `endpoint` was derived from (not set when an endpoint URL was given).
    pub fn region(&self) -> Option<&str> {
        self.detail.as_ref()?.region.as_deref()
    }

    pub fn no_region() -> Self {
        AwsError::setup(AwsErrorKind::Region, "no AWS region is configured")
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
            detail: None,
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
                "ResourceAlreadyExistsException" // logs, codebuild
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
        let mut out = AwsError::unexpected(action, resource, "");
        if let SdkError::ServiceError(_) = &err {
            out.code = err.code().map(str::to_string);
            out.kind = classify_code(out.code.as_deref());
            out.message = match err.message() {
                Some(m) => m.to_string(),
                None => match status(&err) {
                    Some(s) if out.code.is_none() => {
                        format!("HTTP {s} without an AWS error code or message")
                    }
                    _ => String::new(),
                },
            };
            return out;
        }
        if let Some(creds) = find::<CredentialsError>(&err) {
            let setup = credentials_error(creds, &ProfileInfo::default());
            return AwsError {
                action: out.action,
                resource: out.resource,
                ..setup
            };
        }
        if let Some(t) = find::<TransportError>(&err) {
            out.kind = match t.last() {
                Some(Outcome::Throttled) => AwsErrorKind::Throttled,
                Some(Outcome::Unreadable(_) | Outcome::ServerError(_) | Outcome::Other)
                    if !t.timed_out =>
                {
                    AwsErrorKind::Service
                }
                _ => AwsErrorKind::Connection,
            };
            out.message = t.to_string();
            out.detail = Some(Box::new(Detail {
                endpoint: Some(t.endpoint.clone()),
                region: t.region.clone(),
                hint: None,
            }));
            return out;
        }
        out.kind = match &err {
            SdkError::TimeoutError(_) => AwsErrorKind::Connection,
            SdkError::DispatchFailure(d) if d.is_timeout() || d.is_io() => AwsErrorKind::Connection,
            _ => AwsErrorKind::Service,
        };
        out.message = chain(&err);
        out
    }
}

/// The HTTP status of the reply an error came with, if any (works for any reply type the SDK
/// uses; the generated clients all use `HttpResponse`).
fn status<E, R: 'static>(err: &SdkError<E, R>) -> Option<u16> {
    let raw = err.raw_response()?;
    (raw as &dyn std::any::Any)
        .downcast_ref::<HttpResponse>()
        .map(|r| r.status().as_u16())
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
