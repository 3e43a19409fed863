//! `bootstrap`: the app-wide pieces every env shares (ECS cluster with Fargate and Fargate Spot,
//! task execution role, the task role ECS Exec needs). Observe first, create only what is
//! missing; never adopt foreign ones.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::{app_ownership, app_tags, Ownership, TAG_PREVIEW_LISTENER};
use crate::naming;
use crate::ops::{self, Session};
use crate::plan::Conflict;

#[derive(Debug, Clone, Serialize)]
pub struct BootstrapReport {
    pub app: String,
    pub region: String,
    pub cluster: String,
    pub cluster_created: bool,
    pub execution_role: String,
    pub execution_role_created: bool,
    /// The role stop/start schedules run as (absent with `schedule.enabled = false`).
    pub scheduler_role: Option<String>,
    pub scheduler_role_created: bool,
    /// The role the env's tasks run as for ECS Exec (absent with `[exec] enabled = false` or
    /// `roles.task_role_arn` set).
    pub task_role: Option<String>,
    pub task_role_created: bool,
    /// The preview listener (`[preview]` enabled without a listener ARN of the user's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview: Option<PreviewAlb>,
    /// The build bucket and role, when a service has a `build` table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub builds: Option<BuildInfra>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PreviewAlb {
    pub load_balancer: String,
    pub dns_name: String,
    pub listener_arn: String,
    pub created: bool,
}

pub async fn bootstrap(session: &Session) -> Result<BootstrapReport> {
    let cfg = session.load_config(&[])?;
    let aws = session.aws(Some(&cfg)).await?;
    let app = cfg.config.app.as_str();
    let cluster_name = cfg.cluster_name();
    let role_name = naming::execution_role(app);
    let tags = app_tags(app, &ops::owner(), &ops::now_rfc3339());

    let scheduler_role_name = naming::scheduler_role(app);
    let task_role_name = naming::task_role(app);
    let wants_task_role = cfg.config.exec.enabled && cfg.config.roles.task_role_arn.is_none();
    let task_role = async {
        if wants_task_role {
            aws.get_role(&task_role_name).await
        } else {
            Ok(None)
        }
    };
    let (cluster, role, scheduler_role, task_role, account) = futures::try_join!(
        aws.describe_cluster(&cluster_name),
        aws.get_role(&role_name),
        aws.get_role(&scheduler_role_name),
        task_role,
        aws.account_id()
    )?;

    let mut conflicts = Vec::new();
    if let Some(c) = &cluster {
        let owner = app_ownership(&c.tags, app);
        if owner != Ownership::Ours && !cfg.config.cluster.existing {
            conflicts.push(Conflict {
                kind: "ECS cluster".into(),
                name: cluster_name.clone(),
                owner,
            });
        }
    } else if cfg.config.cluster.existing {
        return Err(Error::Precondition {
            message: format!(
                "cluster.existing is set, but the ECS cluster `{cluster_name}` does not exist"
            ),
            hint: "fix cluster.name, or remove cluster.existing to let bootstrap create it".into(),
        });
    }
    if cfg.config.roles.execution_role_arn.is_none() {
        if let Some(r) = &role {
            let owner = app_ownership(&r.tags, app);
            if owner != Ownership::Ours {
                conflicts.push(Conflict {
                    kind: "IAM role".into(),
                    name: role_name.clone(),
                    owner,
                });
            }
        }
    }
    if let Some(r) = scheduler_role
        .as_ref()
        .filter(|_| cfg.config.schedule.enabled)
    {
        let owner = app_ownership(&r.tags, app);
        if owner != Ownership::Ours {
            conflicts.push(Conflict {
                kind: "IAM role".into(),
                name: scheduler_role_name.clone(),
                owner,
            });
        }
    }
    if let Some(r) = &task_role {
        let owner = app_ownership(&r.tags, app);
        if owner != Ownership::Ours {
            conflicts.push(Conflict {
                kind: "IAM role".into(),
                name: task_role_name.clone(),
                owner,
            });
        }
    }
    if !conflicts.is_empty() {
        return Err(Error::Conflicts(conflicts));
    }

    let printer = &session.printer;
    let cluster_created = cluster.is_none();
    let cluster = match cluster {
        Some(c) => c,
        None => {
            printer.status(format!(
                "  + create ECS cluster {cluster_name} (FARGATE, FARGATE_SPOT)"
            ));
            // CreateCluster succeeds for a name that exists already (it answers with that
            // cluster), so a cluster made by someone else after the read above would pass
            // unnoticed: read its tags again.
            let created = aws.create_cluster(&cluster_name, &tags).await?;
            let cluster = aws
                .describe_cluster(&cluster_name)
                .await?
                .unwrap_or(created);
            let owner = app_ownership(&cluster.tags, app);
            if owner != Ownership::Ours {
                return Err(Error::Conflicts(vec![Conflict {
                    kind: "ECS cluster".into(),
                    name: cluster_name.clone(),
                    owner,
                }]));
            }
            cluster
        }
    };
    let mut execution_role = cfg
        .config
        .roles
        .execution_role_arn
        .clone()
        .unwrap_or_default();
    let mut execution_role_created = false;
    if execution_role.is_empty() {
        execution_role_created = role.is_none();
        if execution_role_created {
            printer.status(format!("  + create IAM role {role_name} (ECS task execution, reads /envctl/{app}/ parameters)"));
        }
        // Also for an existing role: a bootstrap that crashed right after creating it may have
        // left its policies unattached. This writes only what is missing or different. The role
        // is global, so the parameter ARNs cover every region.
        let prefix = format!("arn:aws:ssm:*:{account}:parameter/envctl/{app}/");
        execution_role = aws
            .create_task_execution_role(&role_name, &prefix, &tags)
            .await?
            .arn;
    }
    let mut scheduler_role_arn = None;
    let scheduler_role_created = cfg.config.schedule.enabled && scheduler_role.is_none();
    if cfg.config.schedule.enabled {
        if scheduler_role_created {
            printer.status(format!(
                "  + create IAM role {scheduler_role_name} (EventBridge Scheduler: ecs:UpdateService on {app}-* services)"
            ));
        }
        let policy = scheduler_policy(&account, &cluster_name, app);
        let r = aws
            .ensure_service_role(
                &scheduler_role_name,
                "scheduler.amazonaws.com",
                "envctl-stop-start",
                &policy,
                &tags,
            )
            .await?;
        scheduler_role_arn = Some(r.arn);
    }
    // Like the scheduler role: also for an existing role, so a bootstrap cut off after
    // CreateRole still gets its policy; a converged role costs reads only.
    let task_role_created = wants_task_role && task_role.is_none();
    let mut task_role_arn = None;
    if wants_task_role {
        if task_role_created {
            printer.status(format!(
                "  + create IAM role {task_role_name} (task role: ECS Exec's ssmmessages channels)"
            ));
        }
        let r = aws
            .ensure_service_role(
                &task_role_name,
                "ecs-tasks.amazonaws.com",
                EXEC_POLICY_NAME,
                &exec_policy(),
                &tags,
            )
            .await?;
        task_role_arn = Some(r.arn);
    }
    let preview = preview_alb(aws, &cfg, &tags).await?;
    // A cluster of the user's (`cluster.existing`) is left as it is: per-env commands then find
    // the listener by the ALB's name, two round trips later.
    let listener_recorded = match &preview {
        Some(p)
            if !cfg.config.cluster.existing
                && cluster.tags.get(TAG_PREVIEW_LISTENER) != Some(&p.listener_arn) =>
        {
            printer.status(format!(
                "  + record the preview listener on cluster {cluster_name}"
            ));
            let mut t = crate::model::Tags::new();
            t.insert(TAG_PREVIEW_LISTENER.into(), p.listener_arn.clone());
            aws.tag_resource(&cluster.arn, &t).await?;
            true
        }
        _ => false,
    };
    let builds = build_infra(aws, &cfg, &account, &tags).await?;
    if let Some(b) = &builds {
        if b.bucket_created {
            printer.status(format!(
                "  + create S3 bucket {} (build cache, uploaded sources)",
                b.bucket
            ));
        }
    }
    if let Some(p) = &preview {
        if p.created {
            printer.status(format!(
                "  + create ALB {} with an HTTP listener (default: 404)",
                p.load_balancer
            ));
        }
    }
    let alb_created = preview.as_ref().is_some_and(|p| p.created);
    if !cluster_created
        && !execution_role_created
        && !scheduler_role_created
        && !task_role_created
        && !alb_created
        && !listener_recorded
    {
        printer.status(format!(
            "Nothing to do: app `{app}` is already bootstrapped in {}.",
            aws.region
        ));
    }
    Ok(BootstrapReport {
        app: app.to_string(),
        region: aws.region.clone(),
        cluster: cluster_name,
        cluster_created,
        execution_role,
        execution_role_created,
        scheduler_role: scheduler_role_arn,
        preview,
        builds,
        scheduler_role_created,
        task_role: task_role_arn,
        task_role_created,
    })
}

/// The inline policy envctl owns on the task role.
pub const EXEC_POLICY_NAME: &str = "envctl-exec";

/// What the ECS Exec agent in a task does: open the Session Manager control and data channels.
/// These actions have no resource-level permissions, hence `*`.
pub fn exec_policy() -> serde_json::Value {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "EcsExecChannels",
            "Effect": "Allow",
            "Action": [
                "ssmmessages:CreateControlChannel",
                "ssmmessages:CreateDataChannel",
                "ssmmessages:OpenControlChannel",
                "ssmmessages:OpenDataChannel",
            ],
            "Resource": "*",
        }],
    })
}

/// Only what a stop/start schedule does: set the desired count of this app's services.
fn scheduler_policy(account: &str, cluster: &str, app: &str) -> serde_json::Value {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "StopStartAppServices",
            "Effect": "Allow",
            "Action": ["ecs:UpdateService"],
            "Resource": format!("arn:aws:ecs:*:{account}:service/{cluster}/{app}-*"),
        }],
    })
}

/// The shared preview ALB: only when previews are on and the user names no listener of their
/// own. An ALB with the name that envctl does not own is a conflict, never adopted.
async fn preview_alb(
    aws: &crate::aws::Aws,
    cfg: &crate::config::LoadedConfig,
    tags: &crate::model::Tags,
) -> Result<Option<PreviewAlb>> {
    let p = &cfg.config.preview;
    if !p.enabled || !p.listener_arn.is_empty() {
        return Ok(None);
    }
    let app = cfg.config.app.as_str();
    let name = naming::load_balancer(app);
    let (lb_arn, dns_name, created) = match aws.describe_load_balancer_by_name(&name).await? {
        Some((arn, dns, lb_tags)) => {
            let owner = app_ownership(&lb_tags, app);
            if owner != Ownership::Ours {
                return Err(Error::Conflicts(vec![Conflict {
                    kind: "load balancer".into(),
                    name,
                    owner,
                }]));
            }
            (arn, dns, false)
        }
        None => {
            let (subnets, security_groups, _) = crate::observe::network(aws, cfg).await?;
            let (arn, dns) = aws
                .create_load_balancer(&name, &subnets, &security_groups, tags)
                .await?;
            (arn, dns, true)
        }
    };
    let listener_arn = match aws.listeners_of(&lb_arn).await?.into_iter().next() {
        Some(l) => l.arn,
        None => aws.create_http_listener(&lb_arn, 80, tags).await?,
    };
    Ok(Some(PreviewAlb {
        load_balancer: name,
        dns_name,
        listener_arn,
        created,
    }))
}

#[derive(Debug, Clone, Serialize)]
pub struct BuildInfra {
    pub bucket: String,
    pub bucket_created: bool,
    pub role: String,
}

/// The build bucket and CodeBuild role, only for apps with a service that has a `build` table.
async fn build_infra(
    aws: &crate::aws::Aws,
    cfg: &crate::config::LoadedConfig,
    account: &str,
    tags: &crate::model::Tags,
) -> Result<Option<BuildInfra>> {
    let c = &cfg.config;
    if !c.services.values().any(|s| s.build.is_some()) {
        return Ok(None);
    }
    let bucket = naming::build_bucket(&c.app, account, &aws.region);
    let bucket_created = match aws.bucket_tags(&bucket).await? {
        Some(t) => {
            let owner = app_ownership(&t, &c.app);
            if owner != Ownership::Ours {
                return Err(Error::Conflicts(vec![Conflict {
                    kind: "S3 bucket".into(),
                    name: bucket,
                    owner,
                }]));
            }
            false
        }
        None => {
            aws.create_bucket(&bucket, tags).await?;
            true
        }
    };
    // The app-wide BuildKit layer caches, one per built service (never touched by `down`).
    for (key, _) in c.services.iter().filter(|(_, s)| s.build.is_some()) {
        let name = naming::build_cache_repository(&c.app, key);
        match aws.describe_repository(&name).await? {
            Some(r) => {
                let owner = app_ownership(&r.tags, &c.app);
                if owner != Ownership::Ours {
                    return Err(Error::Conflicts(vec![Conflict {
                        kind: "ECR repository".into(),
                        name,
                        owner,
                    }]));
                }
            }
            None => {
                if let Err(e) = aws.create_repository(&name, tags).await {
                    // Created by another bootstrap after the read above: fine when ours.
                    if !e.is_already_exists() {
                        return Err(e.into());
                    }
                    let Some(found) = aws.describe_repository(&name).await? else {
                        return Err(e.into());
                    };
                    let owner = app_ownership(&found.tags, &c.app);
                    if owner != Ownership::Ours {
                        return Err(Error::Conflicts(vec![Conflict {
                            kind: "ECR repository".into(),
                            name,
                            owner,
                        }]));
                    }
                }
            }
        }
    }
    let role = aws
        .ensure_service_role(
            &naming::build_role(&c.app),
            "codebuild.amazonaws.com",
            "envctl-build",
            &build_policy(account, &c.app, &bucket),
            tags,
        )
        .await?;
    Ok(Some(BuildInfra {
        bucket,
        bucket_created,
        role: role.arn,
    }))
}

/// What an image build does: push to the app's repositories (also the BuildKit cache tag), use
/// the bucket, write its logs, and read a CodeCommit source.
fn build_policy(account: &str, app: &str, bucket: &str) -> serde_json::Value {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            { "Sid": "EcrLogin", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*" },
            {
                "Sid": "PushAppImages",
                "Effect": "Allow",
                "Action": [
                    "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                    "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage"
                ],
                "Resource": [
                    format!("arn:aws:ecr:*:{account}:repository/envctl/{app}/*"),
                    format!("arn:aws:ecr:*:{account}:repository/envctl/{app}-cache/*"),
                ],
            },
            {
                "Sid": "BuildBucket",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:GetBucketLocation", "s3:ListBucket"],
                "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")],
            },
            {
                "Sid": "BuildLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": format!("arn:aws:logs:*:{account}:log-group:/aws/codebuild/envctl-{app}-*"),
            },
            {
                "Sid": "CodeCommitSource",
                "Effect": "Allow",
                "Action": ["codecommit:GitPull"],
                "Resource": format!("arn:aws:codecommit:*:{account}:*"),
            },
        ],
    })
}
