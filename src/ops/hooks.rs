//! Runs a plan's hooks: each a one-off task (see `task`), one after another, its log lines on
//! stderr with the service as prefix. The first failure stops the run with the hook's log tail,
//! so what comes after it (service updates, teardown) does not happen.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::model::{Tags, TaskLaunch};
use crate::ops::task::{self, TaskBackend, TaskOutcome, Watch};
use crate::output::Printer;
use crate::plan::{HookRun, TaskDefRef};

/// `startedBy` of hook tasks (ECS allows 36 characters).
pub const STARTED_BY: &str = "envctl-hook";
/// Tag on hook tasks naming the hook kind.
pub const TAG_HOOK: &str = "envctl:hook";

/// What the caller knows that the plan does not: where to run, what to tag, how often to poll.
pub struct HookContext<'a> {
    pub cluster: &'a str,
    /// Revisions registered by this run, by family (for `TaskDefRef::Registered`).
    pub registered: &'a BTreeMap<String, String>,
    pub tags: &'a Tags,
    pub poll: Duration,
}

/// Runs `hooks` in order; returns their outcomes (all succeeded) or the first failure.
pub async fn run_hooks<'h, B: TaskBackend>(
    backend: &B,
    printer: &Printer,
    ctx: &HookContext<'_>,
    hooks: impl IntoIterator<Item = &'h HookRun>,
) -> Result<Vec<TaskOutcome>> {
    let mut outcomes = Vec::new();
    for hook in hooks {
        outcomes.push(run_hook(backend, printer, ctx, hook, task::ctrl_c()).await?);
    }
    Ok(outcomes)
}

pub async fn run_hook<B: TaskBackend>(
    backend: &B,
    printer: &Printer,
    ctx: &HookContext<'_>,
    hook: &HookRun,
    cancel: impl std::future::Future<Output = ()>,
) -> Result<TaskOutcome> {
    let task_definition_arn = match &hook.task_definition {
        TaskDefRef::Existing(arn) => arn.clone(),
        TaskDefRef::Registered(family) => {
            ctx.registered
                .get(family)
                .cloned()
                .ok_or_else(|| Error::Precondition {
                    message: format!(
                        "hook {} on {}: the new revision of {family} was not registered",
                        hook.kind, hook.service_key
                    ),
                    hint: "run `envctl up` again".into(),
                })?
        }
    };
    let mut tags = ctx.tags.clone();
    tags.insert(TAG_HOOK.into(), hook.kind.as_str().into());
    let launch = TaskLaunch {
        cluster: ctx.cluster.to_string(),
        task_definition_arn,
        container: hook.container.clone(),
        command: hook.command.clone(),
        network: hook.network.clone(),
        // A Spot interruption must not cut a migration short.
        spot: false,
        started_by: STARTED_BY.into(),
        tags,
    };
    printer.status(format!("  > {}", hook.describe()));
    let prefix = format!("    [{} {}] ", hook.kind, hook.service_key);
    let outcome = task::run_to_completion(
        backend,
        &launch,
        hook.log.as_ref(),
        &Watch {
            poll: ctx.poll,
            timeout: Duration::from_secs(hook.timeout_secs),
        },
        &|arn| printer.status(format!("    task {arn}")),
        &|line| printer.status(format!("{prefix}{line}")),
        cancel,
    )
    .await
    .map_err(|e| match e {
        Error::TaskFailed { message, hint } => Error::TaskFailed {
            message: format!("hook {} on {}: {message}", hook.kind, hook.service_key),
            hint,
        },
        Error::Interrupted { message, .. } => Error::Interrupted {
            message: format!("hook {} on {}: {message}", hook.kind, hook.service_key),
            hint: "run the command again: the hook runs again (hooks must be idempotent)".into(),
        },
        other => other,
    })?;
    if !outcome.succeeded() {
        let message =
            outcome.failure_message(&format!("hook {} on {}", hook.kind, hook.service_key));
        return Err(Error::TaskFailed {
            message,
            hint: format!(
                "fix it and run the command again: the {} hook runs again (hooks must be idempotent)",
                hook.kind
            ),
        });
    }
    printer.status(format!(
        "  ✓ hook {} on {} {}",
        hook.kind,
        hook.service_key,
        outcome.describe()
    ));
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::HookKind;
    use crate::model::{AwsVpcConfiguration, LogSource};
    use crate::ops::task::fake::FakeTasks;
    use crate::output::Format;

    fn hook(td: TaskDefRef) -> HookRun {
        HookRun {
            kind: HookKind::BeforeDeploy,
            service_key: "api".into(),
            service: "shop-x-api".into(),
            task_definition: td,
            container: "api".into(),
            command: vec!["bin/rails".into(), "db:migrate".into()],
            network: AwsVpcConfiguration {
                subnets: vec!["subnet-1".into()],
                security_groups: vec!["sg-1".into()],
                assign_public_ip: None,
            },
            log: Some(LogSource {
                group: "/envctl/shop/x".into(),
                stream_prefix: "ecs".into(),
                container: "api".into(),
            }),
            timeout_secs: 60,
            reason: "new revision".into(),
        }
    }

    fn ctx(registered: &BTreeMap<String, String>) -> HookContext<'_> {
        static TAGS: std::sync::OnceLock<Tags> = std::sync::OnceLock::new();
        HookContext {
            cluster: "envctl-shop",
            registered,
            tags: TAGS.get_or_init(Tags::new),
            poll: Duration::from_millis(1),
        }
    }

    #[tokio::test]
    async fn runs_the_newly_registered_revision_on_demand() {
        let fake = FakeTasks::new(vec![vec!["ok"]], Some(1), Some(0));
        let registered = BTreeMap::from([(
            "shop-x-api".to_string(),
            "arn:aws:ecs:eu-west-1:1:task-definition/shop-x-api:8".to_string(),
        )]);
        let printer = Printer::new(Format::Text, true, false);
        run_hooks(
            &fake,
            &printer,
            &ctx(&registered),
            [&hook(TaskDefRef::Registered("shop-x-api".into()))],
        )
        .await
        .expect("hook succeeded");
        let started = fake.started.lock().unwrap();
        assert_eq!(
            started[0].task_definition_arn,
            "arn:aws:ecs:eu-west-1:1:task-definition/shop-x-api:8"
        );
        assert!(!started[0].spot, "hooks run on on-demand FARGATE");
        assert_eq!(started[0].tags[TAG_HOOK], "before_deploy");
        assert_eq!(started[0].started_by, STARTED_BY);
    }

    #[tokio::test]
    async fn a_failing_hook_is_an_error_with_its_log_tail() {
        let fake = FakeTasks::new(
            vec![vec![
                "== 20261202 AddUsers: migrating",
                "PG::UndefinedTable: relation missing",
            ]],
            Some(1),
            Some(1),
        );
        let printer = Printer::new(Format::Text, true, false);
        let err = run_hooks(
            &fake,
            &printer,
            &ctx(&BTreeMap::new()),
            [&hook(TaskDefRef::Existing("arn:td:7".into()))],
        )
        .await
        .expect_err("the hook failed");
        let text = err.to_string();
        assert!(text.contains("hook before_deploy on api failed"), "{text}");
        assert!(text.contains("exited with code 1"), "{text}");
        assert!(
            text.contains("PG::UndefinedTable: relation missing"),
            "{text}"
        );
        assert_eq!(err.exit_code(), crate::error::exit::FAILURE);
        assert!(err.hint().unwrap().contains("idempotent"));
    }
}
