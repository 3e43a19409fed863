//! The only place envctl talks to AWS. `Aws` owns the SDK configuration (region, profile,
//! endpoint, retries, timeouts) and one client per service; each submodule owns every call to its
//! service and converts between SDK types and `crate::model`.

pub mod codebuild;
pub mod costexplorer;
pub mod credentials;
pub mod ec2;
pub mod ecr;
pub mod ecs;
pub mod elbv2;
pub mod error;
pub mod events;
pub mod iam;
pub(crate) mod json11;
pub mod logs;
pub(crate) mod pacing;
pub(crate) mod raw;
pub(crate) mod reply;
pub mod retry;
pub mod s3;
pub mod scheduler;
pub mod servicediscovery;
pub mod ssm;
pub mod stats;
pub mod sts;

use std::sync::Arc;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;

pub use error::{AwsError, AwsResult};
pub use retry::{DEFAULT_MAX_ATTEMPTS, DEFAULT_OPERATION_TIMEOUT};
pub use stats::CallStats;
use stats::StatsInterceptor;

/// How to reach AWS; filled from global flags and the environment.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    pub region: Option<String>,
    /// Used only when neither `region` nor the SDK's chain (env, profile) gives one.
    pub fallback_region: Option<String>,
    pub profile: Option<String>,
    /// Overrides every service's endpoint (`--endpoint-url`, `AWS_ENDPOINT_URL`).
    pub endpoint_url: Option<String>,
    /// Total attempts per call including the first (`--max-attempts`); tests use 1.
    pub max_attempts: Option<u32>,
    /// Upper bound for one whole operation, retries included (`--operation-timeout`).
    pub operation_timeout: Option<Duration>,
    /// Say `retrying …` on stderr when a call is slow (off with `-q`).
    pub retry_notices: bool,
    /// Where every call is counted (`--stats`); shared so the caller can read it afterwards.
    pub stats: Arc<CallStats>,
}

/// One SDK client per service, sharing configuration and the call counter.
#[derive(Clone, Debug)]
pub struct Aws {
    pub region: String,
    pub stats: Arc<CallStats>,
    pub(crate) ecs: aws_sdk_ecs::Client,
    pub(crate) ssm: aws_sdk_ssm::Client,
    pub(crate) ecr: aws_sdk_ecr::Client,
    pub(crate) logs: aws_sdk_cloudwatchlogs::Client,
    pub(crate) iam: aws_sdk_iam::Client,
    pub(crate) sts: aws_sdk_sts::Client,
    pub(crate) ec2: ec2::Ec2Client,
    pub(crate) scheduler: aws_sdk_scheduler::Client,
    pub(crate) events: aws_sdk_eventbridge::Client,
    pub(crate) codebuild: aws_sdk_codebuild::Client,
    pub(crate) elbv2: aws_sdk_elasticloadbalancingv2::Client,
    pub(crate) s3: aws_sdk_s3::Client,
    pub(crate) servicediscovery: servicediscovery::ServiceDiscoveryClient,
    pub(crate) costexplorer: costexplorer::CostExplorerClient,
}

/// What every client of one run gets besides the SDK configuration: the call counter and the
/// retry interceptor (which knows the service by its IAM prefix).
struct Hooks {
    stats: Arc<CallStats>,
    region: String,
    endpoint_overridden: bool,
    notices: bool,
}

impl Hooks {
    fn interceptors(&self, service: &'static str) -> Vec<SharedInterceptor> {
        vec![
            SharedInterceptor::new(StatsInterceptor::new(self.stats.clone())),
            SharedInterceptor::new(retry::RetryInterceptor::new(
                service,
                &self.region,
                self.endpoint_overridden,
                self.notices,
            )),
        ]
    }
}

/// A generated client from the shared configuration, with envctl's interceptors and retry
/// classifier; `$extra` adjusts the config builder (S3's addressing and timeouts).
macro_rules! client {
    ($krate:ident, $sdk:expr, $hooks:expr, $service:literal $(, $extra:expr)?) => {{
        let mut builder = $krate::config::Builder::from($sdk)
            .retry_classifier(retry::GiveUpClassifier);
        for interceptor in $hooks.interceptors($service) {
            builder.push_interceptor(interceptor);
        }
        $(let builder = ($extra)(builder);)?
        $krate::Client::from_conf(builder.build())
    }};
}

impl Aws {
    /// Resolves configuration and credentials (no calls to AWS services yet) and builds every
    /// client. Region, profile and credential problems fail here, before anything is sent.
    pub async fn connect(opts: &AwsOptions) -> AwsResult<Aws> {
        if let Some(region) = &opts.region {
            credentials::check_region(region, "from --region")?;
        }
        let profile = match opts.profile.as_deref().filter(|p| !p.is_empty()) {
            Some(name) => credentials::check_profile(name).await?,
            None => credentials::ProfileInfo::default(),
        };
        let mut sdk = loader(opts, opts.region.clone()).load().await;
        let mut origin = None;
        if sdk.region().is_none() && opts.fallback_region.is_some() {
            sdk = loader(opts, opts.fallback_region.clone()).load().await;
            origin = Some("from `region` in envctl.toml");
        }
        let region = sdk
            .region()
            .map(|r| r.to_string())
            .ok_or_else(AwsError::no_region)?;
        if opts.region.is_none() {
            let origin = origin.unwrap_or_else(|| credentials::region_origin(&region));
            credentials::check_region(&region, origin)?;
        }

        let mut builder = sdk.to_builder();
        builder.set_http_client(Some(SharedHttpClient::new(pacing::PacedHttpClient::new(
            pacing::default_https_client(),
            Arc::new(pacing::Pacer::default()),
        ))));
        if let Some(provider) = sdk.credentials_provider() {
            let shared = credentials::SharedOnce::resolve(provider)
                .await
                .map_err(|e| credentials::credentials_error(&e, &profile))?;
            builder.set_credentials_provider(Some(SharedCredentialsProvider::new(shared)));
        }
        let sdk = builder.build();

        let stats = opts.stats.clone();
        let hooks = Hooks {
            stats: stats.clone(),
            region: region.clone(),
            endpoint_overridden: opts.endpoint_url.is_some()
                || std::env::var("AWS_ENDPOINT_URL").is_ok_and(|v| !v.is_empty()),
            notices: opts.retry_notices,
        };
        let endpoint = opts.endpoint_url.as_deref();
        let ec2 = ec2::Ec2Client::new(&sdk, &region, endpoint, hooks.interceptors("ec2"));
        let servicediscovery = servicediscovery::ServiceDiscoveryClient::new(
            &sdk,
            &region,
            endpoint,
            hooks.interceptors("servicediscovery"),
        );
        let costexplorer = costexplorer::CostExplorerClient::new(
            &sdk,
            &region,
            endpoint,
            hooks.interceptors("ce"),
        );
        let upload_timeout = opts
            .operation_timeout
            .unwrap_or(DEFAULT_OPERATION_TIMEOUT)
            .max(retry::UPLOAD_OPERATION_TIMEOUT);
        Ok(Aws {
            region,
            ecs: client!(aws_sdk_ecs, &sdk, hooks, "ecs"),
            ssm: client!(aws_sdk_ssm, &sdk, hooks, "ssm"),
            ecr: client!(aws_sdk_ecr, &sdk, hooks, "ecr"),
            logs: client!(aws_sdk_cloudwatchlogs, &sdk, hooks, "logs"),
            iam: client!(aws_sdk_iam, &sdk, hooks, "iam"),
            sts: client!(aws_sdk_sts, &sdk, hooks, "sts"),
            ec2,
            scheduler: client!(aws_sdk_scheduler, &sdk, hooks, "scheduler"),
            events: client!(aws_sdk_eventbridge, &sdk, hooks, "events"),
            codebuild: client!(aws_sdk_codebuild, &sdk, hooks, "codebuild"),
            elbv2: client!(
                aws_sdk_elasticloadbalancingv2,
                &sdk,
                hooks,
                "elasticloadbalancing"
            ),
            // Path-style addressing: bucket names in the host need DNS the emulator does not
            // have. Uploads of build contexts get a longer bound than other calls.
            s3: client!(
                aws_sdk_s3,
                &sdk,
                hooks,
                "s3",
                |b: aws_sdk_s3::config::Builder| {
                    b.force_path_style(true)
                        .timeout_config(retry::timeout_config(upload_timeout))
                }
            ),
            servicediscovery,
            costexplorer,
            stats,
        })
    }
}

fn loader(opts: &AwsOptions, region: Option<String>) -> aws_config::ConfigLoader {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = region {
        loader = loader.region(Region::new(region));
    }
    if let Some(profile) = &opts.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = &opts.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    // Standard retries with many attempts and a short backoff, timeouts on every call
    // (the SDK has none by default): see retry.rs.
    loader
        .retry_config(retry::retry_config(
            opts.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS),
        ))
        .timeout_config(retry::timeout_config(
            opts.operation_timeout.unwrap_or(DEFAULT_OPERATION_TIMEOUT),
        ))
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use aws_credential_types::Credentials;
    use aws_smithy_runtime_api::client::http::{
        HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
    };
    use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
    use aws_smithy_types::body::SdkBody;

    use super::pacing::{Class, PaceKey};
    use super::*;

    /// An HTTP client that answers `{}` to everything and keeps each request's pacing tag.
    #[derive(Debug, Clone, Default)]
    struct Recording(Arc<Mutex<Vec<Option<PaceKey>>>>);

    impl HttpConnector for Recording {
        fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
            self.0
                .lock()
                .unwrap()
                .push(request.extension::<PaceKey>().copied());
            let status = 200u16.try_into().expect("status");
            HttpConnectorFuture::ready(Ok(HttpResponse::new(status, SdkBody::from("{}"))))
        }
    }

    impl HttpClient for Recording {
        fn http_connector(
            &self,
            _settings: &HttpConnectorSettings,
            _components: &RuntimeComponents,
        ) -> SharedHttpConnector {
            SharedHttpConnector::new(self.clone())
        }
    }

    #[tokio::test]
    async fn every_request_is_tagged_with_its_service_and_class_for_pacing() {
        let recording = Recording::default();
        let sdk = aws_types::SdkConfig::builder()
            .region(Region::new("eu-west-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "AKIDTEST", "secret", None, None, "test",
            )))
            .http_client(recording.clone())
            .behavior_version(BehaviorVersion::latest())
            .build();
        let hooks = Hooks {
            stats: Arc::default(),
            region: "eu-west-1".into(),
            endpoint_overridden: false,
            notices: false,
        };
        let ecs: aws_sdk_ecs::Client = client!(aws_sdk_ecs, &sdk, hooks, "ecs");
        ecs.list_clusters().send().await.expect("list");
        ecs.create_cluster().send().await.expect("create cluster");
        ecs.create_service()
            .service_name("s")
            .send()
            .await
            .expect("create service");
        ecs.register_task_definition()
            .family("f")
            .send()
            .await
            .expect("register");
        let key = |class| {
            Some(PaceKey {
                service: "ecs",
                class,
            })
        };
        assert_eq!(
            *recording.0.lock().unwrap(),
            [
                key(Class::Read),
                key(Class::Write),
                key(Class::ServiceWrite),
                key(Class::RegisterTaskDefinition)
            ]
        );
    }
}
