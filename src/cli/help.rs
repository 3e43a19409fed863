//! Help that reads like gh's and cargo's: the top-level commands grouped into sections, an
//! EXAMPLES section on every command, global flags under their own heading. clap has no
//! subcommand groups, so the top-level help's command list is written here from [`SECTIONS`],
//! the single list of where each command belongs (a test fails when one is missing), and each
//! command's examples come from [`EXAMPLES`]. A new command is one line in each.

use std::fmt::Write as _;

use clap::CommandFactory;

use super::Cli;

/// The top-level help's sections, in order, and the commands in each. Names not (yet) defined
/// are skipped, so a command merged later only needs to exist.
pub const SECTIONS: &[(&str, &[&str])] = &[
    (
        "Envs",
        &[
            "up", "plan", "down", "ls", "status", "logs", "exec", "run", "open", "rollback", "cost",
        ],
    ),
    ("Lifecycle", &["stop", "start", "extend", "gc"]),
    (
        "Config",
        &["init", "bootstrap", "params", "render", "validate", "build"],
    ),
    ("CI", &["ci", "janitor"]),
    ("Setup", &["doctor", "iam-policy", "completions", "man"]),
];

/// Examples per command path (`params set` for a nested one), shown after the options.
pub const EXAMPLES: &[(&str, &str)] = &[
    ("up", "envctl up                     # the env of the current git branch\nenvctl up feature-x --ttl 72h\nenvctl up lt-1 --set services.api.count=10 --always-on\nenvctl up pr-42 --no-build --image web=123.dkr.ecr.eu-west-1.amazonaws.com/web:abc"),
    ("plan", "envctl plan feature-x\nenvctl plan feature-x --set services.web.cpu=1024\nenvctl plan pr-42 --detailed-exitcode   # exit 2 when there are changes"),
    ("down", "envctl down feature-x\nenvctl down pr-42 --yes       # in CI: no prompt"),
    ("ls", "envctl ls\nenvctl ls --wide\nenvctl ls --output json | jq '.[].env'"),
    ("status", "envctl status feature/login\nenvctl status feature/login --watch\nenvctl status --output json"),
    ("logs", "envctl logs feature-x -f\nenvctl logs feature-x -s api --since 2h --filter ERROR"),
    ("exec", "envctl exec feature-x web\nenvctl exec feature-x web -- bin/rails console"),
    ("run", "envctl run feature-x api -- bin/rails db:migrate\nenvctl run lt-1 api --spot --timeout 30m -- ./seed.sh"),
    ("open", "envctl open feature/login\nenvctl open feature/login --service web --print\nBROWSER=firefox envctl open"),
    ("rollback", "envctl rollback feature/login\nenvctl rollback feature/login --to web:41\nenvctl rollback feature/login --to 12 --no-wait\n# The next `envctl up` rolls forward again to the rendered definitions."),
    ("cost", "envctl cost                    # every env, and the shared ALB and janitor\nenvctl cost feature-x --explain\nenvctl cost feature-x --prices prices.toml --output json\nenvctl cost --actual --days 7      # what AWS billed, by the envctl:env tag"),
    ("stop", "envctl stop feature-x"),
    ("start", "envctl start feature-x"),
    ("extend", "envctl extend feature-x 48h\nenvctl extend pr-42 7d"),
    ("gc", "envctl gc                      # list what would go\nenvctl gc --yes --live-branches-from git"),
    ("init", "envctl init --app shop\nenvctl init --from-service prod-cluster/api"),
    ("bootstrap", "envctl bootstrap\nenvctl bootstrap --region eu-west-1 --profile dev"),
    ("params", "envctl params set feature-x LOG_LEVEL=debug\nenvctl params ls feature-x"),
    ("params set", "envctl params set feature-x LOG_LEVEL=debug\nprintf %s \"$TOKEN\" | envctl params set feature-x API_TOKEN --secure\nenvctl params set --shared SENTRY_DSN=https://…"),
    ("params get", "envctl params get feature-x LOG_LEVEL\nenvctl params get --shared SENTRY_DSN"),
    ("params ls", "envctl params ls feature-x\nenvctl params ls --shared --output json"),
    ("params import", "envctl params import feature-x --file .env\nenvctl params import feature-x --file .env --secure-keys DB_PASSWORD,API_TOKEN\nenvctl params import --shared --file shared.env"),
    ("params rm", "envctl params rm feature-x LOG_LEVEL"),
    ("render", "envctl render feature-x\nenvctl render feature-x --set services.web.count=2 --output json"),
    ("validate", "envctl validate\nenvctl validate feature/login --set services.web.count=3\nenvctl validate --output json"),
    ("build", "envctl build feature-x\nenvctl build feature-x --service api --force-build --source local"),
    ("ci", "envctl ci github --role-arn arn:aws:iam::123456789012:role/envctl-ci"),
    ("ci github", "envctl ci github --role-arn arn:aws:iam::123456789012:role/envctl-ci\nenvctl ci github --role-arn ARN --env-name branch --install cargo"),
    ("janitor", "envctl janitor install --plan\nenvctl janitor install"),
    ("janitor install", "envctl janitor install --plan\nenvctl janitor install --set janitor.schedule=\"rate(30 minutes)\""),
    ("janitor uninstall", "envctl janitor uninstall"),
    ("doctor", "envctl doctor\nenvctl doctor --profile staging --region eu-west-1\nenvctl doctor --output json\n# Exit 0 when no check fails (warnings allowed), 1 otherwise."),
    ("iam-policy", "envctl iam-policy --for up --account 123456789012 --region eu-west-1\nenvctl iam-policy --for ci > envctl-ci-policy.json\nenvctl iam-policy --for janitor"),
    ("completions", "envctl completions bash > ~/.local/share/bash-completion/completions/envctl\nenvctl completions zsh > \"${fpath[1]}/_envctl\"\nenvctl completions fish > ~/.config/fish/completions/envctl.fish"),
    ("man", "envctl man > envctl.1 && man ./envctl.1\nenvctl man | gzip > /usr/local/share/man/man1/envctl.1.gz"),
];

/// envctl's clap command with the sectioned top-level help and every command's examples: what
/// main parses with and what completions and the man page are made from.
pub fn command() -> clap::Command {
    let cmd = Cli::command();
    let styles = cmd.get_styles().clone();
    let cmd = add_examples(cmd, "", &styles);
    let sections = sections_text(&cmd, &styles);
    let heading = styles.get_header();
    cmd.help_template(format!(
        "{{before-help}}{{about-with-newline}}\n{{usage-heading}} {{usage}}\n\n{sections}\n{heading}{}:{heading:#}\n{{options}}{{after-help}}",
        super::GLOBAL_HEADING
    ))
}

/// Every command (nested ones too) gets `Examples:` after its options, unless it has its own
/// after-help already.
fn add_examples(
    mut cmd: clap::Command,
    path: &str,
    styles: &clap::builder::Styles,
) -> clap::Command {
    if let Some((_, text)) = EXAMPLES.iter().find(|(p, _)| *p == path) {
        if cmd.get_after_help().is_none() {
            let heading = styles.get_header();
            let body: String = text.lines().map(|l| format!("  {l}\n")).collect();
            cmd = cmd.after_help(format!(
                "{heading}Examples:{heading:#}\n{}",
                body.trim_end()
            ));
        }
    }
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in names {
        let sub_path = if path.is_empty() {
            name.clone()
        } else {
            format!("{path} {name}")
        };
        cmd = cmd.mut_subcommand(&name, |sub| add_examples(sub, &sub_path, styles));
    }
    cmd
}

/// The `Envs:`, `Lifecycle:`… blocks: each command with its one-line about, aligned like
/// clap's own list.
fn sections_text(cmd: &clap::Command, styles: &clap::builder::Styles) -> String {
    let (heading, literal) = (styles.get_header(), styles.get_literal());
    let width = SECTIONS
        .iter()
        .flat_map(|(_, names)| names.iter())
        .filter(|n| cmd.find_subcommand(n).is_some())
        .map(|n| n.len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (title, names) in SECTIONS {
        let subs: Vec<_> = names
            .iter()
            .filter_map(|n| cmd.find_subcommand(n))
            .collect();
        if subs.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{heading}{title}:{heading:#}");
        for sub in subs {
            let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
            let name = sub.get_name();
            let pad = " ".repeat(width - name.len());
            let _ = writeln!(out, "  {literal}{name}{literal:#}{pad}  {about}");
        }
        out.push('\n');
    }
    out.trim_end().to_string() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(cmd: &clap::Command, prefix: &str, out: &mut Vec<String>) {
        for sub in cmd.get_subcommands() {
            if sub.get_name() == "help" {
                continue;
            }
            let path = if prefix.is_empty() {
                sub.get_name().to_string()
            } else {
                format!("{prefix} {}", sub.get_name())
            };
            paths(sub, &path, out);
            out.push(path);
        }
    }

    #[test]
    fn every_top_level_command_is_in_exactly_one_section() {
        let cmd = command();
        for sub in cmd.get_subcommands() {
            let name = sub.get_name();
            let found = SECTIONS
                .iter()
                .filter(|(_, names)| names.contains(&name))
                .count();
            assert_eq!(
                found, 1,
                "`{name}` is in {found} sections of cli::help::SECTIONS"
            );
        }
    }

    #[test]
    fn every_command_has_examples() {
        let cmd = command();
        let mut all = vec![];
        paths(&cmd, "", &mut all);
        for path in all {
            let mut c = &cmd;
            for part in path.split(' ') {
                c = c.find_subcommand(part).expect("path from the tree");
            }
            let after = c
                .get_after_help()
                .map(|a| a.to_string())
                .unwrap_or_default();
            assert!(after.contains("envctl "), "`{path}` has no examples");
        }
    }

    #[test]
    fn examples_name_only_commands_in_the_sections() {
        let known: Vec<&str> = SECTIONS
            .iter()
            .flat_map(|(_, n)| n.iter().copied())
            .collect();
        for (path, _) in EXAMPLES {
            let top = path.split(' ').next().unwrap_or_default();
            assert!(
                known.contains(&top),
                "examples for `{path}`, which no section lists"
            );
        }
    }

    #[test]
    fn clap_accepts_the_command() {
        command().debug_assert();
    }
}
