//! `envctl run ENV SERVICE -- CMD`: exits with the container's exit code.

use crate::cli::RunArgs;
use crate::error::{exit, Error, Result};
use crate::ops::run::{self, RunOptions};
use crate::ops::up::{self, EnvRequest};
use crate::ops::Session;

pub async fn run(session: &Session, args: RunArgs) -> Result<i32> {
    let prepared = up::prepare(
        session,
        &EnvRequest {
            env: Some(args.env.clone()),
            overrides: args.overrides,
            images: args.images,
            ..EnvRequest::default()
        },
    )?;
    let opts = RunOptions {
        service: args.service,
        command: args.command,
        container: args.container,
        spot: args.spot,
        timeout: args.timeout,
        poll: crate::ops::poll_interval(),
    };
    run::check_service(&prepared, &opts.service)?;
    let resolved = run::resolve(session, &prepared, &opts).await?;
    let aws = session.aws(Some(&prepared.config)).await?;
    let p = &session.printer;
    if args.detach {
        let arn = run::start(aws, &resolved).await?;
        if p.is_json() {
            p.json(&serde_json::json!({ "task_arn": arn }));
        } else {
            p.text(&arn);
            p.status(format!(
                "Started; follow it with `envctl logs {} --service {} -f`.",
                prepared.env.raw, opts.service
            ));
        }
        return Ok(exit::OK);
    }
    p.status(format!(
        "Running `{}` in {} of env `{}` (on-demand FARGATE{})...",
        opts.command.join(" "),
        opts.service,
        prepared.env.slug.as_str(),
        if opts.spot { ", Spot" } else { "" }
    ));
    if resolved.log.is_none() {
        p.warn("the container does not log with awslogs: no log lines to stream");
    }
    // The task's own output is the data: stdout, unless JSON is asked for.
    let json = p.is_json();
    let outcome = run::run_attached(
        aws,
        &resolved,
        &opts,
        &|arn| p.status(format!("task {arn}")),
        &|line| {
            if json {
                eprintln!("{line}");
            } else {
                p.text(line);
            }
        },
    )
    .await?;
    if json {
        p.json(&outcome);
    }
    match outcome.exit_code {
        Some(code) => {
            p.status(format!("task {} {}", outcome.task_arn, outcome.describe()));
            Ok(code.clamp(0, 255))
        }
        None => Err(Error::TaskFailed {
            message: format!("task {} {}", outcome.task_arn, outcome.describe()),
            hint: "see `envctl status` for the env's stopped tasks".into(),
        }),
    }
}
