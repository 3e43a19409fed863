//! The database step of `up` and `down`: store the env's `DATABASE_URL` (pending), run the
//! database task (create or drop) as a one-off task in the env's network, then mark the URL
//! ready. The password is generated here and only ever travels into SSM.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::aws::{ssm::ParameterValue, Aws};
use crate::database::{self, DbOp, ServerAddress};
use crate::error::{Error, Result};
use crate::model::{Tags, TaskLaunch};
use crate::ops::task::{self, TaskBackend, Watch};
use crate::output::Printer;
use crate::plan::{DatabaseRun, TaskDefRef};

/// `startedBy` of database tasks.
pub const STARTED_BY: &str = "envctl-db";

pub struct DatabaseContext<'a> {
    pub cluster: &'a str,
    /// Revisions registered by this run, by family.
    pub registered: &'a BTreeMap<String, String>,
    /// The env's ownership tags (for the `DATABASE_URL` parameter and the task).
    pub tags: &'a Tags,
    pub poll: Duration,
}

pub async fn run(
    aws: &Aws,
    printer: &Printer,
    ctx: &DatabaseContext<'_>,
    run: &DatabaseRun,
) -> Result<()> {
    if run.op == DbOp::Create && !run.url_stored {
        store_url(aws, ctx, run).await?;
    }
    run_task(aws, printer, ctx, run).await?;
    if run.op == DbOp::Create {
        let ready = Tags::from([(
            database::TAG_DATABASE.to_string(),
            database::READY.to_string(),
        )]);
        aws.tag_parameter(&run.url_param, &ready).await?;
    }
    Ok(())
}

/// Generates the password and stores the URL, tagged pending, before anything exists on the
/// server: a crash after this point leaves a URL the next `up` reuses, never a database
/// without its URL.
async fn store_url(aws: &Aws, ctx: &DatabaseContext<'_>, run: &DatabaseRun) -> Result<()> {
    let admin = aws
        .get_secure_parameter(&run.admin_param)
        .await?
        .ok_or_else(|| {
            Error::invalid(
                format!(
                    "database.admin_url_param: the SSM parameter `{}` does not exist",
                    run.admin_param
                ),
                Some("store the admin URL as a SecureString (docs/database.md)".to_string()),
            )
        })?;
    let server = ServerAddress::from_admin_url(&admin).map_err(|m| {
        Error::invalid(
            format!(
                "database.admin_url_param: the SSM parameter `{}`: {m}",
                run.admin_param
            ),
            Some(
                "store postgres://ADMIN:PASSWORD@HOST:5432/postgres in it (docs/database.md)"
                    .to_string(),
            ),
        )
    })?;
    let password = database::generate_password().map_err(|e| Error::Precondition {
        message: format!("cannot read /dev/urandom for the database password: {e}"),
        hint: "run envctl on a system with /dev/urandom".into(),
    })?;
    let url = database::database_url(&server, &run.database, &password, &run.database);
    let mut tags = ctx.tags.clone();
    tags.insert(database::TAG_DATABASE.into(), database::PENDING.into());
    aws.put_parameter(&run.url_param, &ParameterValue::Secure(url), &tags)
        .await?;
    Ok(())
}

async fn run_task<B: TaskBackend>(
    backend: &B,
    printer: &Printer,
    ctx: &DatabaseContext<'_>,
    run: &DatabaseRun,
) -> Result<()> {
    let task_definition_arn = match &run.task_definition {
        TaskDefRef::Existing(arn) => arn.clone(),
        TaskDefRef::Registered(family) => {
            ctx.registered
                .get(family)
                .cloned()
                .ok_or_else(|| Error::Precondition {
                    message: format!("the new revision of {family} was not registered"),
                    hint: "run `envctl up` again".into(),
                })?
        }
    };
    let mut tags = ctx.tags.clone();
    tags.insert(database::TAG_DATABASE.into(), run.op.as_str().into());
    let launch = TaskLaunch {
        cluster: ctx.cluster.to_string(),
        task_definition_arn,
        container: database::CONTAINER.into(),
        command: database::command(
            run.op,
            &run.database,
            &run.database,
            run.template.as_deref(),
        ),
        network: run.network.clone(),
        spot: false,
        started_by: STARTED_BY.into(),
        tags,
    };
    printer.status(format!("  > {}", run.describe()));
    let prefix = format!("    [database {}] ", run.op.as_str());
    let outcome = task::run_to_completion(
        backend,
        &launch,
        run.log.as_ref(),
        &Watch {
            poll: ctx.poll,
            timeout: Duration::from_secs(run.timeout_secs),
        },
        &|arn| printer.status(format!("    task {arn}")),
        &|line| printer.status(format!("{prefix}{line}")),
        task::ctrl_c(),
    )
    .await?;
    if !outcome.succeeded() {
        let message = outcome.failure_message(&run.describe());
        let hint = match run.op {
            DbOp::Create => "fix it (admin URL, network path to the server on 5432, template) and run `envctl up` again: the step is idempotent",
            DbOp::Drop => "nothing else was deleted; fix the admin connection and run `envctl down` again, or `envctl down --force` to leave the database behind",
        };
        return Err(Error::TaskFailed {
            message,
            hint: hint.into(),
        });
    }
    printer.status(format!("  ✓ {}", run.describe()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AwsVpcConfiguration, LogSource};
    use crate::ops::task::fake::FakeTasks;
    use crate::output::Format;

    fn drop_run() -> DatabaseRun {
        DatabaseRun {
            op: DbOp::Drop,
            database: "shop__feature_x".into(),
            template: None,
            task_definition: TaskDefRef::Existing("arn:td/shop-feature-x--db:1".into()),
            url_param: "/envctl/shop/env/feature-x/DATABASE_URL".into(),
            admin_param: "/envctl/shop/shared/DB_ADMIN_URL".into(),
            url_stored: true,
            network: AwsVpcConfiguration::default(),
            log: Some(LogSource {
                group: "/envctl/shop/x".into(),
                stream_prefix: "ecs".into(),
                container: "api".into(),
            }),
            timeout_secs: 60,
            reason: "env is going".into(),
        }
    }

    #[tokio::test]
    async fn a_failed_drop_is_an_error_with_the_log_tail_and_says_nothing_was_deleted() {
        let fake = FakeTasks::new(
            vec![vec![
                "psql: error: connection to server at \"db.internal\" failed: timeout",
            ]],
            Some(1),
            Some(2),
        );
        let registered = BTreeMap::new();
        let tags = Tags::new();
        let err = run_task(
            &fake,
            &Printer::new(Format::Text, true, false),
            &DatabaseContext {
                cluster: "envctl-shop",
                registered: &registered,
                tags: &tags,
                poll: Duration::from_millis(1),
            },
            &drop_run(),
        )
        .await
        .expect_err("the drop failed");
        let text = err.to_string();
        assert!(text.contains("exited with code 2"), "{text}");
        assert!(text.contains("connection to server"), "{text}");
        assert!(err.hint().unwrap().contains("nothing else was deleted"));
        let started = fake.started.lock().unwrap();
        assert_eq!(started[0].command[0], "drop");
        assert!(!started[0].spot);
    }
}
