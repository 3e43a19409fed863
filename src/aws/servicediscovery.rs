//! Cloud Map (`servicediscovery`): the HTTP namespace each env's services find each other in
//! with ECS Service Connect. Six calls, so, like EC2, no generated SDK crate: the calls go
//! through the SDK's orchestrator (`super::raw`) with typed serde requests and replies in
//! Cloud Map's protocol (awsJson1_1: `POST /`, `X-Amz-Target: Route53AutoNaming_v20170314.Op`,
//! errors as JSON with `__type`).
//!
//! Namespace creation and deletion are asynchronous: both return an operation id that
//! `GetOperation` reports on until it succeeds or fails.

use std::time::Duration;

use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::sdk_config::SdkConfig;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::json11::{self, CallError};
use super::raw::{RawClient, ServiceInfo};
use super::{Aws, AwsError, AwsResult};
use crate::model::{NamespaceState, Tags};

const SERVICE_DISCOVERY: ServiceInfo = ServiceInfo {
    service: "ServiceDiscovery",
    signing_name: "servicediscovery",
    endpoint_env: "AWS_ENDPOINT_URL_SERVICEDISCOVERY",
    endpoint_prefix: "servicediscovery",
};
const TARGET_PREFIX: &str = "Route53AutoNaming_v20170314";

/// Error codes envctl acts on (`__type`, prefix stripped).
pub const NAMESPACE_NOT_FOUND: &str = "NamespaceNotFound";
/// A namespace that still holds services: ECS removes the Cloud Map services of deleted ECS
/// services asynchronously, so a namespace deleted right after its services answers this.
pub const RESOURCE_IN_USE: &str = "ResourceInUse";

/// How long `DeleteNamespace` keeps retrying ResourceInUse: 2 + 4 + 8 + 16 + 30 × 5 = 180 s.
const IN_USE_BACKOFF: [u64; 9] = [2, 4, 8, 16, 30, 30, 30, 30, 30];
/// How long to wait for an asynchronous namespace operation (Cloud Map takes seconds).
const OPERATION_DEADLINE: Duration = Duration::from_secs(300);

// ---- requests and replies ------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Tag {
    key: String,
    value: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct CreateHttpNamespaceRequest<'a> {
    name: &'a str,
    /// Lets a retried request (same token) return the first one's operation.
    creator_request_id: String,
    description: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<Tag>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct OperationIdReply {
    operation_id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct GetOperationRequest<'a> {
    operation_id: &'a str,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetOperationReply {
    operation: OperationInfo,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct OperationInfo {
    /// `SUBMITTED`, `PENDING`, `SUCCESS` or `FAIL`.
    status: String,
    #[serde(default)]
    error_message: Option<String>,
    #[serde(default)]
    error_code: Option<String>,
    /// `{"NAMESPACE": "ns-..."}`
    #[serde(default)]
    targets: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListNamespacesRequest {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    filters: Vec<NamespaceFilter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct NamespaceFilter {
    /// `NAME`, `TYPE`, `HTTP_NAME`.
    name: &'static str,
    values: Vec<String>,
    /// `EQ`, `BEGINS_WITH`.
    condition: &'static str,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListNamespacesReply {
    #[serde(default)]
    namespaces: Vec<NamespaceSummary>,
    #[serde(default)]
    next_token: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NamespaceSummary {
    id: String,
    arn: String,
    name: String,
    #[serde(default, rename = "Type")]
    kind: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct IdRequest<'a> {
    id: &'a str,
}

#[derive(Debug, Serialize)]
struct ListTagsRequest<'a> {
    #[serde(rename = "ResourceARN")]
    resource_arn: &'a str,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListTagsReply {
    #[serde(default)]
    tags: Vec<Tag>,
}

// ---- protocol ------------------------------------------------------------------------------

/// Cloud Map's calls, through the shared hand-written client.
#[derive(Clone, Debug)]
pub(crate) struct ServiceDiscoveryClient {
    raw: RawClient,
}

impl ServiceDiscoveryClient {
    pub(crate) fn new(
        sdk: &SdkConfig,
        region: &str,
        endpoint_in_code: Option<&str>,
        interceptors: Vec<SharedInterceptor>,
    ) -> Self {
        ServiceDiscoveryClient {
            raw: RawClient::new(
                SERVICE_DISCOVERY,
                sdk,
                region,
                endpoint_in_code,
                interceptors,
            ),
        }
    }

    /// One call: `request` as the JSON body, the reply parsed as `R`.
    async fn call<Q: Serialize, R: DeserializeOwned + std::fmt::Debug + Send + Sync + 'static>(
        &self,
        operation: &'static str,
        request: &Q,
    ) -> Result<R, CallError> {
        json11::call(
            &self.raw,
            SERVICE_DISCOVERY.service,
            TARGET_PREFIX,
            operation,
            request,
        )
        .await
    }
}

fn code_of(e: &CallError) -> Option<&str> {
    e.code()
}

fn tags_to_wire(tags: &Tags) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag {
            key: k.clone(),
            value: v.clone(),
        })
        .collect()
}

// ---- envctl's calls ------------------------------------------------------------------------

impl Aws {
    /// The HTTP namespace named exactly `name`, with its tags; `None` when there is none.
    pub async fn find_namespace(&self, name: &str) -> AwsResult<Option<NamespaceState>> {
        self.servicediscovery.find_namespace(name).await
    }

    /// Creates an HTTP namespace with `tags` and waits until Cloud Map reports it created;
    /// returns its id (without reading the namespace back: `up` needs only that it exists).
    pub async fn create_http_namespace(&self, name: &str, tags: &Tags) -> AwsResult<String> {
        self.servicediscovery
            .create_http_namespace_id(name, tags)
            .await
    }

    /// Deletes a namespace (already gone is success), retrying while it is still in use.
    pub async fn delete_namespace(&self, id: &str, name: &str) -> AwsResult<()> {
        self.servicediscovery.delete_namespace(id, name).await
    }
}

impl ServiceDiscoveryClient {
    /// The HTTP namespace named exactly `name`, with its tags; `None` when there is none. Cloud
    /// Map allows one HTTP namespace per name and account/region; should an endpoint hold
    /// several (moto does not enforce it), one tagged by envctl is preferred.
    pub async fn find_namespace(&self, name: &str) -> AwsResult<Option<NamespaceState>> {
        let mut request = ListNamespacesRequest {
            filters: vec![
                NamespaceFilter {
                    name: "NAME",
                    values: vec![name.to_string()],
                    condition: "EQ",
                },
                NamespaceFilter {
                    name: "TYPE",
                    values: vec!["HTTP".to_string()],
                    condition: "EQ",
                },
            ],
            next_token: None,
        };
        let mut found = Vec::new();
        loop {
            let page: ListNamespacesReply = self
                .call("ListNamespaces", &request)
                .await
                .map_err(|e| AwsError::from_sdk("servicediscovery:ListNamespaces", name, e))?;
            // The filter is applied again here: an endpoint that ignores filters (moto) still
            // gives the right answer.
            found.extend(
                page.namespaces
                    .into_iter()
                    .filter(|n| n.name == name)
                    .filter(|n| n.kind.as_deref().is_none_or(|k| k == "HTTP")),
            );
            match page.next_token.filter(|t| !t.is_empty()) {
                Some(token) => request.next_token = Some(token),
                None => break,
            }
        }
        let mut states = Vec::new();
        for n in found {
            let tags = self.namespace_tags(&n.arn).await?;
            states.push(NamespaceState {
                id: n.id,
                arn: n.arn,
                name: n.name,
                tags,
            });
        }
        let owned = states
            .iter()
            .position(|s| s.tags.contains_key(crate::model::TAG_MANAGED_BY));
        Ok(match owned {
            Some(i) => Some(states.swap_remove(i)),
            None => states.into_iter().next(),
        })
    }

    async fn namespace_tags(&self, arn: &str) -> AwsResult<Tags> {
        let reply: ListTagsReply = self
            .call(
                "ListTagsForResource",
                &ListTagsRequest { resource_arn: arn },
            )
            .await
            .map_err(|e| AwsError::from_sdk("servicediscovery:ListTagsForResource", arn, e))?;
        Ok(reply.tags.into_iter().map(|t| (t.key, t.value)).collect())
    }

    /// Creates an HTTP namespace with `tags`, waits until Cloud Map reports it created, and
    /// returns its id (from the operation: a round trip less than reading the namespace).
    pub async fn create_http_namespace_id(&self, name: &str, tags: &Tags) -> AwsResult<String> {
        const ACTION: &str = "servicediscovery:CreateHttpNamespace";
        let reply: OperationIdReply = self
            .call(
                "CreateHttpNamespace",
                &CreateHttpNamespaceRequest {
                    name,
                    creator_request_id: creator_request_id(name),
                    description: "envctl env namespace (ECS Service Connect)",
                    tags: tags_to_wire(tags),
                },
            )
            .await
            .map_err(|e| AwsError::from_sdk(ACTION, name, e))?;
        let op = self
            .wait_operation(&reply.operation_id, ACTION, name)
            .await?;
        op.targets.get("NAMESPACE").cloned().ok_or_else(|| {
            AwsError::unexpected(ACTION, name, "the finished operation names no namespace")
        })
    }

    /// Deletes a namespace; one already gone is success. ECS deregisters the Cloud Map services
    /// of deleted ECS services asynchronously, so a namespace still in use is retried with
    /// backoff for up to three minutes before giving up (a later `down` finishes the job).
    pub async fn delete_namespace(&self, id: &str, name: &str) -> AwsResult<()> {
        let backoff: Vec<Duration> = IN_USE_BACKOFF
            .iter()
            .map(|s| Duration::from_secs(*s))
            .collect();
        self.delete_namespace_with_backoff(id, name, &backoff).await
    }

    pub(crate) async fn delete_namespace_with_backoff(
        &self,
        id: &str,
        name: &str,
        backoff: &[Duration],
    ) -> AwsResult<()> {
        const ACTION: &str = "servicediscovery:DeleteNamespace";
        let mut waits = backoff.iter();
        loop {
            let reply: Result<OperationIdReply, _> =
                self.call("DeleteNamespace", &IdRequest { id }).await;
            match reply {
                Ok(r) => {
                    return match self.wait_operation(&r.operation_id, ACTION, name).await {
                        Ok(_) => Ok(()),
                        Err(e) if e.code.as_deref() == Some(NAMESPACE_NOT_FOUND) => Ok(()),
                        Err(e) => Err(e),
                    };
                }
                Err(e) if code_of(&e) == Some(NAMESPACE_NOT_FOUND) => return Ok(()),
                Err(e) if code_of(&e) == Some(RESOURCE_IN_USE) => match waits.next() {
                    Some(wait) => {
                        tracing::info!(
                            "namespace {name} is still in use (ECS is removing its services); retrying in {}s",
                            wait.as_secs_f32()
                        );
                        tokio::time::sleep(*wait).await;
                    }
                    None => {
                        let mut err = AwsError::from_sdk(ACTION, name, e);
                        err.message = format!(
                            "{} (still in use after {}s: ECS removes the services of deleted ECS services asynchronously; run `envctl down` again in a few minutes)",
                            err.message,
                            backoff.iter().map(Duration::as_secs).sum::<u64>()
                        );
                        return Err(err);
                    }
                },
                Err(e) => return Err(AwsError::from_sdk(ACTION, name, e)),
            }
        }
    }

    /// Polls `GetOperation` until it succeeds (its targets) or fails (an error with its code).
    async fn wait_operation(
        &self,
        operation_id: &str,
        action: &str,
        resource: &str,
    ) -> AwsResult<OperationInfo> {
        let deadline = tokio::time::Instant::now() + OPERATION_DEADLINE;
        let mut delay = Duration::from_millis(250);
        loop {
            let reply: GetOperationReply = self
                .call("GetOperation", &GetOperationRequest { operation_id })
                .await
                .map_err(|e| {
                    AwsError::from_sdk("servicediscovery:GetOperation", operation_id, e)
                })?;
            let op = reply.operation;
            match op.status.as_str() {
                "SUCCESS" => return Ok(op),
                "FAIL" => {
                    let mut err = AwsError::unexpected(
                        action,
                        resource,
                        op.error_message
                            .clone()
                            .unwrap_or_else(|| format!("operation {operation_id} failed")),
                    );
                    err.code = op.error_code.clone();
                    return Err(err);
                }
                _ => {}
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(AwsError::unexpected(
                    action,
                    resource,
                    format!(
                        "operation {operation_id} still {} after {}s; run the command again to converge",
                        op.status,
                        OPERATION_DEADLINE.as_secs()
                    ),
                ));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }
}

/// Unique per attempt: a namespace deleted and created again must not get the first
/// creation's operation back (Cloud Map deduplicates by this id).
fn creator_request_id(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mut id = format!("envctl-{nanos}-{name}");
    id.truncate(64);
    id
}

#[cfg(test)]
mod tests {
    use super::super::raw::tests::{fake_server, test_sdk};
    use super::*;

    #[test]
    fn requests_use_cloud_maps_field_names() {
        let body = serde_json::to_value(CreateHttpNamespaceRequest {
            name: "envctl-shop-x",
            creator_request_id: "r".into(),
            description: "d",
            tags: tags_to_wire(&[("envctl:app".to_string(), "shop".to_string())].into()),
        })
        .unwrap();
        assert_eq!(
            body,
            serde_json::json!({"Name": "envctl-shop-x", "CreatorRequestId": "r", "Description": "d",
                "Tags": [{"Key": "envctl:app", "Value": "shop"}]})
        );
        let tags = serde_json::to_value(ListTagsRequest { resource_arn: "a" }).unwrap();
        assert_eq!(tags, serde_json::json!({"ResourceARN": "a"}));
        assert!(creator_request_id(&"n".repeat(100)).len() <= 64);
    }

    fn client(
        url: &str,
    ) -> (
        ServiceDiscoveryClient,
        std::sync::Arc<super::super::CallStats>,
    ) {
        let stats = std::sync::Arc::new(super::super::CallStats::default());
        let client = ServiceDiscoveryClient::new(
            &test_sdk(),
            "eu-west-1",
            Some(url),
            vec![SharedInterceptor::new(
                super::super::stats::StatsInterceptor::new(stats.clone()),
            )],
        );
        (client, stats)
    }

    #[tokio::test]
    async fn delete_retries_while_in_use_and_a_missing_namespace_is_success() {
        let (url, server) = fake_server(vec![
            (
                400,
                r#"{"__type":"ResourceInUse","Message":"has services"}"#,
            ),
            (200, r#"{"OperationId":"op-1"}"#),
            (
                200,
                r#"{"Operation":{"Id":"op-1","Status":"SUCCESS","Targets":{"NAMESPACE":"ns-1"}}}"#,
            ),
            (
                400,
                r#"{"__type":"com.amazonaws.servicediscovery#NamespaceNotFound"}"#,
            ),
        ]);
        let (aws, stats) = client(&url);
        let quick = [Duration::from_millis(5)];
        aws.delete_namespace_with_backoff("ns-1", "envctl-shop-x", &quick)
            .await
            .expect("deleted after one in-use answer");
        aws.delete_namespace_with_backoff("ns-1", "envctl-shop-x", &quick)
            .await
            .expect("already gone is success");
        let seen = server.join().expect("server");
        assert_eq!(seen.len(), 4);
        for request in &seen {
            let lower = request.to_ascii_lowercase();
            assert!(request.starts_with("POST / "), "{request}");
            assert!(
                lower.contains("content-type: application/x-amz-json-1.1"),
                "{request}"
            );
            assert!(
                lower.contains("/eu-west-1/servicediscovery/aws4_request"),
                "{request}"
            );
        }
        assert!(
            seen[0].contains("x-amz-target: Route53AutoNaming_v20170314.DeleteNamespace")
                || seen[0].contains("X-Amz-Target: Route53AutoNaming_v20170314.DeleteNamespace")
        );
        assert!(seen[0].ends_with(r#"{"Id":"ns-1"}"#), "{}", seen[0]);
        let counted: Vec<(String, String, u64)> = stats
            .snapshot()
            .into_iter()
            .map(|c| (c.service, c.operation, c.calls))
            .collect();
        assert_eq!(
            counted,
            [
                ("ServiceDiscovery".into(), "DeleteNamespace".into(), 3),
                ("ServiceDiscovery".into(), "GetOperation".into(), 1),
            ]
        );
    }

    #[tokio::test]
    async fn in_use_after_the_backoff_is_an_error_with_its_code() {
        let (url, server) = fake_server(vec![
            (400, r#"{"__type":"ResourceInUse"}"#),
            (400, r#"{"__type":"ResourceInUse"}"#),
        ]);
        let (aws, _) = client(&url);
        let err = aws
            .delete_namespace_with_backoff("ns-1", "envctl-shop-x", &[Duration::from_millis(5)])
            .await
            .expect_err("still in use");
        assert_eq!(err.code.as_deref(), Some(RESOURCE_IN_USE));
        assert_eq!(err.action, "servicediscovery:DeleteNamespace");
        assert!(err.message.contains("envctl down"), "{err}");
        server.join().expect("server");
    }

    #[tokio::test]
    async fn create_waits_for_the_operation_and_takes_the_id_from_it() {
        let (url, server) = fake_server(vec![
            (200, r#"{"OperationId":"op-1"}"#),
            (200, r#"{"Operation":{"Id":"op-1","Status":"PENDING"}}"#),
            (
                200,
                r#"{"Operation":{"Id":"op-1","Status":"SUCCESS","Targets":{"NAMESPACE":"ns-1"}}}"#,
            ),
        ]);
        let (aws, _) = client(&url);
        let tags: Tags = [("envctl:app".to_string(), "shop".to_string())].into();
        let id = aws
            .create_http_namespace_id("envctl-shop-x", &tags)
            .await
            .expect("created");
        assert_eq!(id, "ns-1");
        let seen = server.join().expect("server");
        assert_eq!(seen.len(), 3, "no GetNamespace after the operation");
        assert!(
            seen[0].contains(r#""Tags":[{"Key":"envctl:app","Value":"shop"}]"#),
            "{}",
            seen[0]
        );
    }
}
