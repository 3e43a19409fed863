//! `ls` and `status`: read-only views of an app's envs, built from ECS services and their tags.

use std::collections::BTreeMap;

use futures::future::try_join_all;
use serde::Serialize;

use crate::error::Result;
use crate::model::{
    ownership, Ownership, ServiceEvent, StoppedTask, TAG_APP, TAG_BRANCH, TAG_CREATED_AT, TAG_ENV,
    TAG_MANAGED_BY, TAG_OWNER,
};
use crate::naming::{self, EnvName};
use crate::observe;
use crate::ops::wait::{self, ServiceReport};
use crate::ops::Session;

#[derive(Debug, Clone, Serialize)]
pub struct EnvSummary {
    pub env: String,
    pub branch: String,
    pub owner: String,
    pub services: usize,
    pub desired: i32,
    pub running: i32,
    pub created_at: String,
    /// Newest deployment update across the env's services.
    pub last_deploy: Option<String>,
}

pub async fn ls(session: &Session) -> Result<Vec<EnvSummary>> {
    let (app, aws, cluster) = bootstrapped(session).await?;
    let names: Vec<String> = aws
        .list_service_names(&cluster)
        .await?
        .into_iter()
        .filter(|n| n.starts_with(&format!("{app}-")))
        .collect();
    let services = aws.describe_services(&cluster, &names).await?;
    let mut envs: BTreeMap<String, EnvSummary> = BTreeMap::new();
    for s in services {
        let t = &s.tags;
        if t.get(TAG_MANAGED_BY).map(String::as_str) != Some("envctl")
            || t.get(TAG_APP) != Some(&app)
        {
            continue;
        }
        let Some(env) = t.get(TAG_ENV) else { continue };
        let e = envs.entry(env.clone()).or_insert_with(|| EnvSummary {
            env: env.clone(),
            branch: t.get(TAG_BRANCH).cloned().unwrap_or_default(),
            owner: t.get(TAG_OWNER).cloned().unwrap_or_default(),
            services: 0,
            desired: 0,
            running: 0,
            created_at: t.get(TAG_CREATED_AT).cloned().unwrap_or_default(),
            last_deploy: None,
        });
        e.services += 1;
        e.desired += s.desired_count;
        e.running += s.running_count;
        if let Some(c) = t.get(TAG_CREATED_AT) {
            if e.created_at.is_empty() || *c < e.created_at {
                e.created_at = c.clone();
            }
        }
        let newest = s
            .deployments
            .iter()
            .filter_map(|d| d.updated_at.clone())
            .max();
        if newest > e.last_deploy {
            e.last_deploy = newest;
        }
    }
    Ok(envs.into_values().collect())
}

#[derive(Debug, Clone, Serialize)]
pub struct ServiceStatus {
    #[serde(flatten)]
    pub summary: ServiceReport,
    pub events: Vec<ServiceEvent>,
    pub stopped_tasks: Vec<StoppedTask>,
    pub spot_interruptions: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct EnvStatus {
    pub app: String,
    pub env: String,
    pub cluster: String,
    pub services: Vec<ServiceStatus>,
}

pub async fn status(session: &Session, env: &EnvName) -> Result<EnvStatus> {
    let (app, aws, cluster) = bootstrapped(session).await?;
    let prefix = naming::service_prefix(&app, &env.slug);
    let names: Vec<String> = aws
        .list_service_names(&cluster)
        .await?
        .into_iter()
        .filter(|n| n.starts_with(&prefix))
        .collect();
    let services: Vec<_> = aws
        .describe_services(&cluster, &names)
        .await?
        .into_iter()
        .filter(|s| ownership(&s.tags, &app, env.slug.as_str()) == Ownership::Ours)
        .collect();
    let stopped = try_join_all(
        services
            .iter()
            .map(|s| aws.list_stopped_tasks(&cluster, &s.name, 5)),
    )
    .await?;
    let mut out = Vec::new();
    for (s, stopped_tasks) in services.into_iter().zip(stopped) {
        out.push(ServiceStatus {
            summary: wait::report(&s),
            events: s.events.clone(),
            spot_interruptions: stopped_tasks
                .iter()
                .filter(|t| t.is_spot_interruption())
                .count(),
            stopped_tasks,
        });
    }
    Ok(EnvStatus {
        app,
        env: env.slug.as_str().to_string(),
        cluster,
        services: out,
    })
}

/// The app name, AWS clients and cluster name, once the cluster is known to exist.
async fn bootstrapped(session: &Session) -> Result<(String, &crate::aws::Aws, String)> {
    let cfg = session.load_config(&[])?;
    let aws = session.aws(Some(&cfg)).await?;
    let cluster = cfg.cluster_name();
    if aws.describe_cluster(&cluster).await?.is_none() {
        return Err(observe::not_bootstrapped(&cluster));
    }
    Ok((cfg.config.app, aws, cluster))
}
