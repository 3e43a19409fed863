//! What the hand-written AWS clients share (EC2, Cloud Map): calls made through the SDK's own
//! orchestrator without a generated `aws-sdk-*` crate, which is most of a build's compile time
//! (docs/architecture.md, "Build time"). Each client brings its protocol's request and reply
//! (de)serialization; this module gives them the same credentials chain, SigV4 signing, retry
//! strategy and classifiers, timeouts, paced HTTP client, endpoint resolution and interceptors
//! (`--stats`, retry notices) as every generated client.

use std::fmt;

use aws_runtime::auth::sigv4::{SigV4AuthScheme, SCHEME_ID as SIGV4};
use aws_runtime::auth::SigV4OperationSigningConfig;
use aws_runtime::retries::classifiers::AwsErrorCodeClassifier;
use aws_smithy_runtime::client::orchestrator::operation::OperationBuilder;
use aws_smithy_runtime::client::retries::classifiers::{
    HttpStatusCodeClassifier, TransientErrorClassifier,
};
use aws_smithy_runtime_api::client::auth::static_resolver::StaticAuthSchemeOptionResolver;
use aws_smithy_runtime_api::client::auth::AuthSchemeOptionResolverParams;
use aws_smithy_runtime_api::client::identity::SharedIdentityResolver;
use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder;
use aws_smithy_runtime_api::client::runtime_plugin::StaticRuntimePlugin;
use aws_smithy_types::config_bag::{FrozenLayer, Layer};
use aws_smithy_types::error::metadata::{ErrorMetadata, ProvideErrorMetadata};
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use aws_types::region::SigningRegion;
use aws_types::sdk_config::SdkConfig;
use aws_types::SigningName;

/// How one AWS service is reached and named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ServiceInfo {
    /// The name envctl's call counter and the SDK's retry partition see (the generated clients
    /// use the service's display name: "ECS", "SSM", ...).
    pub service: &'static str,
    /// The SigV4 signing name.
    pub signing_name: &'static str,
    /// Service-specific endpoint override, as the generated clients honour it
    /// (`AWS_ENDPOINT_URL_EC2`).
    pub endpoint_env: &'static str,
    /// The regional endpoint's host prefix (`ec2` → `https://ec2.<region>.amazonaws.com`).
    pub endpoint_prefix: &'static str,
}

/// An error the service answered, with the code the retry classifiers and `AwsError` match on.
#[derive(Debug)]
pub struct ServiceError {
    service: &'static str,
    meta: ErrorMetadata,
}

impl ServiceError {
    pub(crate) fn new(service: &'static str, code: String, message: Option<String>) -> Self {
        let mut meta = ErrorMetadata::builder().code(code);
        if let Some(message) = message {
            meta = meta.message(message);
        }
        ServiceError {
            service,
            meta: meta.build(),
        }
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.meta.code(), self.meta.message()) {
            (Some(code), Some(message)) => write!(f, "{code}: {message}"),
            (Some(code), None) => f.write_str(code),
            _ => write!(f, "unhandled {} error", self.service),
        }
    }
}

impl std::error::Error for ServiceError {}

impl ProvideErrorMetadata for ServiceError {
    fn meta(&self) -> &ErrorMetadata {
        &self.meta
    }
}

/// What every operation of one hand-written client shares: the SDK configuration's
/// credentials, region, endpoint, HTTP client, retry and timeout settings, and envctl's
/// interceptors.
#[derive(Clone, Debug)]
pub(crate) struct RawClient {
    info: ServiceInfo,
    sdk: SdkConfig,
    region: String,
    pub(crate) endpoint: String,
    interceptors: Vec<SharedInterceptor>,
}

impl RawClient {
    pub(crate) fn new(
        info: ServiceInfo,
        sdk: &SdkConfig,
        region: &str,
        endpoint_in_code: Option<&str>,
        interceptors: Vec<SharedInterceptor>,
    ) -> Self {
        RawClient {
            info,
            sdk: sdk.clone(),
            region: region.to_string(),
            endpoint: endpoint(
                info,
                endpoint_in_code,
                std::env::var(info.endpoint_env).ok(),
                sdk,
                region,
            ),
            interceptors,
        }
    }

    /// An operation builder with everything but the (de)serializer: the caller adds its
    /// protocol's and builds. `E` is the error type its deserializer returns, which the retry
    /// classifiers read codes from (throttling and transient errors are retried).
    pub(crate) fn builder<E>(&self, operation_name: &'static str) -> OperationBuilder
    where
        E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
    {
        let mut builder = OperationBuilder::new()
            .service_name(self.info.service)
            .operation_name(operation_name)
            .endpoint_url(&self.endpoint)
            .timeout_config(
                self.sdk
                    .timeout_config()
                    .cloned()
                    .unwrap_or_else(TimeoutConfig::disabled),
            )
            .standard_retry(
                &self
                    .sdk
                    .retry_config()
                    .cloned()
                    .unwrap_or_else(RetryConfig::standard),
            )
            .retry_classifier(AwsErrorCodeClassifier::<E>::new())
            .retry_classifier(TransientErrorClassifier::<E>::new())
            .retry_classifier(HttpStatusCodeClassifier::default())
            .retry_classifier(super::retry::GiveUpClassifier)
            .with_connection_poisoning()
            .runtime_plugin(self.signing_plugin());
        if let Some(version) = self.sdk.behavior_version() {
            builder = builder.behavior_version(version);
        }
        if let Some(client) = self.sdk.http_client() {
            builder = builder.http_client(client);
        }
        if let Some(sleep) = self.sdk.sleep_impl() {
            builder = builder.sleep_impl(sleep);
        }
        for interceptor in &self.interceptors {
            builder = builder.interceptor(interceptor.clone());
        }
        builder
    }

    /// SigV4 with the SDK configuration's credentials (and identity cache), as the generated
    /// clients sign.
    fn signing_plugin(&self) -> StaticRuntimePlugin {
        let mut layer = Layer::new("envctl-raw-signing");
        layer.store_put(AuthSchemeOptionResolverParams::new(()));
        layer.store_put(SigV4OperationSigningConfig {
            region: Some(SigningRegion::from(aws_types::region::Region::new(
                self.region.clone(),
            ))),
            name: Some(SigningName::from_static(self.info.signing_name)),
            ..Default::default()
        });
        let mut components = RuntimeComponentsBuilder::new("envctl-raw-signing")
            .with_auth_scheme_option_resolver(Some(StaticAuthSchemeOptionResolver::new(vec![
                SIGV4,
            ])))
            .with_auth_scheme(SigV4AuthScheme::new());
        if let Some(creds) = self.sdk.credentials_provider() {
            components =
                components.with_identity_resolver(SIGV4, SharedIdentityResolver::new(creds));
        }
        if let Some(cache) = self.sdk.identity_cache() {
            components = components.with_identity_cache(Some(cache));
        }
        StaticRuntimePlugin::new()
            .with_config(FrozenLayer::from(layer))
            .with_runtime_components(components)
    }
}

/// The endpoint, in the generated clients' order: an endpoint set in code (`--endpoint-url`),
/// then the service's own variable (`AWS_ENDPOINT_URL_EC2`), then the global
/// `AWS_ENDPOINT_URL` or profile setting (which the loaded SDK configuration carries), then the
/// regional default.
pub(crate) fn endpoint(
    info: ServiceInfo,
    in_code: Option<&str>,
    service_env: Option<String>,
    sdk: &SdkConfig,
    region: &str,
) -> String {
    if let Some(url) = in_code {
        return url.to_string();
    }
    if let Some(url) = service_env.filter(|u| !u.is_empty()) {
        return url;
    }
    if let Some(url) = sdk.endpoint_url() {
        return url.to_string();
    }
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("https://{}.{region}.{suffix}", info.endpoint_prefix)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A one-connection-per-request HTTP server on loopback that answers each request with the
    /// next canned reply and keeps what it received.
    pub(crate) fn fake_server(
        replies: Vec<(u16, &'static str)>,
    ) -> (String, std::thread::JoinHandle<Vec<String>>) {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let handle = std::thread::spawn(move || {
            let mut seen = Vec::new();
            for (status, body) in replies {
                let (stream, _) = listener.accept().expect("accept");
                let mut reader = BufReader::new(stream);
                let mut head = String::new();
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).expect("read request line");
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().expect("content length");
                    }
                    head.push_str(&line);
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut body_in = vec![0; length];
                reader.read_exact(&mut body_in).expect("request body");
                seen.push(format!("{head}{}", String::from_utf8_lossy(&body_in)));
                let mut stream = reader.into_inner();
                write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
                .expect("write reply");
            }
            seen
        });
        (url, handle)
    }

    /// SDK settings for tests: fixed credentials, three quick attempts.
    pub(crate) fn test_sdk() -> SdkConfig {
        use aws_credential_types::provider::SharedCredentialsProvider;
        use aws_credential_types::Credentials;
        SdkConfig::builder()
            .region(aws_types::region::Region::new("eu-west-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "AKIDTEST", "secret", None, None, "test",
            )))
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(std::time::Duration::from_millis(5)),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_timeout(std::time::Duration::from_secs(10))
                    .build(),
            )
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build()
    }

    const SD: ServiceInfo = ServiceInfo {
        service: "ServiceDiscovery",
        signing_name: "servicediscovery",
        endpoint_env: "AWS_ENDPOINT_URL_SERVICEDISCOVERY",
        endpoint_prefix: "servicediscovery",
    };

    #[test]
    fn endpoint_order_matches_the_generated_clients() {
        let sdk = SdkConfig::builder().endpoint_url("http://global:1").build();
        let bare = SdkConfig::builder().build();
        assert_eq!(
            endpoint(
                SD,
                Some("http://flag:1"),
                Some("http://sd:1".into()),
                &sdk,
                "eu-west-1"
            ),
            "http://flag:1"
        );
        assert_eq!(
            endpoint(SD, None, Some("http://sd:1".into()), &sdk, "eu-west-1"),
            "http://sd:1"
        );
        assert_eq!(
            endpoint(SD, None, None, &sdk, "eu-west-1"),
            "http://global:1"
        );
        assert_eq!(
            endpoint(SD, None, None, &bare, "eu-west-1"),
            "https://servicediscovery.eu-west-1.amazonaws.com"
        );
    }
}
