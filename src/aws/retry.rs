//! How envctl retries and times out AWS calls, tuned for a CLI that a person (or a CI job) waits
//! on: standard retries with many attempts and a short jittered backoff for throttling and 5xx
//! replies, few attempts for an endpoint that does not answer or cannot be reached, a bound on
//! every call, a `retrying …` line on stderr when a call is slow, and errors that name the
//! endpoint. docs/architecture.md ("Retries, timeouts and pacing") has the numbers and why.
//!
//! One interceptor per client ([`RetryInterceptor`]) sees every attempt; one retry classifier
//! ([`GiveUpClassifier`]) ends retries the interceptor has given up on. Both are installed on the
//! generated clients and on the orchestrator clients in `raw.rs`.

use std::fmt;
use std::time::{Duration, Instant};

use aws_smithy_runtime::client::retries::classifiers::run_classifiers_on_ctx;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextMut,
    BeforeTransmitInterceptorContextRef, Error, FinalizerInterceptorContextMut, InterceptorContext,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::{Metadata, OrchestratorError};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority, RetryReason,
};
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use aws_smithy_types::retry::{ErrorKind, RetryConfig};
use aws_smithy_types::timeout::TimeoutConfig;

use super::pacing::PaceKey;

/// Attempts per call, the first included (`--max-attempts`). At 35% throttled or failing
/// requests, 5 attempts lost about one run in four of a 50-call command (0.35^5 × 50); 10 lost
/// one fresh `up` in 100 in the fault benchmark (0.35^10 × 45 calls ≈ 1 in 800, measured 1 in
/// 300); 12 lose about one call in 290,000.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 12;
/// Bound for one call, retries included (`--operation-timeout`). An endpoint that accepts and
/// never answers fails after this long: two attempts of half of it each.
pub const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(40);
/// S3 carries build-context uploads, which can take minutes on a slow uplink.
pub const UPLOAD_OPERATION_TIMEOUT: Duration = Duration::from_secs(300);
/// The first retry waits up to this long (full jitter), doubling per attempt. The SDK's 1 s
/// suits servers; a CLI that retried a throttle after 1–20 s took minutes for a 2-second job.
const INITIAL_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(2);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Attempts that time out waiting for an answer: each costs half the operation timeout.
const MAX_NO_ANSWER: u32 = 2;
/// Attempts that fail to connect (refused, DNS, reset): quick, and rarely fixed by a third try.
const MAX_CANNOT_CONNECT: u32 = 3;
/// A retry is announced once the call has taken this long; quicker ones stay silent.
const NOTICE_AFTER: Duration = Duration::from_secs(3);

/// Standard retries (no adaptive rate limiting: `pacing.rs` keeps envctl under the limits, and
/// the adaptive limiter slowed a whole run to about 0.5 requests per second after one throttle).
pub(crate) fn retry_config(max_attempts: u32) -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(max_attempts.max(1))
        .with_initial_backoff(INITIAL_BACKOFF)
        .with_max_backoff(MAX_BACKOFF)
}

/// Connect and read timeouts per attempt, and the bound for the whole call. The read timeout
/// (until the reply's headers) is half the call's bound, so an endpoint that never answers
/// gets its second attempt and the call still ends on time.
pub(crate) fn timeout_config(operation: Duration) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT.min(operation / 2))
        .read_timeout(operation / 2)
        .operation_timeout(operation)
        .build()
}

/// What one attempt ended with, as the retry classifiers saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Throttled,
    /// A 5xx or another error the service marks as transient.
    ServerError(Option<u16>),
    /// Connected, but no reply (read timeout), or the connect timed out.
    NoAnswer(Duration),
    /// Refused, DNS failure, reset.
    CannotConnect,
    /// A reply that is not the service's protocol (an HTML 500 page).
    Unreadable(Option<u16>),
    Other,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Throttled => f.write_str("throttled"),
            Outcome::ServerError(Some(status)) => write!(f, "HTTP {status}"),
            Outcome::ServerError(None) => f.write_str("server error"),
            Outcome::NoAnswer(after) => write!(f, "no answer within {}", seconds(*after)),
            Outcome::CannotConnect => f.write_str("cannot connect"),
            Outcome::Unreadable(Some(status)) => write!(f, "unreadable HTTP {status} reply"),
            Outcome::Unreadable(None) => f.write_str("unreadable reply"),
            Outcome::Other => f.write_str("failed"),
        }
    }
}

/// Whether a retry deserves a line on stderr: once the call has been slow, or after an attempt
/// that cost a timeout. Quick retries that succeed stay silent.
pub(crate) fn worth_a_notice(elapsed: Duration, previous: &Outcome) -> bool {
    elapsed >= NOTICE_AFTER || matches!(previous, Outcome::NoAnswer(_))
}

/// One call's history, kept in its config bag between the interceptor's hooks.
#[derive(Debug, Clone)]
struct CallLog {
    started: Instant,
    attempt_started: Instant,
    endpoint: Option<String>,
    action: Option<String>,
    /// Outcomes of the attempts that failed, in order.
    history: Vec<Outcome>,
}

impl Storable for CallLog {
    type Storer = StoreReplace<Self>;
}

/// A call that failed before the service could answer in its own protocol: which endpoint,
/// how, after how many attempts. `AwsError` reads it from the error's source chain.
#[derive(Debug)]
pub struct TransportError {
    pub endpoint: String,
    /// The region the endpoint was derived from, unless an endpoint URL was set.
    pub region: Option<String>,
    /// Every attempt's outcome, in order; the last one is how the call ended.
    pub attempts: Vec<Outcome>,
    pub elapsed: Duration,
    /// The call ran into the operation timeout rather than ending on its own.
    pub timed_out: bool,
    source: BoxError,
}

impl TransportError {
    pub fn last(&self) -> Option<&Outcome> {
        self.attempts.last()
    }

    /// The innermost error: "Connection refused (os error 111)", "failed to lookup address
    /// information: ...". Its `Display`, never a `Debug` dump.
    pub fn cause(&self) -> String {
        let mut cur: &(dyn std::error::Error + 'static) = self.source.as_ref();
        while let Some(next) = cur.source() {
            cur = next;
        }
        cur.to_string()
    }

    /// ` (3 attempts in 1.2s)`, or nothing for a single attempt.
    fn tries(&self) -> String {
        match self.attempts.len() {
            0 | 1 => String::new(),
            n => format!(" ({n} attempts in {})", seconds(self.elapsed)),
        }
    }

    /// `7 throttled, 2 no answer within 20s`: what the attempts ended with, most frequent first.
    fn summary(&self) -> String {
        let mut counts: Vec<(String, usize)> = Vec::new();
        for outcome in &self.attempts {
            let label = outcome.to_string();
            match counts.iter_mut().find(|(l, _)| *l == label) {
                Some((_, n)) => *n += 1,
                None => counts.push((label, 1)),
            }
        }
        counts.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        counts
            .iter()
            .map(|(label, n)| format!("{n} {label}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let endpoint = &self.endpoint;
        let answered = self
            .attempts
            .iter()
            .any(|o| !matches!(o, Outcome::NoAnswer(_) | Outcome::CannotConnect));
        if self.timed_out && answered {
            return write!(
                f,
                "no result from {endpoint} within {}: {} attempts ({})",
                seconds(self.elapsed),
                self.attempts.len(),
                self.summary()
            );
        }
        match self.last() {
            Some(Outcome::NoAnswer(_)) | None if self.attempts.len() <= 1 => {
                write!(
                    f,
                    "no answer from {endpoint} within {}",
                    seconds(self.elapsed)
                )
            }
            Some(Outcome::NoAnswer(_)) | None => {
                write!(f, "no answer from {endpoint}{}", self.tries())
            }
            Some(Outcome::CannotConnect) => write!(
                f,
                "cannot connect to {endpoint}: {}{}",
                self.cause(),
                self.tries()
            ),
            Some(Outcome::Unreadable(Some(status))) => write!(
                f,
                "{endpoint} answered HTTP {status} with a reply that is not AWS's{}",
                self.tries()
            ),
            Some(other) => write!(f, "{endpoint}: {other}{}", self.tries()),
        }
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.source.as_ref())
    }
}

/// Marks an attempt's error as not worth retrying (see [`GiveUpClassifier`]).
#[derive(Debug)]
struct GaveUp(BoxError);

impl fmt::Display for GaveUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for GaveUp {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.0.as_ref())
    }
}

/// Stops retries the interceptor marked: a third timeout or a fourth failed connect would only
/// make the user wait. Runs after the SDK's classifiers, so it overrides their "transient".
#[derive(Debug, Default)]
pub(crate) struct GiveUpClassifier;

impl ClassifyRetry for GiveUpClassifier {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        match ctx.output_or_error() {
            Some(Err(err)) if find::<GaveUp>(err).is_some() => RetryAction::RetryForbidden,
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "envctl-give-up"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

/// Sees every attempt of every call of one client: tags requests for pacing, keeps the call's
/// history, says `retrying …` on stderr, stops hopeless retries and names the endpoint in
/// transport errors.
#[derive(Debug)]
pub(crate) struct RetryInterceptor {
    /// The service's IAM prefix (`ecs`), for pacing and messages.
    service: &'static str,
    region: String,
    /// Whether an endpoint URL was set (then the region does not explain a bad endpoint).
    endpoint_overridden: bool,
    notices: bool,
}

impl RetryInterceptor {
    pub(crate) fn new(
        service: &'static str,
        region: &str,
        endpoint_overridden: bool,
        notices: bool,
    ) -> Self {
        RetryInterceptor {
            service,
            region: region.to_string(),
            endpoint_overridden,
            notices,
        }
    }

    fn outcome(
        &self,
        err: &OrchestratorError<Error>,
        ctx: &InterceptorContext,
        rc: &RuntimeComponents,
        log: &CallLog,
    ) -> Outcome {
        let status = ctx.response().map(|r| r.status().as_u16());
        if err.is_timeout_error() || err.as_connector_error().is_some_and(|c| c.is_timeout()) {
            return Outcome::NoAnswer(log.attempt_started.elapsed());
        }
        if err.as_connector_error().is_some_and(|c| c.is_io()) {
            return Outcome::CannotConnect;
        }
        if unreadable(err, ctx) {
            return Outcome::Unreadable(status);
        }
        match run_classifiers_on_ctx(rc.retry_classifiers(), ctx) {
            RetryAction::RetryIndicated(RetryReason::RetryableError { kind, .. }) => match kind {
                ErrorKind::ThrottlingError => Outcome::Throttled,
                _ => Outcome::ServerError(status),
            },
            _ => Outcome::Other,
        }
    }
}

fn log_of(cfg: &ConfigBag) -> CallLog {
    cfg.load::<CallLog>().cloned().unwrap_or_else(|| {
        let now = Instant::now();
        CallLog {
            started: now,
            attempt_started: now,
            endpoint: None,
            action: None,
            history: Vec::new(),
        }
    })
}

impl Intercept for RetryInterceptor {
    fn name(&self) -> &'static str {
        "envctl-retry"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let now = Instant::now();
        let mut log = log_of(cfg);
        log.started = now;
        log.attempt_started = now;
        cfg.interceptor_state().store_put(log);
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let mut log = log_of(cfg);
        let attempt = cfg.load::<RequestAttempts>().map_or(1, |a| a.attempts());
        if let (true, Some(previous), Some(action)) =
            (self.notices, log.history.last(), &log.action)
        {
            if attempt > 1 && worth_a_notice(log.started.elapsed(), previous) {
                let max = cfg
                    .load::<RetryConfig>()
                    .map_or(attempt, |r| r.max_attempts());
                eprintln!("retrying {action} ({previous}), attempt {attempt}/{max}");
            }
        }
        log.attempt_started = Instant::now();
        cfg.interceptor_state().store_put(log);
        Ok(())
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let mut log = log_of(cfg);
        if let Some(meta) = cfg.load::<Metadata>() {
            log.action = Some(format!("{}:{}", self.service, meta.name()));
            context
                .request_mut()
                .add_extension(PaceKey::new(self.service, meta.name()));
        }
        log.endpoint = Some(origin(context.request().uri()));
        cfg.interceptor_state().store_put(log);
        Ok(())
    }

    fn modify_before_attempt_completion(
        &self,
        context: &mut FinalizerInterceptorContextMut<'_>,
        rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let mut log = log_of(cfg);
        let Some(Err(err)) = context.output_or_error() else {
            return Ok(());
        };
        let outcome = self.outcome(err, context.inner(), rc, &log);
        log.history.push(outcome);
        let count = |f: fn(&Outcome) -> bool| log.history.iter().filter(|o| f(o)).count() as u32;
        let give_up = count(|o| matches!(o, Outcome::NoAnswer(_))) >= MAX_NO_ANSWER
            || count(|o| matches!(o, Outcome::CannotConnect)) >= MAX_CANNOT_CONNECT;
        cfg.interceptor_state().store_put(log);
        if give_up {
            if let Some(Err(err)) = context.output_or_error_mut() {
                rewrap(err, |source| Box::new(GaveUp(source)));
            }
        }
        Ok(())
    }

    fn modify_before_completion(
        &self,
        context: &mut FinalizerInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let log = log_of(cfg);
        let transport = match context.output_or_error() {
            Some(Err(err)) => {
                err.is_timeout_error()
                    || unreadable(err, context.inner())
                    || err
                        .as_connector_error()
                        .is_some_and(|c| c.is_timeout() || c.is_io())
            }
            _ => false,
        };
        let (Some(endpoint), true) = (log.endpoint.clone(), transport) else {
            return Ok(());
        };
        let Some(Err(err)) = context.output_or_error_mut() else {
            return Ok(());
        };
        let elapsed = log.started.elapsed();
        // An operation timeout cancels the attempt in flight (the SDK still settles it, so it is
        // in the history as "no answer").
        let limit = cfg
            .load::<TimeoutConfig>()
            .and_then(|t| t.operation_timeout());
        let timed_out = err.is_timeout_error() && limit.is_some_and(|l| elapsed >= l);
        let region = (!self.endpoint_overridden).then(|| self.region.clone());
        rewrap(err, |source| {
            Box::new(TransportError {
                endpoint,
                region,
                attempts: log.history,
                elapsed,
                timed_out,
                source,
            })
        });
        Ok(())
    }
}

/// A reply came but could not be read as the service's protocol: the SDK reports it as a
/// response error, or as an "other" error raised while deserializing.
fn unreadable(err: &OrchestratorError<Error>, ctx: &InterceptorContext) -> bool {
    err.is_response_error()
        || (ctx.response().is_some()
            && !err.is_operation_error()
            && !err.is_interceptor_error()
            && !err.is_timeout_error()
            && !err.is_connector_error())
}

/// Replaces `err` with one of the same kind (so the SDK classifies and reports it as before)
/// whose source is `wrap(err)`.
fn rewrap(
    err: &mut OrchestratorError<Error>,
    wrap: impl FnOnce(BoxError) -> Box<dyn std::error::Error + Send + Sync>,
) {
    let taken = std::mem::replace(err, OrchestratorError::other("taken for wrapping"));
    *err = if taken.is_timeout_error() {
        OrchestratorError::timeout(wrap(Box::new(taken)))
    } else if taken.is_response_error() {
        OrchestratorError::response(wrap(Box::new(taken)))
    } else if let Some(c) = taken.as_connector_error() {
        let (timeout, io, other) = (c.is_timeout(), c.is_io(), c.as_other());
        let source = wrap(Box::new(taken));
        OrchestratorError::connector(if timeout {
            ConnectorError::timeout(source)
        } else if io {
            ConnectorError::io(source)
        } else {
            ConnectorError::other(source, other)
        })
    } else if taken.is_operation_error() || taken.is_interceptor_error() {
        taken
    } else {
        // "Other": the SDK turns it into a response error after deserialization.
        OrchestratorError::other(wrap(Box::new(taken)))
    };
}

/// The first error of type `T` in `err`'s source chain.
pub(crate) fn find<'a, T: std::error::Error + 'static>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        cur = e.source();
    }
    None
}

/// `https://ecs.eu-west-1.amazonaws.com` of a request URI: where the call went, without the
/// path or query (which can carry resource names or presigned parameters).
fn origin(uri: &str) -> String {
    match uri.split_once("://") {
        Some((scheme, rest)) => {
            let authority = rest.split(['/', '?']).next().unwrap_or(rest);
            format!("{scheme}://{authority}")
        }
        None => uri.to_string(),
    }
}

/// `20s`, `1.5s`, `250ms`: for messages.
pub(crate) fn seconds(d: Duration) -> String {
    if d >= Duration::from_secs(10) {
        format!("{}s", d.as_secs_f64().round())
    } else if d >= Duration::from_secs(1) {
        format!("{:.1}s", d.as_secs_f64()).replace(".0s", "s")
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_black_hole_fails_within_45_seconds_by_default() {
        let t = timeout_config(DEFAULT_OPERATION_TIMEOUT);
        let read = t.read_timeout().expect("a read timeout");
        let operation = t.operation_timeout().expect("an operation timeout");
        // Two unanswered attempts and the longest backoff between them fit in the bound,
        // and the bound leaves time to start and to report.
        assert!(read * MAX_NO_ANSWER + MAX_BACKOFF > operation);
        assert!(operation <= Duration::from_secs(40));
        assert!(t.connect_timeout().expect("a connect timeout") <= read);
    }

    #[test]
    fn retries_are_standard_with_a_short_backoff() {
        let r = retry_config(DEFAULT_MAX_ATTEMPTS);
        assert_eq!(r.mode(), aws_smithy_types::retry::RetryMode::Standard);
        assert_eq!(r.max_attempts(), 12);
        assert!(r.initial_backoff() <= Duration::from_millis(100));
        assert_eq!(retry_config(0).max_attempts(), 1);
    }

    #[test]
    fn quick_retries_are_silent_slow_ones_and_timeouts_are_announced() {
        let quick = Duration::from_millis(400);
        assert!(!worth_a_notice(quick, &Outcome::Throttled));
        assert!(!worth_a_notice(quick, &Outcome::ServerError(Some(503))));
        assert!(worth_a_notice(Duration::from_secs(4), &Outcome::Throttled));
        assert!(worth_a_notice(
            quick,
            &Outcome::NoAnswer(Duration::from_secs(20))
        ));
    }

    #[test]
    fn outcomes_read_as_the_reason_for_a_retry() {
        assert_eq!(Outcome::Throttled.to_string(), "throttled");
        assert_eq!(Outcome::ServerError(Some(503)).to_string(), "HTTP 503");
        assert_eq!(
            Outcome::NoAnswer(Duration::from_millis(20_004)).to_string(),
            "no answer within 20s"
        );
    }

    #[test]
    fn endpoints_are_named_without_path_or_query() {
        assert_eq!(
            origin("https://ecs.eu-west-1.amazonaws.com/"),
            "https://ecs.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            origin("http://127.0.0.1:4566/schedules/x?groupName=g"),
            "http://127.0.0.1:4566"
        );
    }

    #[test]
    fn durations_read_like_a_person_would_write_them() {
        assert_eq!(seconds(Duration::from_millis(250)), "250ms");
        assert_eq!(seconds(Duration::from_millis(1500)), "1.5s");
        assert_eq!(seconds(Duration::from_millis(2000)), "2s");
        assert_eq!(seconds(Duration::from_millis(40_300)), "40s");
    }

    #[test]
    fn transport_errors_name_the_endpoint_and_the_cause() {
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused here");
        let e = TransportError {
            endpoint: "http://127.0.0.1:9".into(),
            region: None,
            attempts: vec![Outcome::CannotConnect; 3],
            elapsed: Duration::from_millis(300),
            timed_out: false,
            source: Box::new(ConnectorError::io(Box::new(refused))),
        };
        assert_eq!(
            e.to_string(),
            "cannot connect to http://127.0.0.1:9: refused here (3 attempts in 300ms)"
        );
        let throttled = TransportError {
            endpoint: "https://ecs.eu-west-1.amazonaws.com".into(),
            region: Some("eu-west-1".into()),
            attempts: vec![
                Outcome::Throttled,
                Outcome::Throttled,
                Outcome::ServerError(Some(503)),
                Outcome::NoAnswer(Duration::from_secs(3)),
            ],
            elapsed: Duration::from_secs(40),
            timed_out: true,
            source: Box::new(ConnectorError::timeout("cut".into())),
        };
        assert_eq!(
            throttled.to_string(),
            "no result from https://ecs.eu-west-1.amazonaws.com within 40s: 4 attempts \
             (2 throttled, 1 HTTP 503, 1 no answer within 3s)"
        );
    }
}
