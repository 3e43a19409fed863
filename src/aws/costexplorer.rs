//! Cost Explorer (`ce`): what envs really cost, from `GetCostAndUsage` grouped by the
//! `envctl:env` cost-allocation tag. One call, so no generated SDK crate: it goes through the
//! SDK's orchestrator (`super::raw`) in Cost Explorer's awsJson1_1 protocol (target prefix
//! `AWSInsightsIndexService`). Cost Explorer has one endpoint per partition, in us-east-1
//! (cn-northwest-1 in China), whatever region envctl works in.

use std::collections::BTreeMap;

use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;
use aws_types::sdk_config::SdkConfig;
use serde::{Deserialize, Serialize};

use super::error::AwsErrorKind;
use super::json11;
use super::raw::{RawClient, ServiceInfo};
use super::{Aws, AwsError, AwsResult};

const COST_EXPLORER: ServiceInfo = ServiceInfo {
    service: "CostExplorer",
    signing_name: "ce",
    endpoint_env: "AWS_ENDPOINT_URL_COST_EXPLORER",
    endpoint_prefix: "ce",
};
const TARGET_PREFIX: &str = "AWSInsightsIndexService";
const ACTION: &str = "ce:GetCostAndUsage";

/// Cost Explorer has no data for the period or grouping (new account, or Cost Explorer not
/// enabled yet).
pub const DATA_UNAVAILABLE: &str = "DataUnavailableException";

/// The region Cost Explorer is signed for and reached in.
pub fn home_region(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "cn-northwest-1"
    } else {
        "us-east-1"
    }
}

// ---- requests and replies ------------------------------------------------------------------

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct GetCostAndUsageRequest<'a> {
    time_period: DateInterval<'a>,
    granularity: &'static str,
    metrics: [&'static str; 1],
    group_by: [GroupDefinition<'a>; 1],
    filter: Expression,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page_token: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DateInterval<'a> {
    start: &'a str,
    end: &'a str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct GroupDefinition<'a> {
    #[serde(rename = "Type")]
    kind: &'static str,
    key: &'a str,
}

/// A tag filter, or several joined with `And`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Expression {
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<TagValues>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    and: Vec<Expression>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct TagValues {
    key: String,
    values: Vec<String>,
    match_options: [&'static str; 1],
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetCostAndUsageReply {
    #[serde(default)]
    results_by_time: Vec<ResultByTime>,
    #[serde(default)]
    next_page_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ResultByTime {
    #[serde(default)]
    groups: Vec<Group>,
    #[serde(default)]
    total: BTreeMap<String, MetricValue>,
    #[serde(default)]
    estimated: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Group {
    #[serde(default)]
    keys: Vec<String>,
    #[serde(default)]
    metrics: BTreeMap<String, MetricValue>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MetricValue {
    amount: String,
    #[serde(default)]
    unit: Option<String>,
}

// ---- envctl's view -------------------------------------------------------------------------

/// What a tag filter asks for: `envctl:app` = app, and optionally one env.
#[derive(Debug, Clone)]
pub struct CostQuery {
    /// `YYYY-MM-DD`, inclusive.
    pub start: String,
    /// `YYYY-MM-DD`, exclusive.
    pub end: String,
    pub app_tag: (String, String),
    pub env_tag: Option<(String, String)>,
    /// The tag to group by (`envctl:env`).
    pub group_by_tag: String,
    pub metric: &'static str,
}

/// Costs summed over the period, by the group tag's value (`""`: resources without the tag).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CostByTag {
    pub amounts: BTreeMap<String, f64>,
    pub unit: String,
    /// Cost Explorer marks figures of periods not yet closed as estimated.
    pub estimated: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct CostExplorerClient {
    raw: RawClient,
}

impl CostExplorerClient {
    pub(crate) fn new(
        sdk: &SdkConfig,
        region: &str,
        endpoint_in_code: Option<&str>,
        interceptors: Vec<SharedInterceptor>,
    ) -> Self {
        CostExplorerClient {
            raw: RawClient::new(
                COST_EXPLORER,
                sdk,
                home_region(region),
                endpoint_in_code,
                interceptors,
            ),
        }
    }

    async fn cost_by_tag(&self, q: &CostQuery) -> AwsResult<CostByTag> {
        let tag = |(key, value): &(String, String)| Expression {
            tags: Some(TagValues {
                key: key.clone(),
                values: vec![value.clone()],
                match_options: ["EQUALS"],
            }),
            and: vec![],
        };
        let filter = match &q.env_tag {
            None => tag(&q.app_tag),
            Some(env) => Expression {
                tags: None,
                and: vec![tag(&q.app_tag), tag(env)],
            },
        };
        let mut request = GetCostAndUsageRequest {
            time_period: DateInterval {
                start: &q.start,
                end: &q.end,
            },
            granularity: "MONTHLY",
            metrics: [q.metric],
            group_by: [GroupDefinition {
                kind: "TAG",
                key: &q.group_by_tag,
            }],
            filter,
            next_page_token: None,
        };
        let resource = format!("{} {}..{}", q.app_tag.1, q.start, q.end);
        let mut out = CostByTag::default();
        loop {
            let page: GetCostAndUsageReply = json11::call(
                &self.raw,
                COST_EXPLORER.service,
                TARGET_PREFIX,
                "GetCostAndUsage",
                &request,
            )
            .await
            .map_err(|e| explain(AwsError::from_sdk(ACTION, resource.clone(), e)))?;
            for r in page.results_by_time {
                out.estimated |= r.estimated;
                // Without groups (nothing tagged), the total still says what the filter cost.
                if r.groups.is_empty() {
                    if let Some(m) = r.total.get(q.metric) {
                        let v = amount(m, &resource)?;
                        if v != 0.0 {
                            *out.amounts.entry(String::new()).or_default() += v;
                        }
                    }
                }
                for g in r.groups {
                    let Some(m) = g.metrics.get(q.metric) else {
                        continue;
                    };
                    let value = tag_value(&q.group_by_tag, g.keys.first().map(String::as_str));
                    *out.amounts.entry(value).or_default() += amount(m, &resource)?;
                    if let Some(u) = &m.unit {
                        out.unit.clone_from(u);
                    }
                }
            }
            match page.next_page_token.filter(|t| !t.is_empty()) {
                Some(token) => request.next_page_token = Some(token),
                None => break,
            }
        }
        if out.unit.is_empty() {
            out.unit = "USD".into();
        }
        Ok(out)
    }
}

/// `envctl:env$feature-x` → `feature-x`; `envctl:env$` (untagged) → `""`.
fn tag_value(tag: &str, key: Option<&str>) -> String {
    let key = key.unwrap_or_default();
    key.strip_prefix(tag)
        .and_then(|rest| rest.strip_prefix('$'))
        .unwrap_or(key)
        .to_string()
}

fn amount(m: &MetricValue, resource: &str) -> AwsResult<f64> {
    m.amount.trim().parse().map_err(|_| {
        AwsError::unexpected(
            ACTION,
            resource.to_string(),
            format!("the reply's amount `{}` is not a number", m.amount),
        )
    })
}

/// The two failures a first user of `--actual` meets, with what fixes them.
fn explain(e: AwsError) -> AwsError {
    let hint = match (e.kind, e.code.as_deref()) {
        (AwsErrorKind::AccessDenied, _) => {
            "the caller needs `ce:GetCostAndUsage` (see docs/cost.md); in an AWS Organization, \
             Cost Explorer data is read in the management account unless it is shared"
        }
        (_, Some(DATA_UNAVAILABLE)) => {
            "Cost Explorer has no data yet: enable it in the Billing console, activate \
             `envctl:env` and `envctl:app` as cost-allocation tags (docs/cost.md) and allow up \
             to 24 hours"
        }
        _ => return e,
    };
    e.with_hint(hint)
}

impl Aws {
    /// Costs of the query's period by the value of its group tag (Cost Explorer, us-east-1).
    pub async fn cost_by_tag(&self, q: &CostQuery) -> AwsResult<CostByTag> {
        self.costexplorer.cost_by_tag(q).await
    }
}

#[cfg(test)]
mod tests {
    use super::super::raw::tests::{fake_server, test_sdk};
    use super::*;

    fn query(env: Option<&str>) -> CostQuery {
        CostQuery {
            start: "2026-11-01".into(),
            end: "2026-12-01".into(),
            app_tag: ("envctl:app".into(), "shop".into()),
            env_tag: env.map(|e| ("envctl:env".into(), e.into())),
            group_by_tag: "envctl:env".into(),
            metric: "UnblendedCost",
        }
    }

    #[tokio::test]
    async fn pages_are_summed_by_tag_value_and_the_request_is_signed_for_us_east_1() {
        let page1 = r#"{"ResultsByTime":[{"TimePeriod":{"Start":"2026-11-01","End":"2026-12-01"},
            "Total":{},"Groups":[{"Keys":["envctl:env$feature-x"],"Metrics":{"UnblendedCost":{"Amount":"1.25","Unit":"USD"}}},
            {"Keys":["envctl:env$"],"Metrics":{"UnblendedCost":{"Amount":"0.5","Unit":"USD"}}}],"Estimated":true}],
            "NextPageToken":"p2"}"#;
        let page2 = r#"{"ResultsByTime":[{"Total":{},"Groups":[{"Keys":["envctl:env$feature-x"],
            "Metrics":{"UnblendedCost":{"Amount":"0.75","Unit":"USD"}}}],"Estimated":false}]}"#;
        let (url, server) = fake_server(vec![(200, page1), (200, page2)]);
        let client = CostExplorerClient::new(&test_sdk(), "eu-west-1", Some(&url), vec![]);
        let got = client.cost_by_tag(&query(None)).await.expect("costs");
        assert_eq!(got.amounts.get("feature-x"), Some(&2.0));
        assert_eq!(got.amounts.get(""), Some(&0.5));
        assert!(got.estimated);
        let seen = server.join().expect("server");
        assert!(
            seen[0].contains("x-amz-target: AWSInsightsIndexService.GetCostAndUsage"),
            "{}",
            seen[0]
        );
        assert!(
            seen[0].contains("/us-east-1/ce/aws4_request"),
            "{}",
            seen[0]
        );
        assert!(
            seen[0].contains(r#""GroupBy":[{"Type":"TAG","Key":"envctl:env"}]"#),
            "{}",
            seen[0]
        );
        assert!(seen[0].contains(r#""Filter":{"Tags":{"Key":"envctl:app","Values":["shop"],"MatchOptions":["EQUALS"]}}"#), "{}", seen[0]);
        assert!(seen[1].contains(r#""NextPageToken":"p2""#), "{}", seen[1]);
    }

    #[tokio::test]
    async fn access_denied_and_missing_data_say_what_fixes_them() {
        let denied = r#"{"__type":"AccessDeniedException","Message":"no"}"#;
        let unavailable =
            r#"{"__type":"DataUnavailableException","Message":"Data is not available."}"#;
        let (url, _server) = fake_server(vec![(400, denied), (400, unavailable)]);
        let client = CostExplorerClient::new(&test_sdk(), "eu-west-1", Some(&url), vec![]);
        let e = client
            .cost_by_tag(&query(Some("feature-x")))
            .await
            .unwrap_err();
        assert_eq!(e.kind, AwsErrorKind::AccessDenied);
        assert!(e.hint().unwrap_or_default().contains("ce:GetCostAndUsage"));
        let e = client.cost_by_tag(&query(None)).await.unwrap_err();
        assert_eq!(e.code.as_deref(), Some(DATA_UNAVAILABLE));
        assert!(e.hint().unwrap_or_default().contains("24 hours"));
    }

    #[test]
    fn tag_values_come_from_group_keys() {
        assert_eq!(tag_value("envctl:env", Some("envctl:env$pr-12")), "pr-12");
        assert_eq!(tag_value("envctl:env", Some("envctl:env$")), "");
        assert_eq!(tag_value("envctl:env", None), "");
    }
}
