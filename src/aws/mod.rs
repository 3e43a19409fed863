//! The only place envctl talks to AWS. `Aws` owns the SDK configuration (region, profile,
//! endpoint, retries, timeouts) and one client per service; each submodule owns every call to its
//! service and converts between SDK types and `crate::model`.

pub mod codebuild;
pub mod ec2;
pub mod ecr;
pub mod ecs;
pub mod elbv2;
pub mod error;
pub mod events;
pub mod iam;
pub mod logs;
pub(crate) mod raw;
pub(crate) mod reply;
pub mod s3;
pub mod scheduler;
pub mod servicediscovery;
pub mod ssm;
pub mod stats;
pub mod sts;

use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};

pub use error::{AwsError, AwsResult};
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
    /// Upper bound for one whole operation, retries included.
    pub operation_timeout: Option<Duration>,
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
}

/// Default total attempts per call: the SDK's standard mode, retrying throttling with backoff.
const DEFAULT_MAX_ATTEMPTS: u32 = 5;

impl Aws {
    /// Resolves configuration (no network calls yet) and builds every client.
    pub async fn connect(opts: &AwsOptions) -> AwsResult<Aws> {
        let mut sdk = loader(opts, opts.region.clone()).load().await;
        if sdk.region().is_none() && opts.fallback_region.is_some() {
            sdk = loader(opts, opts.fallback_region.clone()).load().await;
        }
        let region = sdk
            .region()
            .map(|r| r.to_string())
            .ok_or_else(AwsError::no_region)?;

        let stats = opts.stats.clone();
        let interceptor = || StatsInterceptor::new(stats.clone());
        let ec2 = ec2::Ec2Client::new(&sdk, &region, opts.endpoint_url.as_deref(), interceptor());
        let servicediscovery = servicediscovery::ServiceDiscoveryClient::new(
            &sdk,
            &region,
            opts.endpoint_url.as_deref(),
            interceptor(),
        );
        Ok(Aws {
            region,
            ecs: aws_sdk_ecs::Client::from_conf(
                aws_sdk_ecs::config::Builder::from(&sdk)
                    .interceptor(interceptor())
                    .build(),
            ),
            ssm: aws_sdk_ssm::Client::from_conf(
                aws_sdk_ssm::config::Builder::from(&sdk)
                    .interceptor(interceptor())
                    .build(),
            ),
            ecr: aws_sdk_ecr::Client::from_conf(
                aws_sdk_ecr::config::Builder::from(&sdk)
                    .interceptor(interceptor())
                    .build(),
            ),
            logs: aws_sdk_cloudwatchlogs::Client::from_conf(
                aws_sdk_cloudwatchlogs::config::Builder::from(&sdk)
                    .interceptor(interceptor())
                    .build(),
            ),
            iam: aws_sdk_iam::Client::from_conf(
                aws_sdk_iam::config::Builder::from(&sdk)
                    .interceptor(interceptor())
                    .build(),
            ),
            sts: aws_sdk_sts::Client::from_conf(
                aws_sdk_sts::config::Builder::from(&sdk)
                    .interceptor(interceptor())
                    .build(),
            ),
            ec2,
            scheduler: aws_sdk_scheduler::Client::from_conf(
                aws_sdk_scheduler::config::Builder::from(&sdk)
                    .interceptor(interceptor())
                    .build(),
            ),
            events: aws_sdk_eventbridge::Client::from_conf(
                aws_sdk_eventbridge::config::Builder::from(&sdk)
                    .interceptor(interceptor())
                    .build(),
            ),
            codebuild: aws_sdk_codebuild::Client::from_conf(
                aws_sdk_codebuild::config::Builder::from(&sdk)
                    .interceptor(interceptor())
                    .build(),
            ),
            elbv2: aws_sdk_elasticloadbalancingv2::Client::from_conf(
                aws_sdk_elasticloadbalancingv2::config::Builder::from(&sdk)
                    .interceptor(interceptor())
                    .build(),
            ),
            // Path-style addressing: bucket names in the host need DNS the emulator does not have.
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&sdk)
                    .force_path_style(true)
                    .interceptor(interceptor())
                    .build(),
            ),
            servicediscovery,
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
    let attempts = opts.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS).max(1);
    // Adaptive mode adds client-side rate limiting on throttling, which matters for the
    // ECS write limits (5/s sustained) when an app has many services.
    loader = loader.retry_config(RetryConfig::adaptive().with_max_attempts(attempts));
    // The SDK has no read timeout by default: an endpoint that accepts and never answers
    // would hang envctl forever.
    loader.timeout_config(
        TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(5))
            .read_timeout(Duration::from_secs(30))
            .operation_attempt_timeout(Duration::from_secs(60))
            .operation_timeout(opts.operation_timeout.unwrap_or(Duration::from_secs(180)))
            .build(),
    )
}
