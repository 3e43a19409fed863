//! `envctl janitor install|uninstall` against the emulator: what the janitor consists of (read
//! back with the SDK directly), zero writes when converged, clean removal, foreign names left
//! alone, and input errors before any request. moto never fires the rule nor runs a build; see
//! docs/janitor.md for checking that on AWS.

use serde_json::Value;

use crate::support::{App, Run};

const NAME: &str = "envctl-shop-janitor";
const EVENTS_ROLE: &str = "envctl-shop-janitor-events";
const SOURCE: &str = "https://github.com/acme/shop.git";
const SETS: [&str; 2] = ["--set", "janitor.source=https://github.com/acme/shop.git"];

fn install(app: &App, extra: &[&str]) -> Run {
    app.ok(&[&["janitor", "install"][..], &SETS[..], extra].concat())
}

/// Appends a `[janitor]` table to the envctl.toml that `init` wrote.
fn configure(app: &App, table: &str) {
    let path = app.path().join("envctl.toml");
    let mut text = std::fs::read_to_string(&path).expect("read envctl.toml");
    text.push_str("\n[janitor]\n");
    text.push_str(table);
    std::fs::write(&path, text).expect("write envctl.toml");
}

/// Every rule named like the janitor's.
async fn janitor_rules(app: &App) -> Vec<aws_sdk_eventbridge::types::Rule> {
    app.events()
        .list_rules()
        .name_prefix("envctl-shop")
        .send()
        .await
        .expect("list rules")
        .rules()
        .to_vec()
}

async fn janitor_projects(app: &App) -> Vec<aws_sdk_codebuild::types::Project> {
    app.codebuild()
        .batch_get_projects()
        .names(NAME)
        .send()
        .await
        .expect("batch get projects")
        .projects()
        .to_vec()
}

async fn janitor_roles(app: &App) -> Vec<aws_sdk_iam::types::Role> {
    let mut roles: Vec<_> = app
        .iam()
        .list_roles()
        .send()
        .await
        .expect("list roles")
        .roles()
        .iter()
        .filter(|r| r.role_name().starts_with(NAME))
        .cloned()
        .collect();
    roles.sort_by(|a, b| a.role_name().cmp(b.role_name()));
    roles
}

async fn inline_policy(app: &App, role: &str, policy: &str) -> Value {
    let out = app
        .iam()
        .get_role_policy()
        .role_name(role)
        .policy_name(policy)
        .send()
        .await
        .expect("get role policy");
    policy_json(out.policy_document())
}

/// IAM returns policy documents URL-encoded (moto too, for inline policies).
pub(crate) fn policy_json(raw: &str) -> Value {
    if let Ok(v) = serde_json::from_str(raw) {
        return v;
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("ascii");
            out.push(u8::from_str_radix(hex, 16).expect("percent escape"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    serde_json::from_slice(&out).unwrap_or_else(|e| panic!("policy is not JSON ({e}): {raw}"))
}

fn states(stdout: &str) -> Vec<(String, String)> {
    let v: Value = serde_json::from_str(stdout).expect("json report");
    v["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| {
            (
                r["resource"].as_str().unwrap_or_default().to_string(),
                r["state"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[tokio::test]
async fn install_creates_rule_target_project_and_roles_then_converges_with_zero_writes() {
    let app = App::init();
    let r = install(&app, &["--output", "json"]);
    assert_eq!(
        states(&r.stdout),
        pairs(&[
            ("CodeBuild role", "created"),
            ("CodeBuild project", "created"),
            ("events role", "created"),
            ("EventBridge rule", "created"),
            ("rule target", "created"),
        ]),
        "{r}"
    );

    // Exactly one rule, on the default schedule.
    let rules = janitor_rules(&app).await;
    assert_eq!(rules.len(), 1, "{rules:?}");
    assert_eq!(rules[0].name(), Some(NAME));
    assert_eq!(rules[0].schedule_expression(), Some("rate(1 hour)"));
    assert_eq!(rules[0].state().map(|s| s.as_str()), Some("ENABLED"));
    let rule_tags = app
        .events()
        .list_tags_for_resource()
        .resource_arn(rules[0].arn().expect("rule arn"))
        .send()
        .await
        .expect("rule tags");
    assert!(
        rule_tags
            .tags()
            .iter()
            .any(|t| t.key() == "envctl:managed-by" && t.value() == "envctl"),
        "{rule_tags:?}"
    );

    // Two roles: CodeBuild's and EventBridge's, each trusting only its service.
    let roles = janitor_roles(&app).await;
    let names: Vec<&str> = roles.iter().map(|r| r.role_name()).collect();
    assert_eq!(names, [NAME, EVENTS_ROLE]);
    for (role, service) in roles
        .iter()
        .zip(["codebuild.amazonaws.com", "events.amazonaws.com"])
    {
        let trust = policy_json(role.assume_role_policy_document().expect("trust policy"));
        assert_eq!(
            trust["Statement"][0]["Principal"]["Service"], service,
            "{trust}"
        );
    }
    let build_role_arn = roles[0].arn().to_string();
    let events_role_arn = roles[1].arn().to_string();

    // One project: the repository, the branch, the buildspec that runs gc, the build role.
    let projects = janitor_projects(&app).await;
    assert_eq!(projects.len(), 1);
    let project = &projects[0];
    let project_arn = project.arn().expect("project arn").to_string();
    let source = project.source().expect("source");
    assert_eq!(source.r#type().as_str(), "GITHUB");
    assert_eq!(source.location(), Some(SOURCE));
    assert_eq!(project.source_version(), Some("main"));
    let buildspec = source.buildspec().expect("inline buildspec");
    // By default gc collects expired envs only (live_branches = false).
    assert!(buildspec.contains("- \"envctl gc --yes\"\n"), "{buildspec}");
    assert!(!buildspec.contains("git fetch"), "{buildspec}");
    // The prebuilt binary of this envctl's version for the ARM build host, checksum-verified;
    // nothing compiles.
    assert!(!buildspec.contains("cargo"), "{buildspec}");
    let archive = format!(
        "archive='envctl-v{}-aarch64-unknown-linux-musl.tar.gz'",
        env!("CARGO_PKG_VERSION")
    );
    assert!(buildspec.contains(&archive), "{buildspec}");
    assert!(
        buildspec.contains("SHA256SUMS") && buildspec.contains("sha256sum"),
        "{buildspec}"
    );
    assert_eq!(project.service_role(), Some(build_role_arn.as_str()));
    let env = project.environment().expect("environment");
    assert_eq!(
        env.image(),
        "aws/codebuild/amazonlinux-aarch64-standard:3.0"
    );
    assert_eq!(env.r#type().as_str(), "ARM_CONTAINER");
    assert_eq!(env.compute_type().as_str(), "BUILD_GENERAL1_SMALL");
    assert_eq!(project.timeout_in_minutes(), Some(10));
    assert!(
        project
            .tags()
            .iter()
            .any(|t| t.key() == Some("envctl:app") && t.value() == Some("shop")),
        "{:?}",
        project.tags()
    );

    // One target: the project, started as the events role.
    let targets = app
        .events()
        .list_targets_by_rule()
        .rule(NAME)
        .send()
        .await
        .expect("targets");
    let targets = targets.targets();
    assert_eq!(targets.len(), 1, "{targets:?}");
    assert_eq!(targets[0].id(), "envctl-janitor");
    assert_eq!(targets[0].arn(), project_arn);
    assert_eq!(targets[0].role_arn(), Some(events_role_arn.as_str()));

    // The events role may start exactly this project; the build role deletes only shop's.
    let events_policy = inline_policy(&app, EVENTS_ROLE, "envctl-janitor-start-build").await;
    assert_eq!(
        events_policy["Statement"],
        serde_json::json!([{
            "Sid": "StartJanitorBuild",
            "Effect": "Allow",
            "Action": ["codebuild:StartBuild"],
            "Resource": project_arn,
        }])
    );
    let build_policy = inline_policy(&app, NAME, "envctl-janitor").await;
    let delete_service = build_policy["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .find(|s| s["Sid"] == "DeleteEnvServices")
        .expect("DeleteEnvServices statement");
    assert_eq!(
        delete_service["Resource"],
        "arn:aws:ecs:us-east-1:123456789012:service/envctl-shop/shop-*"
    );

    // Unchanged config: reads only.
    app.moto.clear_recording();
    let again = install(&app, &[]);
    assert_eq!(app.moto.write_ops(), Vec::<String>::new(), "{again}");
    for line in again.stdout.lines().skip(1) {
        assert!(line.trim_end().ends_with("exists"), "{again}");
    }
    assert!(again.stderr.contains("Nothing to do"), "{again}");
}

#[tokio::test]
async fn changed_schedule_updates_only_the_rule() {
    let app = App::init();
    install(&app, &[]);

    app.moto.clear_recording();
    let r = install(
        &app,
        &[
            "--set",
            "janitor.schedule=rate(30 minutes)",
            "--output",
            "json",
        ],
    );
    assert_eq!(app.moto.write_ops(), ["PutRule"], "{r}");
    assert!(states(&r.stdout).contains(&("EventBridge rule".to_string(), "updated".to_string())));
    let rules = janitor_rules(&app).await;
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0].schedule_expression(), Some("rate(30 minutes)"));
    // The rule keeps its target.
    let targets = app
        .events()
        .list_targets_by_rule()
        .rule(NAME)
        .send()
        .await
        .expect("targets");
    assert_eq!(targets.targets().len(), 1);
}

/// A changed buildspec is the one change that needs UpdateProject, which moto 5.2.5 does not
/// implement (a bare HTTP 500): pinned here, so the diff is proven to ask for exactly that.
#[tokio::test]
async fn changed_buildspec_sends_update_project_which_moto_lacks() {
    let app = App::init();
    install(&app, &[]);

    app.moto.clear_recording();
    let r = app.expect(
        &[
            &["janitor", "install"][..],
            &SETS[..],
            &["--set", "janitor.live_branches=true"],
        ]
        .concat(),
        1,
    );
    assert_eq!(app.moto.write_ops(), ["UpdateProject"], "{r}");
    assert!(r.stderr.contains("codebuild:UpdateProject"), "{r}");
}

#[tokio::test]
async fn uninstall_removes_everything_and_a_second_one_has_nothing_to_remove() {
    let app = App::init();
    // This time from envctl.toml rather than --set flags, collecting deleted branches' envs too.
    configure(
        &app,
        &format!(
        "source = \"{SOURCE}\"\ninstall_command = \"cargo install envctl\"\nlive_branches = true\n"
    ),
    );
    app.ok(&["janitor", "install"]);
    assert_eq!(janitor_rules(&app).await.len(), 1);
    let projects = janitor_projects(&app).await;
    let buildspec = projects[0]
        .source()
        .and_then(|s| s.buildspec())
        .expect("buildspec");
    // A custom install command replaces the prebuilt download, with the longer timeout.
    assert!(
        buildspec.contains("\"cargo install envctl\""),
        "{buildspec}"
    );
    assert!(!buildspec.contains("sha256sum"), "{buildspec}");
    assert_eq!(projects[0].timeout_in_minutes(), Some(30));
    assert!(
        buildspec.contains("envctl gc --yes --live-branches-from git"),
        "{buildspec}"
    );
    assert!(
        buildspec.contains("git fetch --prune origin"),
        "{buildspec}"
    );

    let r = app.ok(&["janitor", "uninstall"]);
    for row in [
        "EventBridge rule",
        "CodeBuild project",
        "events role",
        "CodeBuild role",
    ] {
        let line = r
            .stdout
            .lines()
            .find(|l| l.starts_with(row))
            .unwrap_or_else(|| panic!("no {row} row\n{r}"));
        assert!(line.trim_end().ends_with("deleted"), "{r}");
    }
    assert!(janitor_rules(&app).await.is_empty());
    assert!(janitor_projects(&app).await.is_empty());
    assert!(janitor_roles(&app).await.is_empty());

    app.moto.clear_recording();
    let again = app.ok(&["janitor", "uninstall", "--output", "json"]);
    assert!(again.stderr.contains("Nothing to remove"), "{again}");
    assert!(
        states(&again.stdout).iter().all(|(_, s)| s == "absent"),
        "{again}"
    );
    assert_eq!(app.moto.write_ops(), Vec::<String>::new());
}

#[tokio::test]
async fn foreign_rule_with_the_janitors_name_is_a_conflict_and_stays_untouched() {
    let app = App::init();
    app.events()
        .put_rule()
        .name(NAME)
        .schedule_expression("rate(5 minutes)")
        .send()
        .await
        .expect("someone else's rule");

    app.moto.clear_recording();
    let r = app.expect(&[&["janitor", "install"][..], &SETS[..]].concat(), 4);
    assert!(
        r.stderr.contains(&format!("EventBridge rule `{NAME}`")),
        "{r}"
    );
    assert!(r.stderr.contains("not managed by envctl"), "{r}");
    assert_eq!(app.moto.write_ops(), Vec::<String>::new(), "{r}");

    let r = app.expect(&["janitor", "uninstall"], 4);
    assert!(r.stderr.contains("not managed by envctl"), "{r}");
    assert_eq!(app.moto.write_ops(), Vec::<String>::new(), "{r}");

    let rules = janitor_rules(&app).await;
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0].schedule_expression(), Some("rate(5 minutes)"));
    let targets = app
        .events()
        .list_targets_by_rule()
        .rule(NAME)
        .send()
        .await
        .expect("targets");
    assert!(targets.targets().is_empty());
    assert!(janitor_projects(&app).await.is_empty());
    assert!(janitor_roles(&app).await.is_empty());
}

#[tokio::test]
async fn missing_or_bad_janitor_settings_are_input_errors_before_any_request() {
    let app = App::init();
    app.moto.clear_recording();

    let r = app.expect(&["janitor", "install"], 3);
    assert!(r.stderr.contains("`janitor.source`"), "{r}");
    assert!(r.stderr.contains("hint:"), "{r}");

    let r = app.expect(
        &[
            &["janitor", "install"][..],
            &SETS[..],
            &["--set", "janitor.envctl_sha256=not-a-digest"],
        ]
        .concat(),
        3,
    );
    assert!(r.stderr.contains("`janitor.envctl_sha256`"), "{r}");
    let r = app.expect(
        &[
            &["janitor", "install"][..],
            &SETS[..],
            &["--set", "janitor.envctl_version=latest"],
        ]
        .concat(),
        3,
    );
    assert!(r.stderr.contains("`janitor.envctl_version`"), "{r}");

    let r = app.expect(
        &[
            "janitor",
            "install",
            "--set",
            "janitor.source=https://gitlab.com/acme/shop.git",
        ],
        3,
    );
    assert!(r.stderr.contains("`janitor.source`"), "{r}");
    assert!(
        r.stderr.contains("neither a GitHub nor a CodeCommit"),
        "{r}"
    );

    let r = app.expect(
        &[
            &["janitor", "install"][..],
            &SETS[..],
            &["--set", "janitor.schedule=hourly"],
        ]
        .concat(),
        3,
    );
    assert!(r.stderr.contains("`janitor.schedule`"), "{r}");

    assert_eq!(app.moto.aws_operations(), Vec::<String>::new());
}

/// Apps initialised before the janitor existed have no templates/janitor-buildspec.yml.j2.
#[tokio::test]
async fn missing_default_buildspec_template_falls_back_to_the_built_in_one() {
    let app = App::init();
    std::fs::remove_file(app.path().join("templates/janitor-buildspec.yml.j2"))
        .expect("init wrote the buildspec template");
    let r = install(&app, &[]);
    assert!(
        r.stderr.contains("using the built-in janitor buildspec"),
        "{r}"
    );
    let projects = janitor_projects(&app).await;
    let buildspec = projects[0]
        .source()
        .and_then(|s| s.buildspec())
        .expect("buildspec");
    assert!(buildspec.contains("envctl gc --yes"), "{buildspec}");

    // A path set explicitly must exist.
    let r = app.expect(
        &[
            &["janitor", "install"][..],
            &SETS[..],
            &["--set", "janitor.buildspec=ci/janitor.yml.j2"],
        ]
        .concat(),
        3,
    );
    assert!(r.stderr.contains("janitor.yml.j2"), "{r}");
}

/// `install --plan` reads and prints; the steps it lists are the writes `install` then sends,
/// in that order; a converged janitor plans nothing.
#[tokio::test]
async fn install_plan_writes_nothing_and_lists_the_writes_install_sends() {
    let app = App::init();
    app.moto.clear_recording();
    let r = app.ok(&[&["janitor", "install", "--plan"][..], &SETS[..]].concat());
    assert_eq!(app.moto.write_ops(), Vec::<String>::new(), "{r}");
    assert!(
        r.stdout
            .starts_with("Plan for the janitor of app `shop` in us-east-1:\n"),
        "{r}"
    );
    let steps: Vec<&str> = r
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("  + "))
        .collect();
    assert_eq!(
        steps,
        [
            "create IAM role envctl-shop-janitor (trusted by codebuild.amazonaws.com)",
            "put inline policy envctl-janitor on IAM role envctl-shop-janitor",
            "create CodeBuild project envctl-shop-janitor (GITHUB https://github.com/acme/shop.git, branch main; ARM_CONTAINER BUILD_GENERAL1_SMALL)",
            "create IAM role envctl-shop-janitor-events (trusted by events.amazonaws.com)",
            "put inline policy envctl-janitor-start-build on IAM role envctl-shop-janitor-events",
            "create EventBridge rule envctl-shop-janitor (rate(1 hour))",
            "add target envctl-janitor to EventBridge rule envctl-shop-janitor: start the project as the events role",
        ],
        "{r}"
    );
    assert!(
        r.stdout
            .ends_with("Plan: 7 to create, 0 to update, 0 to delete.\n"),
        "{r}"
    );
    // Changes pending: 2 with --detailed-exitcode, as `envctl plan`.
    app.expect(
        &[
            &["janitor", "install", "--plan", "--detailed-exitcode"][..],
            &SETS[..],
        ]
        .concat(),
        2,
    );

    app.moto.clear_recording();
    install(&app, &[]);
    assert_eq!(
        app.moto.write_ops(),
        [
            "CreateRole",
            "PutRolePolicy",
            "CreateProject",
            "CreateRole",
            "PutRolePolicy",
            "PutRule",
            "PutTargets",
        ]
    );

    app.moto.clear_recording();
    let r = app.ok(&[
        &["janitor", "install", "--plan", "--detailed-exitcode"][..],
        &SETS[..],
    ]
    .concat());
    assert_eq!(
        r.stdout, "No changes: the janitor of app `shop` is installed in us-east-1.\n",
        "{r}"
    );
    // A changed schedule, as JSON: the one step and what it sends.
    let r = app.ok(&[
        &["janitor", "install", "--plan", "--output", "json"][..],
        &SETS[..],
        &["--set", "janitor.schedule=rate(30 minutes)"],
    ]
    .concat());
    let plan: Value = serde_json::from_str(&r.stdout).expect("json plan");
    assert_eq!(plan["operation"], "install");
    let actions = plan["actions"].as_array().expect("actions");
    assert_eq!(actions.len(), 1, "{plan}");
    assert_eq!(actions[0]["action"], "update_rule");
    assert_eq!(actions[0]["rule"]["schedule"], "rate(30 minutes)");
    assert_eq!(app.moto.write_ops(), Vec::<String>::new(), "{r}");

    let r = app.ok(&["janitor", "uninstall", "--plan"]);
    assert!(
        r.stdout
            .ends_with("Plan: 0 to create, 0 to update, 4 to delete.\n"),
        "{r}"
    );
    assert_eq!(app.moto.write_ops(), Vec::<String>::new(), "{r}");
}

/// A conflict fails the plan as it would fail the install (exit 4), after printing it.
#[tokio::test]
async fn install_plan_with_a_foreign_role_prints_the_conflict_and_exits_4() {
    let app = App::init();
    app.iam()
        .create_role()
        .role_name(EVENTS_ROLE)
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .expect("someone else's role");
    app.moto.clear_recording();
    let r = app.expect(
        &[&["janitor", "install", "--plan"][..], &SETS[..]].concat(),
        4,
    );
    assert!(
        r.stdout.contains(&format!(
            "! conflict: IAM role `{EVENTS_ROLE}` exists and is not managed by envctl"
        )),
        "{r}"
    );
    assert_eq!(app.moto.write_ops(), Vec::<String>::new(), "{r}");
}
