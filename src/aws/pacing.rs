//! Client-side pacing: every request envctl sends waits for a token from a bucket per AWS service
//! and per class (reads, writes, RegisterTaskDefinition), refilled below the account's API limits
//! (docs/architecture.md, "Retries, timeouts and pacing"). Staying under the limits is cheaper
//! than being throttled and backing off, and unlike the SDK's adaptive mode (which, after one
//! throttle, held a client to about 0.5 requests per second) it never slows a run that stays
//! within them.
//!
//! The buckets sit in a wrapper around the HTTP client that every client shares (the generated
//! ones and the orchestrator clients in `raw.rs`), so retries are paced too: AWS counts attempts,
//! not operations. The retry interceptor (`retry.rs`) tags each request with its [`PaceKey`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

/// What kind of request, for the limits AWS applies to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Class {
    Read,
    Write,
    /// ECS's Create/Update/DeleteService share a limit of their own.
    ServiceWrite,
    /// ECS's RegisterTaskDefinition has a limit of its own, far below other writes.
    RegisterTaskDefinition,
}

/// Which bucket a request draws from: the service's IAM prefix (`ecs`, `ssm`) and the class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct PaceKey {
    pub service: &'static str,
    pub class: Class,
}

impl PaceKey {
    pub(crate) fn new(service: &'static str, operation: &str) -> PaceKey {
        let class = if operation == "RegisterTaskDefinition" {
            Class::RegisterTaskDefinition
        } else if service == "ecs"
            && matches!(
                operation,
                "CreateService" | "UpdateService" | "DeleteService"
            )
        {
            Class::ServiceWrite
        } else if super::stats::is_write(operation) {
            Class::Write
        } else {
            Class::Read
        };
        PaceKey { service, class }
    }
}

/// A sustained rate and the burst a full bucket allows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rate {
    pub per_second: f64,
    pub burst: f64,
}

/// The pace for each bucket, about 80% of the documented limits (CONTEXT: ECS DescribeServices /
/// ListServices 20/s sustained, 100 burst; Create/Update/DeleteService 5/s, 50 burst;
/// RegisterTaskDefinition 1/s, 20 burst; SSM GetParameter(s)/GetParametersByPath 40/s shared).
/// Other calls' limits are not documented there: they get a generous default that no envctl
/// command comes near and that still caps a runaway loop.
pub(crate) fn rate(key: PaceKey) -> Rate {
    let (per_second, burst) = match (key.service, key.class) {
        // A burst of 80 lets `ls` of 500 envs (7 pages, 62 DescribeServices of 10) go out
        // without waiting; AWS allows 100.
        ("ecs", Class::Read) => (16.0, 80.0),
        (_, Class::ServiceWrite) => (4.0, 20.0),
        (_, Class::RegisterTaskDefinition) => (0.8, 10.0),
        // SSM documents no burst above its 40 per second.
        ("ssm", Class::Read) => (30.0, 30.0),
        (_, Class::Read) => (16.0, 40.0),
        (_, Class::Write) => (8.0, 40.0),
    };
    Rate { per_second, burst }
}

/// A token bucket that hands out reservations: a request that finds it empty takes a token
/// anyway (the count goes negative) and is told how long to wait for it, so waiters are served
/// in arrival order without a queue.
#[derive(Debug)]
struct Bucket {
    rate: Rate,
    tokens: f64,
    updated: Instant,
}

impl Bucket {
    fn new(rate: Rate, now: Instant) -> Bucket {
        Bucket {
            rate,
            tokens: rate.burst,
            updated: now,
        }
    }

    fn reserve(&mut self, now: Instant) -> Duration {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.updated = self.updated.max(now);
        self.tokens = (self.tokens + elapsed * self.rate.per_second).min(self.rate.burst);
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.rate.per_second)
        }
    }
}

/// Every bucket of one envctl run.
#[derive(Debug, Default)]
pub(crate) struct Pacer {
    buckets: Mutex<HashMap<PaceKey, Bucket>>,
}

impl Pacer {
    /// Takes a token for `key` and says how long to wait before sending.
    pub(crate) fn reserve(&self, key: PaceKey, now: Instant) -> Duration {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        buckets
            .entry(key)
            .or_insert_with(|| Bucket::new(rate(key), now))
            .reserve(now)
    }
}

/// The HTTP client every AWS client gets: `inner`, with each request paced first.
#[derive(Debug, Clone)]
pub(crate) struct PacedHttpClient {
    inner: SharedHttpClient,
    pacer: Arc<Pacer>,
}

impl PacedHttpClient {
    pub(crate) fn new(inner: SharedHttpClient, pacer: Arc<Pacer>) -> Self {
        PacedHttpClient { inner, pacer }
    }
}

impl HttpClient for PacedHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(PacedConnector {
            // The inner client caches its connectors (and their connection pools) per settings.
            inner: self.inner.http_connector(settings, components),
            pacer: self.pacer.clone(),
        })
    }
}

#[derive(Debug)]
struct PacedConnector {
    inner: SharedHttpConnector,
    pacer: Arc<Pacer>,
}

impl HttpConnector for PacedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let wait = request
            .extension::<PaceKey>()
            .map(|key| self.pacer.reserve(*key, Instant::now()))
            .unwrap_or_default();
        let inner = self.inner.clone();
        HttpConnectorFuture::new(async move {
            if !wait.is_zero() {
                tracing::debug!(?wait, "pacing a request below the service's API limits");
                tokio::time::sleep(wait).await;
            }
            inner.call(request).await
        })
    }
}

/// The SDK's own default HTTPS client (hyper 1, rustls with aws-lc, proxy settings from the
/// environment), built here because the SDK does not expose it for wrapping.
pub(crate) fn default_https_client() -> SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
    use aws_smithy_http_client::{Builder, Connector};
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut builder =
            Connector::builder().tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc));
        builder.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            builder.set_sleep_impl(components.sleep_impl());
        }
        builder.set_proxy_config(Some(ProxyConfig::from_env()));
        builder.build()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ECS_WRITE: PaceKey = PaceKey {
        service: "ecs",
        class: Class::ServiceWrite,
    };

    #[test]
    fn requests_are_classed_by_operation() {
        assert_eq!(PaceKey::new("ecs", "DescribeServices").class, Class::Read);
        assert_eq!(
            PaceKey::new("ecs", "CreateService").class,
            Class::ServiceWrite
        );
        assert_eq!(
            PaceKey::new("ecs", "DeleteService").class,
            Class::ServiceWrite
        );
        assert_eq!(PaceKey::new("ecs", "TagResource").class, Class::Write);
        assert_eq!(
            PaceKey::new("ecs", "RegisterTaskDefinition").class,
            Class::RegisterTaskDefinition
        );
        assert_eq!(
            PaceKey::new("ssm", "GetParametersByPath").class,
            Class::Read
        );
    }

    #[test]
    fn every_pace_is_below_the_documented_limits() {
        let ecs_read = rate(PaceKey::new("ecs", "DescribeServices"));
        assert!(ecs_read.per_second < 20.0 && ecs_read.burst < 100.0);
        let ecs_write = rate(ECS_WRITE);
        assert!(ecs_write.per_second < 5.0 && ecs_write.burst < 50.0);
        let register = rate(PaceKey::new("ecs", "RegisterTaskDefinition"));
        assert!(register.per_second < 1.0 && register.burst < 20.0);
        let ssm_read = rate(PaceKey::new("ssm", "GetParameters"));
        assert!(ssm_read.per_second < 40.0 && ssm_read.burst < 40.0);
    }

    #[test]
    fn a_burst_goes_out_at_once_then_requests_are_spaced_at_the_sustained_rate() {
        let pacer = Pacer::default();
        let t0 = Instant::now();
        let burst = rate(ECS_WRITE).burst as usize;
        for i in 0..burst {
            assert_eq!(pacer.reserve(ECS_WRITE, t0), Duration::ZERO, "request {i}");
        }
        // 4 per second: the next three wait 0.25 s, 0.5 s and 0.75 s, in arrival order.
        let waits: Vec<u128> = (0..3)
            .map(|_| pacer.reserve(ECS_WRITE, t0).as_millis())
            .collect();
        assert_eq!(waits, [250, 500, 750]);
        // A second later four tokens have come back, three of them already promised.
        assert_eq!(
            pacer.reserve(ECS_WRITE, t0 + Duration::from_secs(1)),
            Duration::ZERO
        );
        assert_eq!(
            pacer
                .reserve(ECS_WRITE, t0 + Duration::from_secs(1))
                .as_millis(),
            250
        );
    }

    #[test]
    fn buckets_are_per_service_and_class() {
        let pacer = Pacer::default();
        let t0 = Instant::now();
        for _ in 0..rate(ECS_WRITE).burst as usize {
            pacer.reserve(ECS_WRITE, t0);
        }
        assert!(pacer.reserve(ECS_WRITE, t0) > Duration::ZERO);
        assert_eq!(
            pacer.reserve(PaceKey::new("ecs", "DescribeServices"), t0),
            Duration::ZERO
        );
        assert_eq!(
            pacer.reserve(PaceKey::new("ssm", "PutParameter"), t0),
            Duration::ZERO
        );
    }

    #[tokio::test]
    async fn the_connector_draws_from_the_bucket_a_request_is_tagged_with() {
        #[derive(Debug)]
        struct Ok200;
        impl HttpConnector for Ok200 {
            fn call(&self, _request: HttpRequest) -> HttpConnectorFuture {
                let status = 200u16.try_into().expect("status");
                HttpConnectorFuture::ready(Ok(
                    aws_smithy_runtime_api::client::orchestrator::HttpResponse::new(
                        status,
                        aws_smithy_types::body::SdkBody::empty(),
                    ),
                ))
            }
        }
        let pacer = Arc::new(Pacer::default());
        let connector = PacedConnector {
            inner: SharedHttpConnector::new(Ok200),
            pacer: pacer.clone(),
        };
        let mut tagged = HttpRequest::empty();
        tagged.add_extension(ECS_WRITE);
        connector.call(tagged).await.expect("sent");
        connector
            .call(HttpRequest::empty())
            .await
            .expect("untagged: not paced");
        let buckets = pacer.buckets.lock().unwrap();
        assert_eq!(buckets.len(), 1);
        assert_eq!(buckets[&ECS_WRITE].tokens, rate(ECS_WRITE).burst - 1.0);
    }

    #[test]
    fn an_idle_bucket_refills_only_up_to_its_burst() {
        let pacer = Pacer::default();
        let t0 = Instant::now();
        pacer.reserve(ECS_WRITE, t0);
        let later = t0 + Duration::from_secs(3600);
        let burst = rate(ECS_WRITE).burst as usize;
        for _ in 0..burst {
            assert_eq!(pacer.reserve(ECS_WRITE, later), Duration::ZERO);
        }
        assert!(pacer.reserve(ECS_WRITE, later) > Duration::ZERO);
    }
}
