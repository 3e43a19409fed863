//! `envctl run ENV SERVICE -- CMD`: a one-off task of a service's task definition, with the
//! service's network, secrets and environment, on on-demand FARGATE (a Spot interruption must
//! not kill a migration).
//!
//! The revision is the one the config renders: the revision the service runs when they are the
//! same, else an existing identical revision, else a new one is registered (as `up` would).

use std::time::Duration;

use serde::Serialize;

use crate::apply::{self, Applied};
use crate::error::{Error, Result};
use crate::model::{LogSource, TaskLaunch};
use crate::ops::task::{self, TaskBackend, TaskOutcome, Watch};
use crate::ops::up::{self, Prepared};
use crate::ops::Session;
use crate::plan::{self, Action, Plan, TaskDefRef};

/// `startedBy` of `envctl run` tasks.
pub const STARTED_BY: &str = "envctl-run";

pub struct RunOptions {
    pub service: String,
    pub command: Vec<String>,
    pub container: Option<String>,
    pub spot: bool,
    pub timeout: Duration,
    pub poll: Duration,
}

/// What to start, resolved from the config and what AWS holds.
#[derive(Debug, Clone, Serialize)]
pub struct ResolvedRun {
    pub launch: TaskLaunch,
    pub log: Option<LogSource>,
    /// True when this run registered a new revision for it.
    pub registered: bool,
}

/// Checks the service before any AWS call.
pub fn check_service(p: &Prepared, service: &str) -> Result<()> {
    if p.config.config.services.contains_key(service) {
        return Ok(());
    }
    Err(Error::invalid(
        format!(
            "service `{service}` is not defined in {}",
            p.config.path.display()
        ),
        Some(format!("services are: {}", p.config.config.service_keys())),
    ))
}

/// Renders and observes the env, and registers the service's revision if it does not exist yet.
pub async fn resolve(session: &Session, p: &Prepared, opts: &RunOptions) -> Result<ResolvedRun> {
    check_service(p, &opts.service)?;
    let (desired, actual) = up::observe_and_render(session, p).await?;
    let aws = session.aws(Some(&p.config)).await?;
    let svc = desired
        .services
        .iter()
        .find(|s| s.key == opts.service)
        .ok_or_else(|| {
            Error::invalid(format!("service `{}` is not rendered", opts.service), None)
        })?;
    let Some(running) = actual
        .services
        .iter()
        .find(|s| s.name == svc.name && s.status == "ACTIVE")
    else {
        return Err(Error::Precondition {
            message: format!(
                "env `{}` has no service `{}` ({})",
                p.env.slug.as_str(),
                opts.service,
                svc.name
            ),
            hint: format!("run `envctl up {}` first", p.env.raw),
        });
    };
    let planned = plan::plan_up(&desired, &actual);
    if !planned.conflicts.is_empty() {
        return Err(Error::Conflicts(planned.conflicts.clone()));
    }
    let td_ref = planned.actions.iter().find_map(|a| match a {
        Action::RegisterTaskDefinition { family, .. } if *family == svc.name => {
            Some(TaskDefRef::Registered(family.clone()))
        }
        Action::UpdateService {
            name,
            task_definition,
            ..
        } if *name == svc.name => Some(task_definition.clone()),
        _ => None,
    });
    let (task_definition_arn, registered) = match td_ref {
        Some(TaskDefRef::Existing(arn)) => (arn, false),
        Some(TaskDefRef::Registered(family)) => {
            let register = Plan {
                actions: planned
                    .actions
                    .iter()
                    .filter(|a| matches!(a, Action::RegisterTaskDefinition { family: f, .. } if *f == family))
                    .cloned()
                    .collect(),
                ..planned.clone()
            };
            session.printer.status(format!(
                "The config renders a new revision of {family}: registering it for this run."
            ));
            let applied = apply::apply_phases(
                aws,
                &register,
                1,
                &session.printer.progress(),
                &|_| true,
                &Applied::default(),
            )
            .await?;
            let arn =
                applied
                    .registered
                    .get(&family)
                    .cloned()
                    .ok_or_else(|| Error::Precondition {
                        message: format!("registering {family} returned no ARN"),
                        hint: "run the command again".into(),
                    })?;
            (arn, true)
        }
        None => (running.task_definition_arn.clone(), false),
    };
    let td = &svc.task_definition;
    let container = td.container(opts.container.as_deref()).ok_or_else(|| {
        Error::invalid(
            match &opts.container {
                Some(name) => format!("service `{}` has no container `{name}`", opts.service),
                None => "the task definition has no container".to_string(),
            },
            Some(format!("containers are: {}", td.container_names())),
        )
    })?;
    let network = svc.service.awsvpc();
    let mut tags = desired.identity.tags();
    tags.insert("envctl:run".into(), "true".into());
    Ok(ResolvedRun {
        launch: TaskLaunch {
            cluster: desired.cluster.clone(),
            task_definition_arn,
            container: container.name.clone(),
            command: opts.command.clone(),
            network,
            spot: opts.spot,
            started_by: STARTED_BY.into(),
            tags,
        },
        log: LogSource::of(&svc.task_definition, &container.name),
        registered,
    })
}

/// Starts the task and returns its ARN without waiting (`--detach`).
pub async fn start<B: TaskBackend>(backend: &B, run: &ResolvedRun) -> Result<String> {
    Ok(backend.start(&run.launch).await?)
}

/// Runs the task to its end, each log line to `on_line`; Ctrl-C stops it.
pub async fn run_attached<B: TaskBackend>(
    backend: &B,
    run: &ResolvedRun,
    opts: &RunOptions,
    on_start: &(dyn Fn(&str) + Sync),
    on_line: &(dyn Fn(&str) + Sync),
) -> Result<TaskOutcome> {
    task::run_to_completion(
        backend,
        &run.launch,
        run.log.as_ref(),
        &Watch {
            poll: opts.poll,
            timeout: opts.timeout,
        },
        on_start,
        on_line,
        task::ctrl_c(),
    )
    .await
}
