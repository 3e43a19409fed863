//! Reading AWS replies: a field envctl cannot do without is a typed error naming the call, the
//! resource and the field, never an empty string that travels on (a missing project ARN used as
//! a rule target, say).

use std::error::Error as StdError;
use std::fmt;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::{AwsError, AwsResult};

/// The string field, or an error: `codebuild:BatchGetProjects on x failed: reply has no project ARN`.
pub(crate) fn required(
    value: Option<&str>,
    action: &str,
    resource: &str,
    field: &str,
) -> AwsResult<String> {
    required_part(value, action, resource, field).map(str::to_string)
}

/// The same for any other part of a reply (a project's source or environment).
pub(crate) fn required_part<'a, T: ?Sized>(
    value: Option<&'a T>,
    action: &str,
    resource: &str,
    field: &str,
) -> AwsResult<&'a T> {
    value.ok_or_else(|| AwsError::unexpected(action, resource, format!("reply has no {field}")))
}

/// The reply, `None` when the service answered that the resource does not exist (`is_not_found`
/// matches the error by its type, never by its message), or the error naming the call and the
/// resource. Observe reads a half-created env through this.
pub(crate) fn not_found_as_none<T, E, R>(
    result: Result<T, SdkError<E, R>>,
    is_not_found: impl FnOnce(&E) -> bool,
    action: &str,
    resource: &str,
) -> AwsResult<Option<T>>
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    R: fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(out) => Ok(Some(out)),
        Err(e) if e.as_service_error().is_some_and(is_not_found) => Ok(None),
        Err(e) => Err(AwsError::from_sdk(action, resource, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_field_names_the_call_the_resource_and_the_field() {
        assert_eq!(
            required(Some("arn:x"), "codebuild:CreateProject", "p", "project ARN").unwrap(),
            "arn:x"
        );
        let e = required(None, "codebuild:CreateProject", "p", "project ARN").unwrap_err();
        assert_eq!(
            e.to_string(),
            "codebuild:CreateProject on p failed: reply has no project ARN"
        );
    }
}
