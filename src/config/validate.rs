//! Checks of a parsed config: names, sizes, schedules, builds, janitor, database, hooks,
//! previews. Each error names the file, the key and the fix.

use std::path::Path;

use super::*;
use crate::naming;
use crate::schedule;

/// CloudWatch Logs accepts only these retention periods.
const LOG_RETENTION_DAYS: [i32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// ECS's service quota default is far above this; the cap catches typos like `count = 1000`.
const MAX_COUNT: u32 = 100;

pub(super) fn validate(file: &Path, c: &Config) -> Result<(), ConfigError> {
    let err = |key: &str, msg: String, hint: &str| {
        Err(ConfigError::new(file, Some(key), msg, Some(hint)))
    };
    if let Some(m) = naming::app_name_error(&c.app) {
        return err("app", m, "use a short lowercase name such as `shop`");
    }
    if c.services.is_empty() {
        return err(
            "services",
            "no services are defined".into(),
            "add a [services.web] table with at least `image = \"...\"`",
        );
    }
    if let Some(name) = &c.cluster.name {
        let ok = !name.is_empty()
            && name.len() <= 255
            && name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_');
        if !ok {
            return err(
                "cluster.name",
                format!("`{name}` is not a valid ECS cluster name"),
                "use letters, digits, '-' and '_' (at most 255)",
            );
        }
    }
    if !LOG_RETENTION_DAYS.contains(&c.logs.retention_days) {
        return err(
            "logs.retention_days",
            format!(
                "{} is not a retention CloudWatch Logs accepts",
                c.logs.retention_days
            ),
            "use one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...",
        );
    }
    for (i, s) in c.network.subnets.iter().enumerate() {
        if !s.starts_with("subnet-") {
            return err(
                &format!("network.subnets[{i}]"),
                format!("`{s}` is not a subnet id"),
                "subnet ids look like `subnet-0123abcd`",
            );
        }
    }
    for (i, s) in c.network.security_groups.iter().enumerate() {
        if !s.starts_with("sg-") {
            return err(
                &format!("network.security_groups[{i}]"),
                format!("`{s}` is not a security group id"),
                "security group ids look like `sg-0123abcd`",
            );
        }
    }
    for (key, arn) in [
        ("roles.execution_role_arn", &c.roles.execution_role_arn),
        ("roles.task_role_arn", &c.roles.task_role_arn),
    ] {
        if let Some(arn) = arn {
            if !(arn.starts_with("arn:") && arn.contains(":iam::") && arn.contains(":role/")) {
                return err(
                    key,
                    format!("`{arn}` is not an IAM role ARN"),
                    "use arn:aws:iam::ACCOUNT:role/NAME",
                );
            }
        }
    }
    if c.ecr.max_images == 0 {
        return err(
            "ecr.max_images",
            "must be at least 1".into(),
            "set it to the number of images to keep per env and service",
        );
    }
    if c.ecr.untagged_expire_days == 0 {
        return err(
            "ecr.untagged_expire_days",
            "must be at least 1".into(),
            "ECR lifecycle rules count whole days",
        );
    }
    validate_lifecycle(file, c)?;
    validate_preview(file, c)?;
    for (name, s) in &c.services {
        let key = |k: &str| format!("services.{name}.{k}");
        if let Some(m) = naming::service_key_error(name) {
            return err(
                &format!("services.{name}"),
                m,
                "use a short lowercase name such as `web`",
            );
        }
        match (&s.build, s.image.trim().is_empty()) {
            (None, true) => {
                return err(
                    &key("image"),
                    "is empty, and the service has no `build` table".into(),
                    "set an image URI such as `public.ecr.aws/nginx/nginx:1.27`, or add \
                     [services.<key>.build] to have envctl build it",
                )
            }
            (Some(_), false) => {
                return err(
                    &key("image"),
                    "is set, but so is `build` (envctl would build and use its own image)".into(),
                    "remove `image`, or remove the build table",
                )
            }
            (Some(b), true) => validate_build(file, name, b)?,
            (None, false) => {}
        }
        if let Some(m) = fargate_size_error(s.cpu, s.memory) {
            let field = if m.starts_with("cpu") {
                "cpu"
            } else {
                "memory"
            };
            return err(
                &key(field),
                m,
                "see the Fargate task size table in docs/configuration.md",
            );
        }
        if s.count > MAX_COUNT {
            return err(
                &key("count"),
                format!("{} is more than {MAX_COUNT}", s.count),
                "lower it, or split the load over several services",
            );
        }
        if s.on_demand_base > s.count {
            return err(
                &key("on_demand_base"),
                format!("{} is more than count ({})", s.on_demand_base, s.count),
                "on_demand_base is how many of the tasks run on on-demand FARGATE",
            );
        }
        if !s.spot && s.on_demand_base > 0 {
            return err(
                &key("on_demand_base"),
                "only applies with spot = true".into(),
                "remove it, or set spot = true",
            );
        }
        if s.port == Some(0) {
            return err(
                &key("port"),
                "0 is not a port".into(),
                "use the port the container listens on, e.g. 8080",
            );
        }
    }
    Ok(())
}

/// The Scheduler's largest flexible window.
const MAX_FLEXIBLE_WINDOW: u32 = 1440;

fn validate_lifecycle(file: &Path, c: &Config) -> Result<(), ConfigError> {
    let err = |key: &str, msg: String, hint: &str| {
        Err(ConfigError::new(file, Some(key), msg, Some(hint)))
    };
    let sc = &c.schedule;
    if let Err(m) = schedule::timezone(&sc.timezone) {
        return err(
            "schedule.timezone",
            m,
            "use an IANA name such as `Europe/Berlin` or `UTC`",
        );
    }
    // `days` on its own first, so that its errors name it (a full cron(...) time ignores it).
    if let Err(m) = schedule::schedule_expression("00:00", &sc.days) {
        return err(
            "schedule.days",
            m,
            "use MON-FRI, SAT-SUN, MON,WED,FRI or daily",
        );
    }
    for (key, at) in [("schedule.stop", &sc.stop), ("schedule.start", &sc.start)] {
        if let Err(m) = schedule::schedule_expression(at, &sc.days) {
            return err(key, m, "use HH:MM (24h) with `days`, or a full cron(...) such as `cron(0 20 ? * MON-FRI *)`");
        }
    }
    if sc.flexible_window_minutes > MAX_FLEXIBLE_WINDOW {
        return err(
            "schedule.flexible_window_minutes",
            format!(
                "{} is more than the Scheduler allows ({MAX_FLEXIBLE_WINDOW})",
                sc.flexible_window_minutes
            ),
            "use 0 (exact) to 1440 minutes",
        );
    }
    if let Err(m) = schedule::parse_duration_spec(&c.expiry.ttl) {
        return err(
            "expiry.ttl",
            m,
            "use a duration such as `7d`, `72h`, or `never`",
        );
    }
    validate_janitor(file, &c.janitor)?;
    validate_hooks(file, c)?;
    validate_database(file, c)?;
    validate_codebuild(file, &c.build)
}

/// CodeBuild accepts build timeouts from 5 minutes to 36 hours.
const BUILD_TIMEOUT_MINUTES: std::ops::RangeInclusive<u32> = 5..=2160;

fn validate_codebuild(file: &Path, b: &CodeBuildConfig) -> Result<(), ConfigError> {
    let err = |key: &str, msg: String, hint: &str| {
        Err(ConfigError::new(file, Some(key), msg, Some(hint)))
    };
    if !b.compute_type.starts_with("BUILD_") {
        return err(
            "build.compute_type",
            format!("`{}` is not a CodeBuild compute type", b.compute_type),
            "e.g. `BUILD_GENERAL1_MEDIUM` or `BUILD_GENERAL1_LARGE`",
        );
    }
    if b.image.trim().is_empty() {
        return err(
            "build.image",
            "is empty".into(),
            "e.g. `aws/codebuild/standard:7.0`",
        );
    }
    if !BUILD_TIMEOUT_MINUTES.contains(&b.timeout_minutes) {
        return err(
            "build.timeout_minutes",
            format!("{} is outside what CodeBuild allows", b.timeout_minutes),
            "use 5 to 2160 minutes",
        );
    }
    if b.buildspec.as_os_str().is_empty() {
        return err(
            "build.buildspec",
            "is empty".into(),
            "use a template path relative to the config file, e.g. templates/buildspec.yml.j2",
        );
    }
    Ok(())
}

/// `[services.<name>.build]`. Everything here ends up in the buildspec's shell commands, so
/// control characters (which would break its YAML) are rejected.
fn validate_build(file: &Path, name: &str, b: &BuildConfig) -> Result<(), ConfigError> {
    let err = |field: &str, msg: String, hint: &str| {
        Err(ConfigError::new(
            file,
            Some(&format!("services.{name}.build.{field}")),
            msg,
            Some(hint),
        ))
    };
    let has_control = |s: &str| s.chars().any(char::is_control);
    for (field, path, hint) in [
        (
            "context",
            &b.context,
            "use a directory relative to the config file, e.g. `.` or `services/api`",
        ),
        (
            "dockerfile",
            &b.dockerfile,
            "use a path relative to `context`, e.g. `Dockerfile`",
        ),
    ] {
        let text = path.to_string_lossy();
        if text.trim().is_empty() || has_control(&text) {
            return err(field, format!("{text:?} is not a usable path"), hint);
        }
        if path.is_absolute() {
            return err(field, format!("`{text}` is absolute"), hint);
        }
    }
    if b.dockerfile
        .components()
        .any(|c| c == std::path::Component::ParentDir)
    {
        return err(
            "dockerfile",
            format!("`{}` leaves the build context", b.dockerfile.display()),
            "put the Dockerfile inside `context`, or widen `context`",
        );
    }
    for (arg, value) in &b.args {
        let name_ok = arg
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && arg.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !name_ok {
            return err(
                "args",
                format!("`{arg}` is not a build argument name"),
                "use letters, digits and '_' (the name of an ARG in the Dockerfile)",
            );
        }
        if has_control(value) {
            return err(
                "args",
                format!("the value of `{arg}` contains a control character"),
                "build arguments must be single-line",
            );
        }
    }
    if b.preset == Some(BuildPreset::Custom) && b.cache_paths.is_empty() {
        return err(
            "cache_paths",
            "is empty, but preset = \"custom\" caches only these paths".into(),
            "list the dependency directories, e.g. cache_paths = [\"/root/.ivy2/**/*\"], or use a \
             preset (gradle, maven, npm, cargo, python)",
        );
    }
    for p in &b.cache_paths {
        if p.trim().is_empty() || has_control(p) {
            return err(
                "cache_paths",
                format!("{p:?} is not a usable path"),
                "use a path pattern such as `/root/.ivy2/**/*`",
            );
        }
    }
    match (b.source, b.repository_url.as_deref().map(str::trim)) {
        (BuildSource::Git, None | Some("")) => err(
            "repository_url",
            "is required with source = \"git\"".into(),
            "set the HTTPS URL CodeBuild clones (https://github.com/OWNER/REPO or \
             https://git-codecommit.REGION.amazonaws.com/v1/repos/REPO), or source = \"local\"",
        ),
        (_, Some(url)) if !url.is_empty() => match parse_source(url) {
            Ok(_) => Ok(()),
            Err(m) => err(
                "repository_url",
                m,
                "use https://github.com/OWNER/REPO or \
                 https://git-codecommit.REGION.amazonaws.com/v1/repos/REPO",
            ),
        },
        _ => Ok(()),
    }
}

/// Shape checks only; `janitor install` also requires `source`.
fn validate_janitor(file: &Path, j: &JanitorConfig) -> Result<(), ConfigError> {
    let err = |key: &str, msg: String, hint: &str| {
        Err(ConfigError::new(file, Some(key), msg, Some(hint)))
    };
    let s = j.schedule.trim();
    if !((s.starts_with("rate(") || s.starts_with("cron(")) && s.ends_with(')')) {
        return err(
            "janitor.schedule",
            format!("`{}` is not an EventBridge schedule expression", j.schedule),
            "use `rate(1 hour)`, `rate(30 minutes)` or `cron(0 * * * ? *)`",
        );
    }
    for (key, value, hint) in [
        (
            "janitor.branch",
            &j.branch,
            "the branch the build checks out, e.g. `main`",
        ),
        (
            "janitor.image",
            &j.image(),
            "e.g. `aws/codebuild/amazonlinux-aarch64-standard:3.0`, or remove the key",
        ),
        (
            "janitor.compute_type",
            &j.compute_type,
            "e.g. `BUILD_GENERAL1_SMALL`",
        ),
    ] {
        if value.trim().is_empty() {
            return err(key, "is empty".into(), hint);
        }
    }
    // Both go into the buildspec's shell commands.
    if let Some(v) = j
        .envctl_version
        .as_deref()
        .filter(|v| !crate::dist::is_version(v))
    {
        return err(
            "janitor.envctl_version",
            format!("`{v}` is not a release version"),
            &format!(
                "e.g. `{}`, or remove the key to use this envctl's version",
                crate::dist::VERSION
            ),
        );
    }
    if let Some(d) = j
        .envctl_sha256
        .as_deref()
        .filter(|d| !crate::dist::is_sha256(d))
    {
        return err(
            "janitor.envctl_sha256",
            format!("`{d}` is not a SHA-256 digest (64 hex digits)"),
            "copy the archive's digest from the release's SHA256SUMS, or remove the key",
        );
    }
    // It goes into the buildspec's shell commands unquoted.
    if let Some(c) = j
        .branch
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-_./".contains(*c)))
    {
        return err(
            "janitor.branch",
            format!("`{}` contains {c:?}", j.branch),
            "use a branch name of letters, digits, '-', '_', '.' and '/'",
        );
    }
    Ok(())
}

fn validate_database(file: &Path, c: &Config) -> Result<(), ConfigError> {
    let Some(d) = &c.database else {
        return Ok(());
    };
    let err = |key: &str, msg: String, hint: &str| {
        Err(ConfigError::new(file, Some(key), msg, Some(hint)))
    };
    if d.engine != "postgres" {
        return err(
            "database.engine",
            format!("`{}` is not supported", d.engine),
            "use engine = \"postgres\" (the only engine envctl creates databases on)",
        );
    }
    let p = &d.admin_url_param;
    if !p.starts_with('/') || p.len() < 2 || p.ends_with('/') || p.contains(char::is_whitespace) {
        return err(
            "database.admin_url_param",
            format!("`{p}` is not an SSM parameter name"),
            "give the full name of a SecureString, e.g. \"/envctl/shop/shared/DB_ADMIN_URL\"",
        );
    }
    if let Some(t) = &d.template {
        if t.is_empty() || t.len() > crate::naming::PG_IDENTIFIER_MAX {
            return err(
                "database.template",
                format!("`{t}` is not a database name"),
                "name an existing database on the server (at most 63 bytes), or remove the key",
            );
        }
    }
    for k in d.services.iter().flatten() {
        if !c.services.contains_key(k) {
            return err(
                "database.services",
                format!("names service `{k}`, which is not defined"),
                &format!(
                    "use some of: {}",
                    c.services.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            );
        }
    }
    if d.client_image.trim().is_empty() {
        return err(
            "database.client_image",
            "is empty".into(),
            "remove the key to use the pinned official postgres image",
        );
    }
    match crate::schedule::parse_duration_spec(&d.timeout) {
        Ok(Some(t)) if t.as_secs() > 0 => Ok(()),
        _ => err(
            "database.timeout",
            format!("`{}` is not a duration", d.timeout),
            "e.g. `15m` or `1h`",
        ),
    }
}

fn validate_hooks(file: &Path, c: &Config) -> Result<(), ConfigError> {
    let kinds = [
        (HookKind::BeforeDeploy, &c.hooks.before_deploy),
        (HookKind::AfterCreate, &c.hooks.after_create),
        (HookKind::BeforeDestroy, &c.hooks.before_destroy),
    ];
    for (kind, hooks) in kinds {
        for (i, h) in hooks.iter().enumerate() {
            let key = |field: &str| format!("hooks.{kind}[{i}].{field}");
            let err = |field: &str, msg: String, hint: String| {
                Err(ConfigError::new(file, Some(&key(field)), msg, Some(&hint)))
            };
            if !c.services.contains_key(&h.service) {
                return err(
                    "service",
                    format!("names service `{}`, which is not defined", h.service),
                    format!("use one of: {}", c.service_keys()),
                );
            }
            if h.command.is_empty() || h.command.iter().all(|a| a.trim().is_empty()) {
                return err(
                    "command",
                    "is empty".into(),
                    "give the container command as a list, e.g. command = [\"bin/rails\", \"db:migrate\"]".into(),
                );
            }
            if let Some(container) = &h.container {
                if container.trim().is_empty() {
                    return err(
                        "container",
                        "is empty".into(),
                        "name a container of the service's task definition, or remove the key"
                            .into(),
                    );
                }
            }
            match crate::schedule::parse_duration_spec(&h.timeout) {
                Ok(Some(d)) if d.as_secs() > 0 => {}
                _ => {
                    return err(
                        "timeout",
                        format!("`{}` is not a duration", h.timeout),
                        "e.g. `15m` or `1h`".into(),
                    )
                }
            }
        }
    }
    Ok(())
}

fn validate_preview(file: &Path, c: &Config) -> Result<(), ConfigError> {
    let err = |key: &str, msg: String, hint: &str| {
        Err(ConfigError::new(file, Some(key), msg, Some(hint)))
    };
    let p = &c.preview;
    let public: Vec<&String> = c
        .services
        .iter()
        .filter(|(_, s)| s.public)
        .map(|(k, _)| k)
        .collect();
    if !p.enabled {
        if let Some(k) = public.first() {
            return err(
                &format!("services.{k}.public"),
                "is set, but [preview] is not enabled".into(),
                "set preview.enabled = true and preview.domain, or remove `public`",
            );
        }
        return Ok(());
    }
    let domain_ok = !p.domain.is_empty()
        && p.domain.len() <= 200
        && p.domain.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
        });
    if !domain_ok {
        return err(
            "preview.domain",
            format!("`{}` is not a lowercase DNS name", p.domain),
            "e.g. preview.example.com (point *.preview.example.com at the ALB)",
        );
    }
    let listener_ok = p.listener_arn.is_empty()
        || (p.listener_arn.starts_with("arn:") && p.listener_arn.contains(":listener/"));
    if !listener_ok {
        return err(
            "preview.listener_arn",
            format!("`{}` is not a listener ARN", p.listener_arn),
            "copy it from `aws elbv2 describe-listeners`, or leave it empty for bootstrap's ALB",
        );
    }
    if p.scheme != "http" && p.scheme != "https" {
        return err(
            "preview.scheme",
            format!("`{}` is neither http nor https", p.scheme),
            "use https when the listener has a certificate",
        );
    }
    for (k, s) in &c.services {
        if s.public && s.port.is_none() {
            return err(
                &format!("services.{k}.port"),
                "a public service needs the port its container listens on".into(),
                "e.g. port = 8080",
            );
        }
        if s.public && !s.health_check_path.starts_with('/') {
            return err(
                &format!("services.{k}.health_check_path"),
                format!("`{}` must start with /", s.health_check_path),
                "e.g. /healthz",
            );
        }
    }
    Ok(())
}

/// Fargate only runs these cpu/memory pairs (memory in MiB).
pub fn fargate_size_error(cpu: u32, memory: u32) -> Option<String> {
    let gb = |g: u32| g * 1024;
    let ok = match cpu {
        256 => [512, 1024, 2048].contains(&memory),
        512 => (1..=4).map(gb).any(|m| m == memory),
        1024 => (2..=8).map(gb).any(|m| m == memory),
        2048 => (4..=16).map(gb).any(|m| m == memory),
        4096 => (8..=30).map(gb).any(|m| m == memory),
        8192 => (16..=60).step_by(4).map(gb).any(|m| m == memory),
        16384 => (32..=120).step_by(8).map(gb).any(|m| m == memory),
        _ => {
            return Some(format!(
                "cpu = {cpu} is not a Fargate size (256, 512, 1024, 2048, 4096, 8192, 16384)"
            ))
        }
    };
    (!ok).then(|| format!("memory = {memory} does not fit cpu = {cpu} on Fargate"))
}
