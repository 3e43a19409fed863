//! envctl: short-lived per-branch Fargate Spot environments on AWS.
//!
//! The pipeline is config → render → observe → plan → apply → report, one module per stage;
//! `aws/` is the only place that calls AWS.

pub mod aws;
pub mod model;
