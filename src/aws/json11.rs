//! The awsJson1_1 protocol the hand-written Cloud Map and Cost Explorer clients speak:
//! `POST /` with `X-Amz-Target: <prefix>.<Operation>` and a JSON body; errors as JSON with
//! `__type` (or the `x-amzn-ErrorType` header), whose code the retry classifiers and `AwsError`
//! match on.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse, OrchestratorError};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::body::SdkBody;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::raw::{RawClient, ServiceError};

pub(crate) type CallError = SdkError<ServiceError, HttpResponse>;

/// One request: the operation and its JSON body.
#[derive(Debug)]
struct JsonRequest {
    operation: &'static str,
    body: String,
}

/// One call of `operation` (target `<target_prefix>.<operation>`): `request` as the JSON body,
/// the reply parsed as `R`; `service` names the service in error messages.
pub(crate) async fn call<Q, R>(
    raw: &RawClient,
    service: &'static str,
    target_prefix: &'static str,
    operation: &'static str,
    request: &Q,
) -> Result<R, CallError>
where
    Q: Serialize,
    R: DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
{
    let body = serde_json::to_string(request)
        .map_err(|e| SdkError::construction_failure(BoxError::from(e)))?;
    raw.builder::<ServiceError>(operation)
        .serializer(move |r: JsonRequest| serialize(target_prefix, r))
        .deserializer(move |resp: &HttpResponse| deserialize::<R>(service, resp))
        .build()
        .invoke(JsonRequest { operation, body })
        .await
}

fn serialize(target_prefix: &str, request: JsonRequest) -> Result<HttpRequest, BoxError> {
    let mut http = HttpRequest::new(SdkBody::from(request.body));
    http.set_method("POST")?;
    http.set_uri("/")?;
    http.headers_mut()
        .insert("Content-Type", "application/x-amz-json-1.1");
    http.headers_mut().insert(
        "X-Amz-Target",
        format!("{target_prefix}.{}", request.operation),
    );
    Ok(http)
}

fn deserialize<R: DeserializeOwned>(
    service: &'static str,
    resp: &HttpResponse,
) -> Result<R, OrchestratorError<ServiceError>> {
    let body = resp.body().bytes().unwrap_or_default();
    if !resp.status().is_success() {
        let header = resp.headers().get("x-amzn-ErrorType");
        return Err(OrchestratorError::operation(parse_error(
            service,
            body,
            header,
            resp.status().as_u16(),
        )));
    }
    // An empty body is an empty object (a proxy may drop it).
    let body = if body.is_empty() {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body)
        .map_err(|e| OrchestratorError::other(format!("unreadable {service} reply: {e}")))
}

/// `{"__type": "com.amazonaws.servicediscovery#NamespaceNotFound", "message": "..."}`: the code
/// is the part after `#` (and before any `:`), from the body or the `x-amzn-ErrorType` header.
pub(crate) fn parse_error(
    service: &'static str,
    body: &[u8],
    header: Option<&str>,
    status: u16,
) -> ServiceError {
    #[derive(Deserialize)]
    struct ErrorBody {
        #[serde(rename = "__type", default)]
        kind: Option<String>,
        #[serde(default, alias = "Message")]
        message: Option<String>,
    }
    let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
    let (kind, message) = match parsed {
        Some(b) => (b.kind, b.message),
        None => (None, None),
    };
    let code = kind
        .as_deref()
        .or(header)
        .map(error_code)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        // Without an error document (a proxy's 503, say) the status is all there is.
        .unwrap_or_else(|| format!("HTTP{status}"));
    ServiceError::new(service, code, message)
}

/// `aws.servicediscovery#ResourceInUse:http://...` → `ResourceInUse`.
pub(crate) fn error_code(raw: &str) -> &str {
    let after_hash = raw.rsplit('#').next().unwrap_or(raw);
    after_hash.split(':').next().unwrap_or(after_hash).trim()
}

#[cfg(test)]
mod tests {
    use aws_smithy_types::error::metadata::ProvideErrorMetadata;

    use super::*;

    #[test]
    fn error_codes_drop_the_namespace_prefix_and_uri_suffix() {
        assert_eq!(
            error_code("com.amazonaws.servicediscovery#ResourceInUse"),
            "ResourceInUse"
        );
        assert_eq!(error_code("ResourceInUse:http://internal"), "ResourceInUse");
        assert_eq!(error_code("NamespaceNotFound"), "NamespaceNotFound");
        let e = parse_error(
            "ServiceDiscovery",
            br#"{"__type":"aws#NamespaceNotFound","Message":"ns-1 not found"}"#,
            None,
            400,
        );
        assert_eq!(e.code(), Some("NamespaceNotFound"));
        assert_eq!(e.message(), Some("ns-1 not found"));
        let e = parse_error("ServiceDiscovery", b"", Some("ThrottlingException"), 400);
        assert_eq!(e.code(), Some("ThrottlingException"));
        assert_eq!(
            parse_error("ServiceDiscovery", b"oops", None, 503).code(),
            Some("HTTP503")
        );
    }
}
