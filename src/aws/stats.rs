//! Counts AWS API calls per service and operation (`--stats`): how envctl's speed and its
//! "a converged env makes zero writes" promise are measured.

use std::collections::BTreeMap;
use std::sync::Mutex;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use serde::Serialize;
use std::sync::Arc;

/// Calls made so far, keyed by (service, operation).
#[derive(Debug, Default)]
pub struct CallStats {
    calls: Mutex<BTreeMap<(String, String), u64>>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CallCount {
    pub service: String,
    pub operation: String,
    pub calls: u64,
    pub write: bool,
}

impl CallStats {
    pub fn record(&self, service: &str, operation: &str) {
        let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        *calls
            .entry((service.to_string(), operation.to_string()))
            .or_default() += 1;
    }

    /// Calls made so far, all services and operations.
    pub fn total(&self) -> u64 {
        let calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        calls.values().sum()
    }

    pub fn snapshot(&self) -> Vec<CallCount> {
        let calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        calls
            .iter()
            .map(|((service, operation), n)| CallCount {
                service: service.clone(),
                operation: operation.clone(),
                calls: *n,
                write: is_write(operation),
            })
            .collect()
    }
}

/// Read operations in every service envctl uses start with one of these verbs; anything else
/// changes state.
pub fn is_write(operation: &str) -> bool {
    const READ_PREFIXES: [&str; 5] = ["Describe", "List", "Get", "BatchGet", "Head"];
    !READ_PREFIXES.iter().any(|p| operation.starts_with(p))
}

#[derive(Debug)]
pub(crate) struct StatsInterceptor {
    stats: Arc<CallStats>,
}

impl StatsInterceptor {
    pub(crate) fn new(stats: Arc<CallStats>) -> Self {
        Self { stats }
    }
}

impl Intercept for StatsInterceptor {
    fn name(&self) -> &'static str {
        "envctl-call-stats"
    }

    // Metadata is in the config bag once the operation's config is resolved (not yet in
    // read_before_execution); this hook runs once per operation, before any retry.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(meta) = cfg.load::<Metadata>() {
            self.stats.record(meta.service(), meta.name());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_reads_and_writes() {
        assert!(!is_write("DescribeServices"));
        assert!(!is_write("GetParametersByPath"));
        assert!(!is_write("ListTagsForResource"));
        // S3's HeadBucket: bootstrap's read of the build bucket.
        assert!(!is_write("HeadBucket"));
        assert!(is_write("CreateService"));
        assert!(is_write("RegisterTaskDefinition"));
        assert!(is_write("BatchDeleteImage"));
    }

    #[test]
    fn counts_per_operation() {
        let s = CallStats::default();
        s.record("ECS", "DescribeServices");
        s.record("ECS", "DescribeServices");
        s.record("ECS", "CreateService");
        let snap = s.snapshot();
        assert_eq!(s.total(), 3);
        assert_eq!(snap.len(), 2);
        assert_eq!(snap[0].operation, "CreateService");
        assert!(snap[0].write);
        assert_eq!(snap[1].calls, 2);
    }
}
