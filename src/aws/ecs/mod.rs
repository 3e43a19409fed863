//! Every ECS call envctl makes (clusters, services, task definitions, stopped tasks), and the
//! conversions between the SDK's types and `crate::model`, so no other module sees `aws_sdk_ecs`:
//! `calls.rs` sends the requests, `convert.rs` turns replies into the model and the model into requests.

mod calls;
mod convert;
mod exec;
