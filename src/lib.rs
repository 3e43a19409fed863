//! envctl: short-lived per-branch Fargate Spot environments on AWS.
//!
//! The pipeline is config → render → observe → plan → apply → report, one module per stage;
//! `aws/` is the only place that calls AWS.

pub mod apply;
pub mod aws;
pub mod build;
pub mod cli;
pub mod commands;
pub mod config;
pub mod cost;
pub mod database;
pub mod dist;
pub mod dotenv;
pub mod error;
pub mod import;
pub mod interrupt;
pub mod janitor;
#[cfg(test)]
mod layers;
pub mod model;
pub mod naming;
pub mod normalize;
pub mod observe;
pub mod ops;
pub mod output;
pub mod plan;
pub mod render;
pub mod schedule;
pub mod validate;
