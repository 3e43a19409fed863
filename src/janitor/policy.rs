//! The janitor's IAM policies, from one table of what `envctl gc --yes` (and so `down`) calls.
//! The table is the only source: the installed role policy is rendered from it, and an emulator
//! test checks it against the requests `gc` and `down` really make, in both directions.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::naming;

/// Where the janitor's policies may act: this app's names, in this account and region.
#[derive(Debug, Clone)]
pub struct PolicyScope<'a> {
    pub partition: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub app: &'a str,
    pub cluster: &'a str,
    /// Whether envs of this app have preview URLs (their rules and target groups go with them).
    pub previews: bool,
    /// Whether `down` runs one-off tasks (`before_destroy` hooks, the database drop), and the
    /// roles those tasks are passed (the execution role, and the task role if any).
    pub one_off_tasks: bool,
    /// Whether envs have a `[database]`: `down` looks up the network the drop task runs in.
    pub database: bool,
    pub task_roles: Vec<String>,
    /// (region, repository) of a CodeCommit source.
    pub codecommit_repo: Option<(&'a str, &'a str)>,
}

/// Which resources a statement covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Actions AWS does not scope to resources (Describe/List calls, DeregisterTaskDefinition).
    Any,
    EnvServices,
    AppParameters,
    AppRepositories,
    AppLogGroups,
    AppScheduleGroups,
    /// Listener rules on any ALB: previews may use the team's own listener.
    ListenerRules,
    AppTargetGroups,
    /// Revisions of the app's task definition families.
    AppTaskDefinitions,
    /// Tasks in the app's cluster.
    ClusterTasks,
    AppLogStreams,
    /// The roles a hook's task is passed.
    TaskRoles,
    /// Cloud Map namespaces: their ARNs carry an opaque id, not the name, so they cannot be
    /// scoped to the app's names; envctl checks their ownership tags before deleting.
    Namespaces,
    /// Cloud Map services ECS creates in an env's namespace for Service Connect (opaque ids too).
    CloudMapServices,
    /// The app's schedule groups only (not their schedules).
    AppScheduleGroupsOnly,
    /// The schedules inside the app's schedule groups.
    AppSchedules,
    /// Listeners of any ALB: a preview rule is created on the team's listener or bootstrap's.
    Listeners,
    /// Every role `bootstrap` makes for the app (read to find their ARNs).
    AppRoles,
    /// The scheduler role schedules are created with.
    SchedulerRole,
    /// The role CodeBuild projects run as.
    BuildRole,
    /// The app's per-service build projects (`envctl-<app>-<service>-build`, not the janitor).
    BuildProjects,
    /// The app's build bucket, and the build contexts under its `sources/`.
    BuildBucket,
    BuildSources,
    /// The build projects' CodeBuild log groups (a failed build's last lines).
    BuildLogGroups,
}

/// When a statement applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    Always,
    Previews,
    OneOffTasks,
    Database,
    /// Stop/start schedules are on.
    Schedules,
    /// A service has a `build` table.
    Builds,
}

/// A condition on a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cond {
    None,
    /// `iam:PassedToService`: a role may only be passed to this service.
    PassedTo(&'static str),
    /// `ecs:CreateAction`: tagging allowed only as part of these creates.
    EcsCreateAction(&'static [&'static str]),
}

/// One statement of what a command calls.
struct Grant {
    sid: &'static str,
    actions: &'static [&'static str],
    scope: Scope,
    when: When,
    cond: Cond,
}

/// Every AWS action `gc --yes` and `down` make, and nothing else.
const GC_GRANTS: &[Grant] = &[
    Grant {
        sid: "Discover",
        actions: &[
            "sts:GetCallerIdentity",
            "ecs:DescribeClusters",
            "ecs:ListServices",
            "ecs:DescribeServices",
            "ecs:ListTaskDefinitionFamilies",
            "ecs:ListTaskDefinitions",
            "ecs:DescribeTaskDefinition",
            "ecr:DescribeRepositories",
            "ssm:DescribeParameters",
            "logs:DescribeLogGroups",
            "scheduler:ListSchedules",
        ],
        scope: Scope::Any,
        when: When::Always,
        cond: Cond::None,
    },
    Grant {
        sid: "DeregisterTaskDefinitions",
        actions: &["ecs:DeregisterTaskDefinition"],
        scope: Scope::Any,
        when: When::Always,
        cond: Cond::None,
    },
    Grant {
        sid: "DeleteEnvServices",
        actions: &["ecs:DeleteService"],
        scope: Scope::EnvServices,
        when: When::Always,
        cond: Cond::None,
    },
    Grant {
        sid: "EnvParameters",
        actions: &[
            "ssm:GetParameters",
            "ssm:ListTagsForResource",
            "ssm:DeleteParameters",
        ],
        scope: Scope::AppParameters,
        when: When::Always,
        cond: Cond::None,
    },
    Grant {
        sid: "EnvRepositories",
        actions: &[
            "ecr:ListTagsForResource",
            "ecr:GetLifecyclePolicy",
            "ecr:ListImages",
            "ecr:BatchDeleteImage",
            "ecr:DeleteRepository",
        ],
        scope: Scope::AppRepositories,
        when: When::Always,
        cond: Cond::None,
    },
    Grant {
        sid: "EnvLogGroups",
        actions: &["logs:ListTagsForResource", "logs:DeleteLogGroup"],
        scope: Scope::AppLogGroups,
        when: When::Always,
        cond: Cond::None,
    },
    Grant {
        sid: "EnvSchedules",
        actions: &[
            "scheduler:GetScheduleGroup",
            "scheduler:GetSchedule",
            "scheduler:ListTagsForResource",
            "scheduler:DeleteScheduleGroup",
        ],
        scope: Scope::AppScheduleGroups,
        when: When::Always,
        cond: Cond::None,
    },
    Grant {
        sid: "DiscoverNamespaces",
        actions: &[
            "servicediscovery:ListNamespaces",
            "servicediscovery:GetOperation",
        ],
        scope: Scope::Any,
        when: When::Always,
        cond: Cond::None,
    },
    Grant {
        sid: "EnvNamespaces",
        actions: &[
            "servicediscovery:ListTagsForResource",
            "servicediscovery:DeleteNamespace",
        ],
        scope: Scope::Namespaces,
        when: When::Always,
        cond: Cond::None,
    },
    Grant {
        sid: "DiscoverPreviews",
        actions: &[
            "elasticloadbalancing:DescribeLoadBalancers",
            "elasticloadbalancing:DescribeListeners",
            "elasticloadbalancing:DescribeRules",
            "elasticloadbalancing:DescribeTargetGroups",
            "elasticloadbalancing:DescribeTags",
        ],
        scope: Scope::Any,
        when: When::Previews,
        cond: Cond::None,
    },
    Grant {
        sid: "DeletePreviewRules",
        actions: &["elasticloadbalancing:DeleteRule"],
        scope: Scope::ListenerRules,
        when: When::Previews,
        cond: Cond::None,
    },
    Grant {
        sid: "DeletePreviewTargetGroups",
        actions: &["elasticloadbalancing:DeleteTargetGroup"],
        scope: Scope::AppTargetGroups,
        when: When::Previews,
        cond: Cond::None,
    },
    Grant {
        sid: "DatabaseTaskNetwork",
        actions: &[
            "ec2:DescribeVpcs",
            "ec2:DescribeSubnets",
            "ec2:DescribeSecurityGroups",
        ],
        scope: Scope::Any,
        when: When::Database,
        cond: Cond::None,
    },
    Grant {
        sid: "RunOneOffTasks",
        actions: &["ecs:RunTask"],
        scope: Scope::AppTaskDefinitions,
        when: When::OneOffTasks,
        cond: Cond::None,
    },
    Grant {
        sid: "WatchOneOffTasks",
        actions: &["ecs:DescribeTasks", "ecs:StopTask"],
        scope: Scope::ClusterTasks,
        when: When::OneOffTasks,
        cond: Cond::None,
    },
    Grant {
        sid: "ReadOneOffTaskLogs",
        actions: &["logs:GetLogEvents"],
        scope: Scope::AppLogStreams,
        when: When::OneOffTasks,
        cond: Cond::None,
    },
    Grant {
        sid: "PassTaskRoles",
        actions: &["iam:PassRole"],
        scope: Scope::TaskRoles,
        when: When::OneOffTasks,
        cond: Cond::None,
    },
];

/// Every AWS action `up` makes (render, plan, apply, builds, hooks, wait), and nothing else.
/// `plan` and `render` need the reads among them.
const UP_GRANTS: &[Grant] = &[
    Grant {
        sid: "Discover",
        actions: &[
            "sts:GetCallerIdentity",
            "ec2:DescribeVpcs",
            "ec2:DescribeSubnets",
            "ec2:DescribeSecurityGroups",
            "ecs:DescribeClusters",
            "ecs:DescribeServices",
            "ecs:ListTaskDefinitionFamilies",
            "ecs:ListTaskDefinitions",
            "ecs:DescribeTaskDefinition",
            "ecr:DescribeRepositories",
            "logs:DescribeLogGroups",
            "ssm:DescribeParameters",
            "servicediscovery:ListNamespaces",
            "servicediscovery:GetOperation",
        ],
        scope: Scope::Any,
        when: When::Always,
        cond: Cond::None,
    },
    Grant {
        sid: "TaskDefinitions",
        actions: &["ecs:RegisterTaskDefinition", "ecs:DeregisterTaskDefinition"],
        scope: Scope::Any,
        when: When::Always,
        cond: Cond::None,
    },
    Grant {
        sid: "TagOnCreate",
        actions: &["ecs:TagResource"],
        scope: Scope::Any,
        when: When::Always,
        cond: Cond::EcsCreateAction(&["CreateService", "RegisterTaskDefinition"]),
    },
    Grant {
        sid: "Services",
        actions: &[
            "ecs:CreateService",
            "ecs:UpdateService",
            "ecs:DeleteService",
            "ecs:TagResource",
            "ecs:UntagResource",
        ],
        scope: Scope::EnvServices,
        when: When::Always,
        cond: Cond::None,
    },
    Grant {
        sid: "PassTaskRoles",
        actions: &["iam:PassRole"],
        scope: Scope::TaskRoles,
        when: When::Always,
        cond: Cond::PassedTo("ecs-tasks.amazonaws.com"),
    },
    Grant {
        sid: "ReadRoles",
        actions: &["iam:GetRole"],
        scope: Scope::AppRoles,
        when: When::Always,
        cond: Cond::None,
    },
    Grant {
        sid: "LogGroups",
        actions: &[
            "logs:CreateLogGroup",
            "logs:TagResource",
            "logs:ListTagsForResource",
            "logs:PutRetentionPolicy",
        ],
        scope: Scope::AppLogGroups,
        when: When::Always,
        cond: Cond::None,
    },
    Grant {
        sid: "Repositories",
        actions: &[
            "ecr:CreateRepository",
            "ecr:TagResource",
            "ecr:ListTagsForResource",
            "ecr:GetLifecyclePolicy",
            "ecr:PutLifecyclePolicy",
        ],
        scope: Scope::AppRepositories,
        when: When::Always,
        cond: Cond::None,
    },
    Grant {
        sid: "Parameters",
        actions: &["ssm:GetParameters"],
        scope: Scope::AppParameters,
        when: When::Always,
        cond: Cond::None,
    },
    Grant {
        sid: "DatabaseParameters",
        actions: &[
            "ssm:PutParameter",
            "ssm:AddTagsToResource",
            "ssm:ListTagsForResource",
        ],
        scope: Scope::AppParameters,
        when: When::Database,
        cond: Cond::None,
    },
    Grant {
        sid: "ScheduleGroups",
        actions: &[
            "scheduler:GetScheduleGroup",
            "scheduler:ListTagsForResource",
            "scheduler:DeleteScheduleGroup",
        ],
        scope: Scope::AppScheduleGroupsOnly,
        when: When::Always,
        cond: Cond::None,
    },
    Grant {
        sid: "CreateScheduleGroups",
        actions: &["scheduler:CreateScheduleGroup", "scheduler:TagResource"],
        scope: Scope::AppScheduleGroupsOnly,
        when: When::Schedules,
        cond: Cond::None,
    },
    Grant {
        sid: "Schedules",
        actions: &[
            "scheduler:GetSchedule",
            "scheduler:CreateSchedule",
            "scheduler:UpdateSchedule",
            "scheduler:DeleteSchedule",
        ],
        scope: Scope::AppSchedules,
        when: When::Schedules,
        cond: Cond::None,
    },
    Grant {
        sid: "PassSchedulerRole",
        actions: &["iam:PassRole"],
        scope: Scope::SchedulerRole,
        when: When::Schedules,
        cond: Cond::PassedTo("scheduler.amazonaws.com"),
    },
    Grant {
        sid: "Namespaces",
        actions: &[
            "servicediscovery:CreateHttpNamespace",
            "servicediscovery:GetNamespace",
            "servicediscovery:TagResource",
            "servicediscovery:ListTagsForResource",
        ],
        scope: Scope::Namespaces,
        when: When::Always,
        cond: Cond::None,
    },
    Grant {
        sid: "ServiceConnect",
        actions: &[
            "servicediscovery:CreateService",
            "servicediscovery:GetService",
            "servicediscovery:DeleteService",
            "servicediscovery:TagResource",
        ],
        scope: Scope::CloudMapServices,
        when: When::Always,
        cond: Cond::None,
    },
    Grant {
        sid: "DiscoverPreviews",
        actions: &[
            "elasticloadbalancing:DescribeLoadBalancers",
            "elasticloadbalancing:DescribeListeners",
            "elasticloadbalancing:DescribeRules",
            "elasticloadbalancing:DescribeTargetGroups",
            "elasticloadbalancing:DescribeTargetHealth",
            "elasticloadbalancing:DescribeTags",
        ],
        scope: Scope::Any,
        when: When::Previews,
        cond: Cond::None,
    },
    Grant {
        sid: "CreatePreviewRules",
        actions: &[
            "elasticloadbalancing:CreateRule",
            "elasticloadbalancing:AddTags",
        ],
        scope: Scope::Listeners,
        when: When::Previews,
        cond: Cond::None,
    },
    Grant {
        sid: "PreviewRules",
        actions: &[
            "elasticloadbalancing:ModifyRule",
            "elasticloadbalancing:DeleteRule",
            "elasticloadbalancing:AddTags",
        ],
        scope: Scope::ListenerRules,
        when: When::Previews,
        cond: Cond::None,
    },
    Grant {
        sid: "PreviewTargetGroups",
        actions: &[
            "elasticloadbalancing:CreateTargetGroup",
            "elasticloadbalancing:ModifyTargetGroup",
            "elasticloadbalancing:DeleteTargetGroup",
            "elasticloadbalancing:AddTags",
        ],
        scope: Scope::AppTargetGroups,
        when: When::Previews,
        cond: Cond::None,
    },
    Grant {
        sid: "RunOneOffTasks",
        actions: &["ecs:RunTask"],
        scope: Scope::AppTaskDefinitions,
        when: When::OneOffTasks,
        cond: Cond::None,
    },
    Grant {
        sid: "WatchOneOffTasks",
        actions: &["ecs:DescribeTasks", "ecs:StopTask"],
        scope: Scope::ClusterTasks,
        when: When::OneOffTasks,
        cond: Cond::None,
    },
    Grant {
        sid: "ReadOneOffTaskLogs",
        actions: &["logs:GetLogEvents"],
        scope: Scope::AppLogStreams,
        when: When::OneOffTasks,
        cond: Cond::None,
    },
    Grant {
        sid: "BuildProjects",
        actions: &[
            "codebuild:BatchGetProjects",
            "codebuild:CreateProject",
            "codebuild:UpdateProject",
            "codebuild:StartBuild",
            "codebuild:BatchGetBuilds",
        ],
        scope: Scope::BuildProjects,
        when: When::Builds,
        cond: Cond::None,
    },
    Grant {
        sid: "PassBuildRole",
        actions: &["iam:PassRole"],
        scope: Scope::BuildRole,
        when: When::Builds,
        cond: Cond::PassedTo("codebuild.amazonaws.com"),
    },
    Grant {
        sid: "BuildBucket",
        actions: &["s3:ListBucket", "s3:GetBucketTagging"],
        scope: Scope::BuildBucket,
        when: When::Builds,
        cond: Cond::None,
    },
    Grant {
        sid: "BuildSources",
        actions: &["s3:PutObject"],
        scope: Scope::BuildSources,
        when: When::Builds,
        cond: Cond::None,
    },
    Grant {
        sid: "BuildImages",
        actions: &["ecr:DescribeImages"],
        scope: Scope::AppRepositories,
        when: When::Builds,
        cond: Cond::None,
    },
    Grant {
        sid: "BuildLogs",
        actions: &["logs:GetLogEvents"],
        scope: Scope::BuildLogGroups,
        when: When::Builds,
        cond: Cond::None,
    },
];

/// Every AWS action `cost` (estimates and `--actual`) and `ls` make: reads only.
const COST_GRANTS: &[Grant] = &[
    Grant {
        sid: "ReadEnvs",
        actions: &[
            "ecs:DescribeClusters",
            "ecs:ListServices",
            "ecs:DescribeServices",
            "ecs:ListTaskDefinitionFamilies",
            // Is the janitor installed (the fleet's shared line)?
            "events:DescribeRule",
        ],
        scope: Scope::Any,
        when: When::Always,
        cond: Cond::None,
    },
    Grant {
        sid: "ReadSchedules",
        actions: &["scheduler:GetSchedule"],
        scope: Scope::AppSchedules,
        when: When::Always,
        cond: Cond::None,
    },
    Grant {
        sid: "ReadPreviewRoutes",
        actions: &[
            "elasticloadbalancing:DescribeRules",
            "elasticloadbalancing:DescribeTargetGroups",
            "elasticloadbalancing:DescribeTags",
        ],
        scope: Scope::Any,
        when: When::Previews,
        cond: Cond::None,
    },
    Grant {
        // Cost Explorer has no resource-level permissions.
        sid: "ReadBilledCosts",
        actions: &["ce:GetCostAndUsage"],
        scope: Scope::Any,
        when: When::Always,
        cond: Cond::None,
    },
];

/// What a command's caller needs (`envctl iam-policy --for ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyFor {
    /// `up` (and `plan`, `render`, `build`)
    Up,
    /// `down`
    Down,
    /// `gc --yes` (what the janitor's build runs)
    Gc,
    /// The PR workflow `envctl ci github` writes: `up`, `down` and scheduled `gc --yes`
    Ci,
    /// The janitor's CodeBuild role, as `envctl janitor install` puts it on the role
    Janitor,
    /// `cost` (with `--actual`) and `ls`: reads only
    Cost,
}

/// What decides which statements apply beyond `PolicyScope`: schedules and builds are off in
/// some apps, and `up` runs one-off tasks for different reasons than `down`.
#[derive(Debug, Clone, Copy, Default)]
pub struct UpFeatures {
    pub schedules: bool,
    pub builds: bool,
    /// `before_deploy`/`after_create` hooks or a `[database]` (its create task).
    pub one_off_tasks: bool,
}

impl PolicyScope<'_> {
    fn role_arn(&self, name: &str) -> String {
        format!("arn:{}:iam::{}:role/{name}", self.partition, self.account)
    }
}

fn statement(g: &Grant, resource: Value) -> Value {
    let mut st = json!({
        "Sid": g.sid,
        "Effect": "Allow",
        "Action": g.actions,
        "Resource": resource,
    });
    match g.cond {
        Cond::None => {}
        Cond::PassedTo(service) => {
            st["Condition"] = json!({ "StringEquals": { "iam:PassedToService": service } });
        }
        Cond::EcsCreateAction(actions) => {
            st["Condition"] = json!({ "StringEquals": { "ecs:CreateAction": actions } });
        }
    }
    st
}

/// The policy the caller of `command` needs, from the same tables as the janitor's role: `down`
/// and `gc` are `GC_GRANTS`, `up` is `UP_GRANTS`, `ci` both, `cost` `COST_GRANTS` (reads),
/// `janitor` the janitor's role.
pub fn command_policy(command: PolicyFor, s: &PolicyScope, up: UpFeatures) -> Value {
    let gc = || -> Vec<Value> {
        GC_GRANTS
            .iter()
            .filter(|g| s.applies(g.when))
            .map(|g| statement(g, s.resources(g.scope)))
            .collect()
    };
    let up_statements = || -> Vec<Value> {
        UP_GRANTS
            .iter()
            .filter(|g| match g.when {
                When::Schedules => up.schedules,
                When::Builds => up.builds,
                When::OneOffTasks => up.one_off_tasks,
                other => s.applies(other),
            })
            .map(|g| statement(g, s.resources(g.scope)))
            .collect()
    };
    let statements = match command {
        PolicyFor::Up => up_statements(),
        PolicyFor::Down | PolicyFor::Gc => gc(),
        PolicyFor::Janitor => return build_role_policy(s),
        PolicyFor::Cost => COST_GRANTS
            .iter()
            .filter(|g| s.applies(g.when))
            .map(|g| statement(g, s.resources(g.scope)))
            .collect(),
        PolicyFor::Ci => {
            // Statement ids must be unique: the gc ones that share a name get a prefix.
            let mut all = up_statements();
            let taken: BTreeSet<String> = all
                .iter()
                .filter_map(|st| st["Sid"].as_str().map(str::to_string))
                .collect();
            for mut st in gc() {
                let sid = st["Sid"].as_str().unwrap_or_default().to_string();
                if taken.contains(&sid) {
                    st["Sid"] = json!(format!("Teardown{sid}"));
                }
                all.push(st);
            }
            all
        }
    };
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// Statement ids of what the CodeBuild build itself needs (its logs, its source), as opposed
/// to what envctl calls.
pub const BUILD_OWN_SIDS: [&str; 2] = ["BuildLogs", "CheckOutSource"];

impl PolicyScope<'_> {
    fn arn(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:{}:{service}:{}:{}:{resource}",
            self.partition, self.region, self.account
        )
    }

    fn resources(&self, scope: Scope) -> Value {
        let app = self.app;
        match scope {
            Scope::Any => json!("*"),
            Scope::EnvServices => {
                json!(self.arn("ecs", &format!("service/{}/{app}-*", self.cluster)))
            }
            Scope::AppParameters => json!(self.arn("ssm", &format!("parameter/envctl/{app}/*"))),
            Scope::AppRepositories => {
                json!(self.arn("ecr", &format!("repository/envctl/{app}/*")))
            }
            Scope::AppLogGroups => json!(self.arn("logs", &format!("log-group:/envctl/{app}/*"))),
            Scope::AppScheduleGroups => json!([
                self.arn("scheduler", &format!("schedule-group/envctl-{app}-*")),
                self.arn("scheduler", &format!("schedule/envctl-{app}-*/*")),
            ]),
            Scope::ListenerRules => json!(self.arn("elasticloadbalancing", "listener-rule/app/*")),
            // Target group names start with the app (`naming::target_group`).
            Scope::AppTargetGroups => {
                json!(self.arn("elasticloadbalancing", &format!("targetgroup/{app}-*")))
            }
            Scope::AppTaskDefinitions => {
                json!(self.arn("ecs", &format!("task-definition/{app}-*")))
            }
            Scope::ClusterTasks => json!(self.arn("ecs", &format!("task/{}/*", self.cluster))),
            Scope::Namespaces => json!(self.arn("servicediscovery", "namespace/*")),
            Scope::AppLogStreams => {
                json!(self.arn("logs", &format!("log-group:/envctl/{app}/*:log-stream:*")))
            }
            Scope::TaskRoles => json!(self.task_roles),
            Scope::CloudMapServices => json!(self.arn("servicediscovery", "service/*")),
            Scope::AppScheduleGroupsOnly => {
                json!(self.arn("scheduler", &format!("schedule-group/envctl-{app}-*")))
            }
            Scope::AppSchedules => {
                json!(self.arn("scheduler", &format!("schedule/envctl-{app}-*/*")))
            }
            Scope::Listeners => json!(self.arn("elasticloadbalancing", "listener/app/*")),
            Scope::AppRoles => json!([
                self.role_arn(&naming::execution_role(app)),
                self.role_arn(&naming::task_role(app)),
                self.role_arn(&naming::scheduler_role(app)),
                self.role_arn(&naming::build_role(app)),
            ]),
            Scope::SchedulerRole => json!(self.role_arn(&naming::scheduler_role(app))),
            Scope::BuildRole => json!(self.role_arn(&naming::build_role(app))),
            Scope::BuildProjects => {
                json!(self.arn("codebuild", &format!("project/envctl-{app}-*-build")))
            }
            Scope::BuildBucket => json!(format!(
                "arn:{}:s3:::{}",
                self.partition,
                naming::build_bucket(app, self.account, self.region)
            )),
            Scope::BuildSources => json!(format!(
                "arn:{}:s3:::{}/sources/*",
                self.partition,
                naming::build_bucket(app, self.account, self.region)
            )),
            Scope::BuildLogGroups => {
                json!(self.arn("logs", &format!("log-group:/aws/codebuild/envctl-{app}-*")))
            }
        }
    }

    fn applies(&self, when: When) -> bool {
        match when {
            When::Always => true,
            When::Previews => self.previews,
            When::OneOffTasks => self.one_off_tasks,
            When::Database => self.database,
            // Only `up` creates schedules and builds (see `UpFeatures`).
            When::Schedules | When::Builds => false,
        }
    }
}

/// The actions `gc --yes` and `down` may call for an app (with or without previews and
/// `before_destroy` hooks).
pub fn gc_actions(previews: bool, one_off_tasks: bool, database: bool) -> BTreeSet<&'static str> {
    GC_GRANTS
        .iter()
        .filter(|g| match g.when {
            When::Always => true,
            When::Previews => previews,
            When::OneOffTasks => one_off_tasks,
            When::Database => database,
            When::Schedules | When::Builds => false,
        })
        .flat_map(|g| g.actions.iter().copied())
        .collect()
}

/// The janitor build's role policy: what `envctl gc --yes` calls, scoped to the app's names,
/// plus the build's own logs (and its CodeCommit source).
pub fn build_role_policy(s: &PolicyScope) -> Value {
    let build_logs = format!("log-group:/aws/codebuild/{}", naming::janitor(s.app));
    let mut statements: Vec<Value> = GC_GRANTS
        .iter()
        .filter(|g| s.applies(g.when))
        .map(|g| {
            json!({
                "Sid": g.sid,
                "Effect": "Allow",
                "Action": g.actions,
                "Resource": s.resources(g.scope),
            })
        })
        .collect();
    statements.push(json!({
        "Sid": BUILD_OWN_SIDS[0],
        "Effect": "Allow",
        "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": [s.arn("logs", &build_logs), s.arn("logs", &format!("{build_logs}:*"))],
    }));
    if let Some((region, repo)) = s.codecommit_repo {
        statements.push(json!({
            "Sid": BUILD_OWN_SIDS[1],
            "Effect": "Allow",
            "Action": ["codecommit:GitPull"],
            "Resource": format!("arn:{}:codecommit:{region}:{}:{repo}", s.partition, s.account),
        }));
    }
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// EventBridge may only start the janitor's build.
pub fn events_role_policy(project_arn: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "StartJanitorBuild",
            "Effect": "Allow",
            "Action": ["codebuild:StartBuild"],
            "Resource": project_arn,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(
        previews: bool,
        codecommit: Option<(&'static str, &'static str)>,
    ) -> PolicyScope<'static> {
        PolicyScope {
            partition: "aws",
            region: "eu-west-1",
            account: "123456789012",
            app: "shop",
            cluster: "envctl-shop",
            previews,
            one_off_tasks: false,
            database: false,
            task_roles: vec![],
            codecommit_repo: codecommit,
        }
    }

    /// Every (action, resource) pair of a policy.
    fn grants(policy: &Value) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for st in policy["Statement"].as_array().expect("statements") {
            assert_eq!(st["Effect"], "Allow");
            let as_list = |v: &Value| -> Vec<String> {
                match v {
                    Value::Array(a) => a
                        .iter()
                        .map(|x| x.as_str().expect("string").to_string())
                        .collect(),
                    other => vec![other.as_str().expect("string").to_string()],
                }
            };
            for a in as_list(&st["Action"]) {
                for r in as_list(&st["Resource"]) {
                    out.push((a.clone(), r));
                }
            }
        }
        out
    }

    #[test]
    fn build_role_deletes_only_the_apps_resources() {
        let g = grants(&build_role_policy(&scope(true, None)));
        let resource_of = |action: &str| -> Vec<String> {
            g.iter()
                .filter(|(a, _)| a == action)
                .map(|(_, r)| r.clone())
                .collect()
        };
        assert_eq!(
            resource_of("ecs:DeleteService"),
            ["arn:aws:ecs:eu-west-1:123456789012:service/envctl-shop/shop-*"]
        );
        assert_eq!(
            resource_of("ssm:DeleteParameters"),
            ["arn:aws:ssm:eu-west-1:123456789012:parameter/envctl/shop/*"]
        );
        assert_eq!(
            resource_of("ecr:DeleteRepository"),
            ["arn:aws:ecr:eu-west-1:123456789012:repository/envctl/shop/*"]
        );
        assert_eq!(
            resource_of("logs:DeleteLogGroup"),
            ["arn:aws:logs:eu-west-1:123456789012:log-group:/envctl/shop/*"]
        );
        assert_eq!(
            resource_of("scheduler:DeleteScheduleGroup"),
            [
                "arn:aws:scheduler:eu-west-1:123456789012:schedule-group/envctl-shop-*",
                "arn:aws:scheduler:eu-west-1:123456789012:schedule/envctl-shop-*/*",
            ]
        );
        assert_eq!(
            resource_of("elasticloadbalancing:DeleteTargetGroup"),
            ["arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-*"]
        );
        assert_eq!(
            resource_of("logs:PutLogEvents"),
            [
                "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/codebuild/envctl-shop-janitor",
                "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/codebuild/envctl-shop-janitor:*",
            ]
        );
        // "*" only where AWS has no resource-level permissions: reads, and deregistering
        // task definitions. Nothing else that writes is unscoped, and nothing touches IAM.
        for (action, resource) in &g {
            if resource == "*" {
                let op = action.split(':').nth(1).unwrap_or_default();
                assert!(
                    ["Describe", "List", "Get"]
                        .iter()
                        .any(|p| op.starts_with(p))
                        || action == "ecs:DeregisterTaskDefinition",
                    "{action} on *"
                );
            } else if action.starts_with("servicediscovery:") {
                // Namespace ARNs carry an opaque id, not the name: envctl checks the env's
                // ownership tags before it deletes one.
                assert!(resource.ends_with(":namespace/*"), "{action} on {resource}");
            } else if action != "elasticloadbalancing:DeleteRule" {
                assert!(resource.contains("shop"), "{action} on {resource}");
            }
            assert!(!action.starts_with("iam:"), "{action}");
            assert!(action != "ecs:RunTask", "no hooks configured, no tasks");
        }
        assert!(!g.iter().any(|(a, _)| a.starts_with("codecommit:")));
    }

    #[test]
    fn load_balancing_only_with_previews() {
        let without = grants(&build_role_policy(&scope(false, None)));
        assert!(!without
            .iter()
            .any(|(a, _)| a.starts_with("elasticloadbalancing:")));
        assert!(!gc_actions(false, false, false).contains("elasticloadbalancing:DeleteRule"));
        assert!(gc_actions(true, false, false).contains("elasticloadbalancing:DeleteRule"));
        let with: BTreeSet<String> = grants(&build_role_policy(&scope(true, None)))
            .into_iter()
            .map(|(a, _)| a)
            .filter(|a| !a.starts_with("logs:Create") && a != "logs:PutLogEvents")
            .collect();
        let table: BTreeSet<String> = gc_actions(true, false, false)
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(with, table);
    }

    #[test]
    fn destroy_hooks_may_run_app_tasks_and_pass_only_the_app_roles() {
        let mut s = scope(false, None);
        s.one_off_tasks = true;
        s.task_roles = vec!["arn:aws:iam::123456789012:role/envctl-shop-execution".into()];
        let g = grants(&build_role_policy(&s));
        assert!(g.contains(&(
            "ecs:RunTask".to_string(),
            "arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-*".to_string()
        )));
        assert!(g.contains(&(
            "iam:PassRole".to_string(),
            "arn:aws:iam::123456789012:role/envctl-shop-execution".to_string()
        )));
        assert_eq!(g.iter().filter(|(a, _)| a == "iam:PassRole").count(), 1);
        assert!(!gc_actions(false, false, false).contains("ecs:RunTask"));
    }

    #[test]
    fn build_role_pulls_a_codecommit_source() {
        let g = grants(&build_role_policy(&scope(
            false,
            Some(("eu-west-1", "shop")),
        )));
        assert!(g.contains(&(
            "codecommit:GitPull".to_string(),
            "arn:aws:codecommit:eu-west-1:123456789012:shop".to_string()
        )));
    }

    #[test]
    fn events_role_may_only_start_the_janitor_build() {
        let arn = "arn:aws:codebuild:eu-west-1:123456789012:project/envctl-shop-janitor";
        assert_eq!(
            grants(&events_role_policy(arn)),
            [("codebuild:StartBuild".to_string(), arn.to_string())]
        );
    }
}
