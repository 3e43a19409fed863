//! Every integration test, in one test binary: each former `tests/*.rs` file is a module here, so
//! the envctl library and the AWS SDK crates are linked once instead of once per file (cargo's own
//! layout). Run one module with `cargo test --test testsuite <module>::`.

mod support;

mod aws_build;
mod aws_codebuild;
mod aws_ecs;
mod aws_elbv2;
mod aws_events;
mod aws_iam;
mod aws_scheduler;
mod aws_services;
mod bootstrap;
mod builds;
mod ci_github;
mod cli;
mod commands;
mod cost;
mod ctrl_c;
mod database;
mod database_sql;
mod dist;
mod e2e;
mod exec;
mod faults;
mod harness_smoke;
mod iam_policy;
mod import;
mod janitor;
mod janitor_policy;
mod lifecycle;
mod logs;
mod plan_snapshots;
mod preview;
mod preview_plan;
mod races;
mod reads;
mod rejections;
mod service_connect;
mod tasks;
mod terminal;
mod walkthrough;
