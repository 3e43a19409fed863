//! EC2: where tasks run when envctl.toml names no network — the default VPC's subnets and its
//! `default` security group — and filling in a security group for configs that give only subnets.
//!
//! envctl makes three read calls to EC2, and `aws-sdk-ec2` (every EC2 operation, generated) took
//! 21 of the 34 minutes of a release build. So these three calls go through the SDK's own
//! orchestrator instead: the same credentials chain, SigV4 signing, retry strategy, timeouts,
//! HTTP client and `--stats` interceptor as every other client, with a typed request (filters)
//! and typed replies parsed from EC2's query-protocol XML. See docs/architecture.md.
//!
//! Every lookup uses Describe* filters, which answer with an empty list for unknown ids instead
//! of an error.

use std::collections::BTreeMap;

use aws_smithy_runtime::client::orchestrator::operation::Operation;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse, OrchestratorError};
use aws_smithy_types::body::SdkBody;
use aws_types::sdk_config::SdkConfig;

use super::raw::{RawClient, ServiceError, ServiceInfo};
use super::{Aws, AwsError, AwsResult};

/// EC2's query API version, as in every EC2 SDK.
const API_VERSION: &str = "2016-11-15";
/// How EC2 is reached and counted (`AWS_ENDPOINT_URL_EC2` overrides the endpoint).
const EC2: ServiceInfo = ServiceInfo {
    service: "EC2",
    signing_name: "ec2",
    endpoint_env: "AWS_ENDPOINT_URL_EC2",
    endpoint_prefix: "ec2",
};

/// An error EC2 answered (`<Response><Errors><Error><Code>…`).
pub type Ec2Error = ServiceError;

/// The network a Fargate task gets when the config does not choose one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultNetwork {
    pub vpc_id: String,
    /// Sorted, so that rendered service definitions are stable.
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
}

/// A VPC as DescribeVpcs returns it (the fields envctl reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vpc {
    pub vpc_id: String,
    pub is_default: bool,
}

/// A subnet as DescribeSubnets returns it (the fields envctl reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subnet {
    pub subnet_id: String,
    pub vpc_id: String,
}

/// A security group as DescribeSecurityGroups returns it (the fields envctl reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityGroup {
    pub group_id: String,
    pub group_name: String,
    pub vpc_id: String,
}

/// One `Filter.N` of a Describe call: a name and the values any of which may match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub name: &'static str,
    pub values: Vec<String>,
}

impl Filter {
    pub fn new(name: &'static str, value: impl Into<String>) -> Filter {
        Filter {
            name,
            values: vec![value.into()],
        }
    }
}

/// The Describe operations envctl calls, each with the XML element that lists its results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Describe {
    Vpcs,
    Subnets,
    SecurityGroups,
}

impl Describe {
    fn action(self) -> &'static str {
        match self {
            Describe::Vpcs => "DescribeVpcs",
            Describe::Subnets => "DescribeSubnets",
            Describe::SecurityGroups => "DescribeSecurityGroups",
        }
    }

    fn result_set(self) -> &'static str {
        match self {
            Describe::Vpcs => "vpcSet",
            Describe::Subnets => "subnetSet",
            Describe::SecurityGroups => "securityGroupInfo",
        }
    }
}

/// One page's request: the form body EC2's query protocol takes.
#[derive(Debug, Clone)]
struct DescribeRequest {
    op: Describe,
    filters: Vec<Filter>,
    next_token: Option<String>,
}

impl DescribeRequest {
    fn form_body(&self) -> String {
        use aws_smithy_query::{QueryValueWriter, QueryWriter};
        let mut out = String::new();
        QueryWriter::new(&mut out, self.op.action(), API_VERSION).finish();
        let mut put =
            |key: String, value: &str| QueryValueWriter::new(&mut out, key.into()).string(value);
        for (i, filter) in self.filters.iter().enumerate() {
            put(format!("Filter.{}.Name", i + 1), filter.name);
            for (j, value) in filter.values.iter().enumerate() {
                put(format!("Filter.{}.Value.{}", i + 1, j + 1), value);
            }
        }
        if let Some(token) = &self.next_token {
            put("NextToken".to_string(), token);
        }
        out
    }
}

/// One page of results: each item's scalar fields by element name, and the next page's token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct DescribePage {
    items: Vec<BTreeMap<String, String>>,
    next_token: Option<String>,
}

/// EC2's three Describe calls, through the shared hand-written client.
#[derive(Clone, Debug)]
pub(crate) struct Ec2Client {
    raw: RawClient,
}

impl Ec2Client {
    pub(crate) fn new(
        sdk: &SdkConfig,
        region: &str,
        endpoint_in_code: Option<&str>,
        interceptors: Vec<SharedInterceptor>,
    ) -> Self {
        Ec2Client {
            raw: RawClient::new(EC2, sdk, region, endpoint_in_code, interceptors),
        }
    }

    fn operation(&self, op: Describe) -> Operation<DescribeRequest, DescribePage, Ec2Error> {
        self.raw
            .builder::<Ec2Error>(op.action())
            .serializer(serialize)
            .deserializer(move |resp: &HttpResponse| deserialize(op, resp))
            .build()
    }

    /// Every page of one Describe call.
    async fn describe_all(
        &self,
        op: Describe,
        filters: Vec<Filter>,
        resource: &str,
    ) -> AwsResult<Vec<BTreeMap<String, String>>> {
        let operation = self.operation(op);
        let mut request = DescribeRequest {
            op,
            filters,
            next_token: None,
        };
        let mut items = Vec::new();
        loop {
            let page = operation
                .invoke(request.clone())
                .await
                .map_err(|e| AwsError::from_sdk(&format!("ec2:{}", op.action()), resource, e))?;
            items.extend(page.items);
            match page.next_token {
                Some(token) if !token.is_empty() => request.next_token = Some(token),
                _ => return Ok(items),
            }
        }
    }

    pub(crate) async fn describe_vpcs(
        &self,
        filters: Vec<Filter>,
        resource: &str,
    ) -> AwsResult<Vec<Vpc>> {
        let items = self.describe_all(Describe::Vpcs, filters, resource).await?;
        Ok(items
            .into_iter()
            .filter_map(|mut i| {
                Some(Vpc {
                    vpc_id: i.remove("vpcId")?,
                    is_default: i.get("isDefault").is_some_and(|v| v == "true"),
                })
            })
            .collect())
    }

    pub(crate) async fn describe_subnets(
        &self,
        filters: Vec<Filter>,
        resource: &str,
    ) -> AwsResult<Vec<Subnet>> {
        let items = self
            .describe_all(Describe::Subnets, filters, resource)
            .await?;
        Ok(items
            .into_iter()
            .filter_map(|mut i| {
                Some(Subnet {
                    subnet_id: i.remove("subnetId")?,
                    vpc_id: i.remove("vpcId")?,
                })
            })
            .collect())
    }

    pub(crate) async fn describe_security_groups(
        &self,
        filters: Vec<Filter>,
        resource: &str,
    ) -> AwsResult<Vec<SecurityGroup>> {
        let items = self
            .describe_all(Describe::SecurityGroups, filters, resource)
            .await?;
        Ok(items
            .into_iter()
            .filter_map(|mut i| {
                Some(SecurityGroup {
                    group_id: i.remove("groupId")?,
                    group_name: i.remove("groupName").unwrap_or_default(),
                    vpc_id: i.remove("vpcId").unwrap_or_default(),
                })
            })
            .collect())
    }
}

fn serialize(request: DescribeRequest) -> Result<HttpRequest, BoxError> {
    let mut http = HttpRequest::new(SdkBody::from(request.form_body()));
    http.set_method("POST")?;
    http.set_uri("/")?;
    http.headers_mut().insert(
        "Content-Type",
        "application/x-www-form-urlencoded; charset=utf-8",
    );
    Ok(http)
}

fn deserialize(
    op: Describe,
    resp: &HttpResponse,
) -> Result<DescribePage, OrchestratorError<Ec2Error>> {
    let body = resp.body().bytes().unwrap_or_default();
    let text = std::str::from_utf8(body)
        .map_err(|e| OrchestratorError::other(format!("EC2 reply is not UTF-8: {e}")))?;
    if !resp.status().is_success() {
        return Err(OrchestratorError::operation(parse_error(
            text,
            resp.status().as_u16(),
        )));
    }
    parse_page(text, op.result_set())
        .map_err(|e| OrchestratorError::other(format!("unreadable {} reply: {e}", op.action())))
}

/// `<XResponse><resultSet><item><field>…</field>…</item>…</resultSet><nextToken>…</nextToken>`:
/// the scalar children of each item (nested sets such as tags are skipped).
fn parse_page(text: &str, result_set: &str) -> Result<DescribePage, BoxError> {
    let mut doc = aws_smithy_xml::decode::Document::new(text);
    let mut root = doc.root_element()?;
    let mut page = DescribePage::default();
    while let Some(mut child) = root.next_tag() {
        if child.start_el().matches(result_set) {
            while let Some(mut item) = child.next_tag() {
                if !item.start_el().matches("item") {
                    continue;
                }
                let mut fields = BTreeMap::new();
                while let Some(mut field) = item.next_tag() {
                    let name = field.start_el().local().to_string();
                    if let Ok(value) = aws_smithy_xml::decode::try_data(&mut field) {
                        fields.insert(name, value.trim().to_string());
                    }
                }
                page.items.push(fields);
            }
        } else if child.start_el().matches("nextToken") {
            let token = aws_smithy_xml::decode::try_data(&mut child)?;
            let token = token.trim();
            if !token.is_empty() {
                page.next_token = Some(token.to_string());
            }
        }
    }
    Ok(page)
}

/// `<Response><Errors><Error><Code>…</Code><Message>…</Message></Error></Errors>…`.
fn parse_error(text: &str, status: u16) -> Ec2Error {
    let mut code = None;
    let mut message = None;
    let mut doc = aws_smithy_xml::decode::Document::new(text);
    if let Ok(mut root) = doc.root_element() {
        while let Some(mut errors) = root.next_tag() {
            if !errors.start_el().matches("Errors") {
                continue;
            }
            while let Some(mut error) = errors.next_tag() {
                if !error.start_el().matches("Error") {
                    continue;
                }
                while let Some(mut field) = error.next_tag() {
                    let name = field.start_el().local().to_string();
                    let value = aws_smithy_xml::decode::try_data(&mut field)
                        .map(|v| v.trim().to_string())
                        .ok();
                    match name.as_str() {
                        "Code" => code = value,
                        "Message" => message = value,
                        _ => {}
                    }
                }
            }
        }
    }
    // Without an error document (a proxy's 503, say) the status is all there is.
    let code = code.unwrap_or_else(|| format!("HTTP{status}"));
    ServiceError::new(EC2.service, code, message)
}

impl Aws {
    /// The region's default VPC, its default subnets and its `default` security group. The
    /// three lookups go out together (one round trip, not three in a row): the subnets and
    /// groups are found by filters that need no VPC id and matched to the default VPC here.
    pub async fn default_network(&self) -> AwsResult<DefaultNetwork> {
        let no_default = || {
            AwsError::unexpected(
                "ec2:DescribeVpcs",
                format!("default VPC in {}", self.region),
                "this region has no default VPC; set `[network] subnets` and `security_groups` in envctl.toml",
            )
        };
        let (vpcs, subnets, groups) = futures::try_join!(
            self.ec2
                .describe_vpcs(vec![Filter::new("isDefault", "true")], "default VPC"),
            // Only the default VPC has default subnets (one per availability zone).
            self.ec2.describe_subnets(
                vec![Filter::new("default-for-az", "true")],
                "default subnets"
            ),
            self.default_security_groups(),
        )?;
        let vpc_id = vpcs
            .into_iter()
            .next()
            .map(|v| v.vpc_id)
            .ok_or_else(no_default)?;

        let mut subnets: Vec<String> = subnets
            .into_iter()
            .filter(|s| s.vpc_id == vpc_id)
            .map(|s| s.subnet_id)
            .collect();
        subnets.sort();
        if subnets.is_empty() {
            return Err(AwsError::unexpected(
                "ec2:DescribeSubnets",
                &vpc_id,
                "the default VPC has no default subnets; set `[network] subnets` and `security_groups` in envctl.toml",
            ));
        }

        let sg = default_group_of(&groups, &vpc_id).ok_or_else(|| {
            AwsError::unexpected(
                "ec2:DescribeSecurityGroups",
                &vpc_id,
                "the default VPC has no `default` security group; set `[network] security_groups` in envctl.toml",
            )
        })?;
        Ok(DefaultNetwork {
            vpc_id,
            subnets,
            security_groups: vec![sg],
        })
    }

    /// The `default` security group of every VPC (each VPC has exactly one): read without
    /// knowing the VPC yet, so the lookup can go out with the one that finds the VPC.
    pub async fn default_security_groups(&self) -> AwsResult<Vec<SecurityGroup>> {
        self.ec2
            .describe_security_groups(
                vec![Filter::new("group-name", "default")],
                "default security groups",
            )
            .await
    }

    /// The subnets among `ids` that exist (in any order); an unknown id is simply absent, so
    /// the caller can name every missing one.
    pub async fn subnets_by_id(&self, ids: &[String]) -> AwsResult<Vec<Subnet>> {
        self.ec2
            .describe_subnets(
                vec![Filter {
                    name: "subnet-id",
                    values: ids.to_vec(),
                }],
                &ids.join(","),
            )
            .await
    }

    /// The security groups among `ids` that exist (in any order), like `subnets_by_id`.
    pub async fn security_groups_by_id(&self, ids: &[String]) -> AwsResult<Vec<SecurityGroup>> {
        self.ec2
            .describe_security_groups(
                vec![Filter {
                    name: "group-id",
                    values: ids.to_vec(),
                }],
                &ids.join(","),
            )
            .await
    }
}

/// The id of `vpc_id`'s `default` group among `groups`.
pub fn default_group_of(groups: &[SecurityGroup], vpc_id: &str) -> Option<String> {
    groups
        .iter()
        .find(|g| g.vpc_id == vpc_id && g.group_name == "default")
        .map(|g| g.group_id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_types::error::metadata::ProvideErrorMetadata;

    #[test]
    fn the_default_group_is_the_one_of_the_vpc() {
        let group = |id: &str, name: &str, vpc: &str| SecurityGroup {
            group_id: id.into(),
            group_name: name.into(),
            vpc_id: vpc.into(),
        };
        let groups = [
            group("sg-1", "default", "vpc-other"),
            group("sg-2", "web", "vpc-1"),
            group("sg-3", "default", "vpc-1"),
        ];
        assert_eq!(default_group_of(&groups, "vpc-1").as_deref(), Some("sg-3"));
        assert_eq!(default_group_of(&groups, "vpc-none"), None);
    }

    #[test]
    fn form_body_numbers_filters_and_values_from_one() {
        let request = DescribeRequest {
            op: Describe::SecurityGroups,
            filters: vec![
                Filter::new("vpc-id", "vpc-1"),
                Filter {
                    name: "group-name",
                    values: vec!["default".into(), "a b&c".into()],
                },
            ],
            next_token: Some("tok/en=".into()),
        };
        assert_eq!(
            request.form_body(),
            "Action=DescribeSecurityGroups&Version=2016-11-15\
             &Filter.1.Name=vpc-id&Filter.1.Value.1=vpc-1\
             &Filter.2.Name=group-name&Filter.2.Value.1=default&Filter.2.Value.2=a%20b%26c\
             &NextToken=tok%2Fen%3D"
        );
    }

    #[test]
    fn page_items_keep_scalars_and_skip_nested_sets() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeSubnetsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>r-1</requestId>
  <subnetSet>
    <item>
      <subnetId>subnet-b</subnetId>
      <vpcId>vpc-1</vpcId>
      <tagSet><item><key>Name</key><value>x</value></item></tagSet>
    </item>
    <item><subnetId>subnet-a</subnetId><vpcId>vpc-1</vpcId></item>
  </subnetSet>
  <nextToken>page-2</nextToken>
</DescribeSubnetsResponse>"#;
        let page = parse_page(xml, "subnetSet").unwrap();
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.items[0]["subnetId"], "subnet-b");
        assert_eq!(page.items[0]["vpcId"], "vpc-1");
        assert!(!page.items[0].contains_key("key"));
        assert_eq!(page.items[1]["subnetId"], "subnet-a");
        assert_eq!(page.next_token.as_deref(), Some("page-2"));
    }

    #[test]
    fn last_page_has_no_token() {
        let xml = "<DescribeVpcsResponse><vpcSet/><nextToken/></DescribeVpcsResponse>";
        assert_eq!(parse_page(xml, "vpcSet").unwrap(), DescribePage::default());
    }

    #[test]
    fn regional_endpoint_is_ec2s() {
        let bare = SdkConfig::builder().build();
        assert_eq!(
            super::super::raw::endpoint(EC2, None, None, &bare, "eu-west-1"),
            "https://ec2.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            super::super::raw::endpoint(EC2, None, None, &bare, "cn-north-1"),
            "https://ec2.cn-north-1.amazonaws.com.cn"
        );
    }

    #[test]
    fn errors_carry_code_and_message_for_classification() {
        let xml = "<Response><Errors><Error><Code>RequestLimitExceeded</Code>\
                   <Message>Request limit exceeded.</Message></Error></Errors>\
                   <RequestID>r</RequestID></Response>";
        let err = parse_error(xml, 503);
        assert_eq!(err.code(), Some("RequestLimitExceeded"));
        assert_eq!(err.message(), Some("Request limit exceeded."));
        let bare = parse_error("Service Unavailable", 503);
        assert_eq!(bare.code(), Some("HTTP503"));
    }

    use super::super::raw::tests::{fake_server as fake_ec2, test_sdk};

    fn client(url: &str) -> Ec2Client {
        client_with_stats(url).0
    }

    fn client_with_stats(url: &str) -> (Ec2Client, std::sync::Arc<super::super::CallStats>) {
        let sdk = test_sdk();
        let stats = std::sync::Arc::new(super::super::CallStats::default());
        let client = Ec2Client::new(
            &sdk,
            "eu-west-1",
            Some(url),
            vec![SharedInterceptor::new(
                super::super::stats::StatsInterceptor::new(stats.clone()),
            )],
        );
        (client, stats)
    }

    const THROTTLED: &str = "<Response><Errors><Error><Code>RequestLimitExceeded</Code>\
        <Message>Request limit exceeded.</Message></Error></Errors><RequestID>r</RequestID></Response>";

    #[tokio::test]
    async fn throttling_is_retried_and_requests_are_signed_for_ec2_in_the_region() {
        let (url, server) = fake_ec2(vec![
            (503, THROTTLED),
            (
                200,
                "<DescribeVpcsResponse><vpcSet><item><vpcId>vpc-1</vpcId>\
                 <isDefault>true</isDefault></item></vpcSet></DescribeVpcsResponse>",
            ),
        ]);
        let (ec2, stats) = client_with_stats(&url);
        let vpcs = ec2
            .describe_vpcs(vec![Filter::new("isDefault", "true")], "default VPC")
            .await
            .expect("retried after the throttle");
        assert_eq!(
            vpcs,
            [Vpc {
                vpc_id: "vpc-1".into(),
                is_default: true
            }]
        );
        // `--stats` counts the operation once, as for every SDK client, retries or not.
        let counted = stats.snapshot();
        assert_eq!(counted.len(), 1);
        assert_eq!(
            (
                counted[0].service.as_str(),
                counted[0].operation.as_str(),
                counted[0].calls
            ),
            ("EC2", "DescribeVpcs", 1)
        );
        let seen = server.join().expect("server");
        assert_eq!(seen.len(), 2, "one throttled attempt, one retry");
        for request in &seen {
            let lower = request.to_ascii_lowercase();
            assert!(request.starts_with("POST / "), "{request}");
            assert!(
                lower.contains("authorization: aws4-hmac-sha256 credential=akidtest/")
                    && lower.contains("/eu-west-1/ec2/aws4_request"),
                "{request}"
            );
            assert!(
                request.ends_with(
                    "Action=DescribeVpcs&Version=2016-11-15&Filter.1.Name=isDefault&Filter.1.Value.1=true"
                ),
                "{request}"
            );
        }
    }

    #[tokio::test]
    async fn pages_are_followed_and_errors_are_typed() {
        let (url, server) = fake_ec2(vec![
            (
                200,
                "<DescribeSubnetsResponse><subnetSet><item><subnetId>subnet-1</subnetId>\
                 <vpcId>vpc-1</vpcId></item></subnetSet><nextToken>t2</nextToken></DescribeSubnetsResponse>",
            ),
            (
                200,
                "<DescribeSubnetsResponse><subnetSet><item><subnetId>subnet-2</subnetId>\
                 <vpcId>vpc-1</vpcId></item></subnetSet></DescribeSubnetsResponse>",
            ),
            (
                400,
                "<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not \
                 authorized to perform this operation.</Message></Error></Errors></Response>",
            ),
        ]);
        let ec2 = client(&url);
        let subnets = ec2
            .describe_subnets(vec![Filter::new("vpc-id", "vpc-1")], "vpc-1")
            .await
            .expect("two pages");
        let ids: Vec<&str> = subnets.iter().map(|s| s.subnet_id.as_str()).collect();
        assert_eq!(ids, ["subnet-1", "subnet-2"]);
        let err = ec2
            .describe_security_groups(vec![Filter::new("vpc-id", "vpc-1")], "vpc-1")
            .await
            .expect_err("denied");
        assert_eq!(err.kind, super::super::error::AwsErrorKind::AccessDenied);
        assert_eq!(err.action, "ec2:DescribeSecurityGroups");
        assert_eq!(err.code.as_deref(), Some("UnauthorizedOperation"));
        let seen = server.join().expect("server");
        assert!(seen[1].ends_with("&NextToken=t2"), "{}", seen[1]);
    }
}
