//! `down`: find everything tagged for the env and delete it; what is already gone is success.

use serde::Serialize;

use crate::apply::{self, Applied};
use crate::error::Result;
use crate::naming::EnvName;
use crate::observe;
use crate::ops::Session;
use crate::plan::{self, Plan};

#[derive(Debug, Clone, Serialize)]
pub struct DownReport {
    pub app: String,
    pub env: String,
    pub plan: Plan,
    pub applied: Applied,
}

/// Observes and plans the teardown (reads only).
pub async fn plan(session: &Session, env: &EnvName) -> Result<Plan> {
    let cfg = session.load_config(&[])?;
    let aws = session.aws(Some(&cfg)).await?;
    let actual =
        observe::env_for_down(aws, &cfg.config.app, &env.slug, &cfg.cluster_name()).await?;
    Ok(plan::plan_down(&cfg.config.app, env.slug.as_str(), &actual))
}

pub async fn apply(session: &Session, plan: Plan) -> Result<DownReport> {
    let cfg = session.load_config(&[])?;
    let aws = session.aws(Some(&cfg)).await?;
    let applied = apply::apply(
        aws,
        &plan,
        apply::DEFAULT_CONCURRENCY,
        &session.printer.progress(),
    )
    .await?;
    Ok(DownReport {
        app: plan.app.clone(),
        env: plan.env.clone(),
        plan,
        applied,
    })
}
