//! `envctl up`

use std::time::Duration;

use crate::cli::{BuildFlags, UpArgs};
use crate::commands::views::services_table;
use crate::config::BuildSource;
use crate::error::{exit, Result};
use crate::ops::build::BuildOptions;
use crate::ops::up::{self, EnvRequest, UpOptions};
use crate::ops::Session;

pub async fn run(session: &Session, args: UpArgs) -> Result<i32> {
    let prepared = up::prepare(session, &EnvRequest::from(&args.env))?;
    crate::interrupt::resume_with(resume_command(&args, &prepared.env.raw));
    let poll = crate::ops::poll_interval();
    let opts = UpOptions {
        build: (!args.build.no_build).then(|| build_options(&args.build, vec![], poll)),
        wait: !args.no_wait,
        wait_timeout: args.wait_timeout,
        poll_interval: poll,
    };
    let report = up::up(session, &prepared, &opts).await?;
    let p = &session.printer;
    if p.is_json() {
        p.json(&report);
    } else {
        p.text(services_table(&report.services));
        for (service, url) in &report.urls {
            p.text(format!("{service}: {url}"));
        }
        let s = report.plan.summary();
        p.status(format!(
            "env `{}` (branch `{}`) is up: {} created, {} updated, {} deleted.",
            report.env, report.branch, s.create, s.update, s.delete
        ));
    }
    Ok(exit::OK)
}

/// The command that finishes this run after Ctrl-C: the same env and the options that change
/// what `up` converges on.
fn resume_command(args: &UpArgs, env: &str) -> String {
    let e = &args.env;
    let mut cmd = vec!["envctl".to_string(), "up".into(), shell_word(env)];
    for o in &e.overrides {
        cmd.push(format!("--set {}", shell_word(&o.raw)));
    }
    for i in &e.images {
        cmd.push(format!("--image {}", shell_word(i)));
    }
    if let Some(ttl) = &e.ttl {
        cmd.push(format!("--ttl {}", shell_word(ttl)));
    }
    for (set, flag) in [
        (e.protect, "--protect"),
        (e.always_on, "--always-on"),
        (args.build.no_build, "--no-build"),
    ] {
        if set {
            cmd.push(flag.into());
        }
    }
    cmd.join(" ")
}

/// `s` as one word for a POSIX shell: as is when it has nothing the shell would read specially.
pub fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./=:@,+%".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Build settings from the flags `up` and `build` share.
pub fn build_options(flags: &BuildFlags, services: Vec<String>, poll: Duration) -> BuildOptions {
    BuildOptions {
        services,
        source: flags.source.as_deref().map(|s| {
            if s == "local" {
                BuildSource::Local
            } else {
                BuildSource::Git
            }
        }),
        force: flags.force_build,
        poll,
        timeout: Duration::from_secs(60 * 60),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn up_args(line: &[&str]) -> UpArgs {
        let cli = Cli::try_parse_from(line).expect("valid command line");
        match cli.command {
            Command::Up(args) => args,
            _ => panic!("not up"),
        }
    }

    #[test]
    fn the_resume_command_repeats_the_options_that_change_the_result() {
        let args = up_args(&[
            "envctl",
            "up",
            "feature/login",
            "--set",
            "services.web.count=3",
            "--set",
            "vars.greeting=hello world",
            "--ttl",
            "72h",
            "--no-wait",
            "--no-build",
        ]);
        assert_eq!(
            resume_command(&args, "feature/login"),
            "envctl up feature/login --set services.web.count=3 --set 'vars.greeting=hello world' --ttl 72h --no-build"
        );
        assert_eq!(shell_word("it's"), "'it'\\''s'");
    }
}
