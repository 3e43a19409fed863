//! Parsing, `--set` and validation together, through `parse` as `load` runs them.

use std::path::Path;

use super::*;

const EXAMPLE: &str = include_str!("../../config/envctl.example.toml");
const MINIMAL: &str = "app = \"shop\"\n\n[services.web]\nimage = \"nginx:1.27\"\n";

fn file() -> &'static Path {
    Path::new("envctl.toml")
}

fn parse_text(text: &str) -> Result<Config, ConfigError> {
    parse(file(), text, &[])
}

fn parse_with(text: &str, sets: &[&str]) -> Result<Config, ConfigError> {
    let overrides: Vec<Override> = sets
        .iter()
        .map(|s| s.parse().expect("test override parses"))
        .collect();
    parse(file(), text, &overrides)
}

/// Runs `parse`, expecting a validation error, and returns it.
fn error(text: &str) -> ConfigError {
    match parse_text(text) {
        Ok(c) => panic!("expected an error, got {c:?}"),
        Err(e) => e,
    }
}

#[test]
fn example_config_parses_with_its_documented_values() {
    let c = parse_text(EXAMPLE).expect("config/envctl.example.toml is valid");
    assert_eq!(c.app, "shop");
    assert_eq!(c.logs.retention_days, 7);
    assert_eq!(c.ecr.max_images, 10);
    assert!(c.network.assign_public_ip);
    assert_eq!(
        c.vars.get("log_level"),
        Some(&toml::Value::String("info".into()))
    );
    let web = &c.services["web"];
    assert_eq!(web.image, "public.ecr.aws/nginx/nginx:1.27-alpine");
    assert_eq!((web.cpu, web.memory, web.count), (256, 512, 1));
    assert_eq!(web.port, Some(80));
    assert!(web.spot);
    assert_eq!(c.services.len(), 1);
}

#[test]
fn minimal_config_gets_defaults() {
    let c = parse_text(MINIMAL).expect("minimal config is valid");
    let web = &c.services["web"];
    assert_eq!((web.cpu, web.memory, web.count), (256, 512, 1));
    assert!(web.spot);
    assert_eq!(web.on_demand_base, 0);
    assert_eq!(c.logs.retention_days, 7);
    assert_eq!(c.templates, TemplatesConfig::default());
}

#[test]
fn malformed_toml_reports_the_line() {
    let text = "app = \"shop\"\n\n[services.web]\nimage = = \"nginx\"\n";
    let e = error(text);
    assert_eq!(e.file, "envctl.toml");
    assert!(
        e.message.contains("line 4"),
        "message should point at line 4: {}",
        e.message
    );
    assert!(e.hint.is_some());
}

#[test]
fn unknown_key_is_named_with_its_line() {
    let text = "app = \"shop\"\n[services.web]\nimage = \"nginx\"\nimgae = \"nginx\"\n";
    let e = error(text);
    assert!(e.message.contains("imgae"), "{}", e.message);
    assert!(e.message.contains("line 4"), "{}", e.message);
}

#[test]
fn bad_app_name_is_rejected() {
    for app in [
        "Shop",
        "shop_1",
        "1shop",
        "",
        "shop-",
        "a-very-long-app-name",
    ] {
        let e = error(&MINIMAL.replace("\"shop\"", &format!("{app:?}")));
        assert_eq!(e.key.as_deref(), Some("app"), "app = {app:?}: {e}");
    }
}

#[test]
fn no_services_is_rejected() {
    let e = error("app = \"shop\"\n[services]\n");
    assert_eq!(e.key.as_deref(), Some("services"));
    assert!(e.message.contains("no services"), "{e}");
    // Leaving the table out entirely is a parse error that names it.
    let e = error("app = \"shop\"\n");
    assert!(e.message.contains("services"), "{e}");
}

#[test]
fn bad_fargate_size_names_the_memory_key() {
    let e = error(&format!("{MINIMAL}cpu = 256\nmemory = 4096\n"));
    assert_eq!(e.key.as_deref(), Some("services.web.memory"));
    assert!(e.message.contains("4096"), "{e}");
    // The same memory fits a bigger cpu.
    parse_text(&format!("{MINIMAL}cpu = 1024\nmemory = 4096\n")).expect("valid pair");
}

#[test]
fn fargate_size_table_edges() {
    assert_eq!(fargate_size_error(256, 512), None);
    assert_eq!(fargate_size_error(256, 2048), None);
    assert!(fargate_size_error(256, 3072).is_some());
    assert_eq!(fargate_size_error(512, 4096), None);
    assert_eq!(fargate_size_error(4096, 30 * 1024), None);
    // 8 vCPU: 16 to 60 GB in 4 GB steps.
    assert_eq!(fargate_size_error(8192, 20 * 1024), None);
    assert!(fargate_size_error(8192, 18 * 1024).is_some());
    assert!(fargate_size_error(8192, 64 * 1024).is_some());
    assert!(fargate_size_error(300, 512).is_some_and(|m| m.contains("cpu = 300")));
}

#[test]
fn bad_retention_is_rejected() {
    let e = error(&format!("{MINIMAL}\n[logs]\nretention_days = 8\n"));
    assert_eq!(e.key.as_deref(), Some("logs.retention_days"));
    assert!(e.message.contains('8'), "{e}");
    parse_text(&format!("{MINIMAL}\n[logs]\nretention_days = 14\n")).expect("14 is valid");
}

#[test]
fn set_overrides_a_service_key() {
    let c = parse_with(EXAMPLE, &["services.web.count=3"]).expect("override applies");
    assert_eq!(c.services["web"].count, 3);
    // Everything else is left as the file says.
    let base = parse_text(EXAMPLE).expect("example parses");
    assert_eq!(base.services["web"].count, 1);
    assert_eq!(c.services["web"].memory, base.services["web"].memory);
    assert_eq!(c.app, base.app);
}

#[test]
fn set_with_unknown_key_fails_naming_it() {
    let e = parse_with(EXAMPLE, &["services.web.cnt=3"]).expect_err("cnt is not a key");
    assert!(e.message.contains("cnt"), "{e}");
    assert!(e.message.contains("services.web.cnt=3"), "{e}");
}

#[test]
fn set_is_validated_like_the_file() {
    let e = parse_with(EXAMPLE, &["services.web.memory=4096"]).expect_err("bad size");
    assert_eq!(e.key.as_deref(), Some("services.web.memory"));
    let e = parse_with(EXAMPLE, &["services.web.count=true"]).expect_err("wrong type");
    assert!(e.message.contains("services.web.count=true"), "{e}");
}

#[test]
fn set_through_a_scalar_fails_naming_the_key() {
    let e = parse_with(EXAMPLE, &["app.name=x"]).expect_err("app is a string");
    assert_eq!(e.key.as_deref(), Some("app.name"));
    assert!(e.message.contains("`app` is not a table"), "{e}");
}

#[test]
fn on_demand_base_above_count_is_rejected() {
    let e = error(&format!("{MINIMAL}count = 2\non_demand_base = 3\n"));
    assert_eq!(e.key.as_deref(), Some("services.web.on_demand_base"));
    assert!(e.message.contains("count (2)"), "{e}");
    parse_text(&format!("{MINIMAL}count = 2\non_demand_base = 2\n")).expect("equal is fine");
    let e = error(&format!(
        "{MINIMAL}count = 2\nspot = false\non_demand_base = 1\n"
    ));
    assert_eq!(e.key.as_deref(), Some("services.web.on_demand_base"));
}

#[test]
fn janitor_defaults_and_schedule_validation() {
    let c = parse_text(MINIMAL).expect("minimal config is valid");
    assert_eq!(c.janitor, JanitorConfig::default());
    assert_eq!(c.janitor.schedule, "rate(1 hour)");
    assert!(c.janitor.source.is_empty() && c.janitor.install_command.is_empty());
    assert!(!c.janitor.live_branches);
    let c = parse_with(MINIMAL, &["janitor.schedule=cron(0 * * * ? *)"]).expect("cron");
    assert_eq!(c.janitor.schedule, "cron(0 * * * ? *)");
    let e = parse_with(MINIMAL, &["janitor.schedule=hourly"]).expect_err("not an expression");
    assert_eq!(e.key.as_deref(), Some("janitor.schedule"));
    let e = error(&format!("{MINIMAL}\n[janitor]\nbranch = \"\"\n"));
    assert_eq!(e.key.as_deref(), Some("janitor.branch"));
    let e = error(&format!(
        "{MINIMAL}\n[janitor]\nbranch = \"main; rm -rf /\"\n"
    ));
    assert_eq!(e.key.as_deref(), Some("janitor.branch"));
    let e = error(&format!("{MINIMAL}\n[janitor]\nsoruce = \"x\"\n"));
    assert!(e.message.contains("soruce"), "{e}");
}

const BUILT: &str =
    "app = \"shop\"\n\n[services.api.build]\nrepository_url = \"https://github.com/acme/shop\"\n";

/// The key of the validation error `extra` (appended to [services.api.build]) causes.
fn build_error_key(extra: &str) -> Option<String> {
    let e = error(&format!("{BUILT}{extra}"));
    assert!(e.hint.is_some(), "{e}");
    e.key
}

#[test]
fn build_table_defaults() {
    let c = parse_text(BUILT).expect("a build table replaces image");
    let api = &c.services["api"];
    assert!(api.image.is_empty());
    let b = api.build.as_ref().expect("build table");
    assert_eq!(b.context, Path::new("."));
    assert_eq!(b.dockerfile, Path::new("Dockerfile"));
    assert_eq!((b.source, b.preset), (BuildSource::Git, None));
    assert!(b.args.is_empty() && b.cache_paths.is_empty());
    assert_eq!(c.build, CodeBuildConfig::default());
    assert_eq!(c.build.compute_type, "BUILD_GENERAL1_MEDIUM");
    assert_eq!(c.build.image, "aws/codebuild/standard:7.0");
    assert_eq!(c.build.timeout_minutes, 30);
    assert_eq!(c.build.buildspec, Path::new("templates/buildspec.yml.j2"));
    let c = parse_text(&format!(
        "{BUILT}preset = \"gradle\"\ncontext = \"api\"\nargs = {{ JDK = \"21\" }}\n"
    ))
    .expect("preset and args");
    let b = c.services["api"].build.clone().expect("build table");
    assert_eq!(b.preset, Some(BuildPreset::Gradle));
    assert_eq!(b.args["JDK"], "21");
}

#[test]
fn image_or_build_exactly_one() {
    let e = error("app = \"shop\"\n[services.web]\ncount = 1\n");
    assert_eq!(e.key.as_deref(), Some("services.web.image"));
    assert!(
        e.hint.as_deref().is_some_and(|h| h.contains("build")),
        "{e:?}"
    );
    let both = BUILT.replace(
        "[services.api.build]",
        "[services.api]\nimage = \"nginx\"\n\n[services.api.build]",
    );
    let e = error(&both);
    assert_eq!(e.key.as_deref(), Some("services.api.image"), "{e}");
    assert!(e.message.contains("build"), "{e}");
}

#[test]
fn build_repository_url_is_required_for_git_and_checked() {
    let text = "app = \"shop\"\n[services.api.build]\n";
    let e = error(text);
    assert_eq!(e.key.as_deref(), Some("services.api.build.repository_url"));
    assert!(e.message.contains("required"), "{e}");
    parse_text(&format!("{text}source = \"local\"\n")).expect("local needs no URL");
    let e = error(&format!(
        "{text}repository_url = \"git@github.com:acme/shop.git\"\n"
    ));
    assert_eq!(e.key.as_deref(), Some("services.api.build.repository_url"));
    parse_text(&format!(
        "{text}repository_url = \"https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/shop\"\n"
    ))
    .expect("CodeCommit URL");
    let e = error(&format!("{text}source = \"s3\"\n"));
    assert!(e.message.contains("s3"), "{e}");
}

#[test]
fn build_fields_are_validated_by_name() {
    let key = |f: &str| Some(format!("services.api.build.{f}"));
    assert_eq!(build_error_key("preset = \"custom\"\n"), key("cache_paths"));
    parse_text(&format!(
        "{BUILT}preset = \"custom\"\ncache_paths = [\"/root/.ivy2/**/*\"]\n"
    ))
    .expect("custom with paths");
    assert_eq!(
        build_error_key("cache_paths = [\"\"]\n"),
        key("cache_paths")
    );
    assert_eq!(build_error_key("args = { \"1X\" = \"a\" }\n"), key("args"));
    assert_eq!(build_error_key("args = { X = \"a\\nb\" }\n"), key("args"));
    assert_eq!(
        build_error_key("dockerfile = \"../Dockerfile\"\n"),
        key("dockerfile")
    );
    assert_eq!(build_error_key("context = \"/abs\"\n"), key("context"));
    assert_eq!(build_error_key("context = \"\"\n"), key("context"));
    let e = error(&format!("{BUILT}preset = \"ant\"\n"));
    assert!(e.message.contains("ant"), "{e}");
}

#[test]
fn app_build_table_is_validated() {
    let e = error(&format!("{BUILT}\n[build]\ntimeout_minutes = 2\n"));
    assert_eq!(e.key.as_deref(), Some("build.timeout_minutes"));
    let e = error(&format!("{BUILT}\n[build]\ncompute_type = \"large\"\n"));
    assert_eq!(e.key.as_deref(), Some("build.compute_type"));
    let c = parse_with(BUILT, &["build.compute_type=BUILD_GENERAL1_LARGE"]).expect("--set");
    assert_eq!(c.build.compute_type, "BUILD_GENERAL1_LARGE");
}

#[test]
fn error_display_names_file_and_key() {
    let e = error(&format!("{MINIMAL}\n[logs]\nretention_days = 8\n"));
    assert!(
        e.to_string()
            .starts_with("envctl.toml: `logs.retention_days`: "),
        "{e}"
    );
}

#[test]
fn exec_is_on_by_default_and_only_takes_a_boolean() {
    assert!(parse_text(MINIMAL).expect("minimal").exec.enabled);
    let off = parse_with(MINIMAL, &["exec.enabled=false"]).expect("--set exec.enabled");
    assert!(!off.exec.enabled);
    let e = error(&format!("{MINIMAL}\n[exec]\nenabled = \"yes\"\n"));
    assert!(e.message.contains("enabled"), "{e}");
    let e = error(&format!("{MINIMAL}\n[exec]\nshell = \"/bin/bash\"\n"));
    assert!(e.message.contains("shell"), "{e}");
    assert!(parse_text(EXAMPLE).expect("example").exec.enabled);
}

#[test]
fn the_nearest_config_above_the_directory_is_found_like_cargo() {
    let root = tempfile::tempdir().expect("temp dir");
    let app = root.path().join("app");
    let deep = app.join("services/web/src");
    std::fs::create_dir_all(&deep).expect("dirs");
    std::fs::write(app.join("envctl.toml"), MINIMAL).expect("write");
    assert_eq!(
        locate(None, &deep).expect("found"),
        Path::new("../../../envctl.toml")
    );
    assert_eq!(locate(None, &app).expect("found"), Path::new("envctl.toml"));
    // A nearer one wins.
    std::fs::write(app.join("services/envctl.toml"), MINIMAL).expect("write");
    assert_eq!(
        locate(None, &deep).expect("found"),
        Path::new("../../envctl.toml")
    );
    // --config and ENVCTL_CONFIG stay exact, even when the file is not there.
    assert_eq!(
        locate(Some(Path::new("other.toml")), &deep).expect("as given"),
        Path::new("other.toml")
    );
}

#[test]
fn no_config_anywhere_above_names_the_start_directory_and_init() {
    let root = tempfile::tempdir().expect("temp dir");
    // A directory named envctl.toml is not a config.
    std::fs::create_dir_all(root.path().join("envctl.toml")).expect("dir");
    let e = locate(None, root.path()).expect_err("none");
    assert!(
        e.message.contains(&root.path().display().to_string()),
        "{e}"
    );
    assert!(
        e.hint
            .as_deref()
            .unwrap_or_default()
            .contains("envctl init"),
        "{e}"
    );
}
