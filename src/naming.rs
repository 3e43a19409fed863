//! Turns an env argument (often a raw git branch name) into a slug that is valid in every AWS name envctl
//! derives from it, and derives those names in one place so their format and length limits are checked together.
//!
//! The rules and the collision argument are written up in `docs/naming.md`.

use std::fmt;

use sha2::{Digest, Sha256};

/// Longest slug. 24 keeps the worst-case derived names inside every AWS limit (see `worst_case_names_fit_aws_limits`)
/// and leaves 8 characters of a 32-character ALB target group name for a prefix.
pub const SLUG_MAX_LEN: usize = 24;

/// Longest env argument accepted, in bytes. Git refuses longer ref names on most filesystems, so anything
/// longer is not a branch name.
pub const RAW_MAX_LEN: usize = 255;

/// Longest app name (`app` in envctl.toml).
pub const APP_MAX_LEN: usize = 16;

/// Longest service key (`[services.<key>]` in envctl.toml).
pub const SERVICE_KEY_MAX_LEN: usize = 20;

/// Hex characters of the sha256 of the raw input appended to a slug whenever the mapping loses information.
const HASH_LEN: usize = 6;

/// Prepended when the sanitized text starts with a digit, because DNS labels should start with a letter.
const DIGIT_PREFIX: &str = "e-";

/// When cutting a long name, back off to the previous '-' only if this much is still kept.
const MIN_KEPT: usize = 8;

const ALLOWED: &str = "env names may contain letters, digits, '-', '_', '/' and '.'";

/// An env slug: `[a-z0-9-]`, starts with a letter, ends with a letter or digit, no `--`, at most
/// [`SLUG_MAX_LEN`] bytes. Only [`slug`] builds one, so holding a `Slug` means it is valid.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slug(String);

impl Slug {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The env argument as the user gave it (kept for the `envctl:branch` tag and messages) and its slug.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvName {
    pub raw: String,
    pub slug: Slug,
}

/// Why an env argument cannot be turned into a slug. Each message quotes the input and suggests a fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("env name {input:?} is empty; {ALLOWED}; try `feature-x`")]
    Empty { input: String },
    #[error("env name {input:?} has no letter or digit; {ALLOWED}; try `feature-x`")]
    NoLetterOrDigit { input: String },
    #[error("env name {input:?} looks like a path (it starts with '/' or '.', or contains '..'); {ALLOWED}; try `{suggestion}`")]
    PathLike { input: String, suggestion: String },
    #[error("env name {input:?} contains a control character; {ALLOWED}; try `{suggestion}`")]
    ControlCharacter { input: String, suggestion: String },
    #[error("env name {input:?} is {len} bytes long, more than the {RAW_MAX_LEN} a git branch name can have; {ALLOWED}; try `{suggestion}`")]
    TooLong {
        /// The first 40 characters, followed by `...`: the whole input would drown the message.
        input: String,
        len: usize,
        suggestion: String,
    },
}

/// Parses an env argument into the raw text and its slug. See [`slug`].
pub fn env_name(raw: &str) -> Result<EnvName, NameError> {
    Ok(EnvName {
        raw: raw.to_owned(),
        slug: slug(raw)?,
    })
}

/// Maps an env argument to its slug, deterministically.
///
/// An argument that is already a valid slug is returned unchanged. Any other argument is lowercased, every
/// run of characters outside `[a-z0-9]` becomes one `-`, `e-` is prepended if it starts with a digit, and the
/// result is cut (at a '-' where that keeps at least 8 characters) so that `-` plus the first 6 hex
/// characters of the sha256 of the *original* argument fit in [`SLUG_MAX_LEN`]. The hash keeps `feature/x`,
/// `Feature-X` and `feature-x` apart, and long names that share a prefix. Every output is itself a valid
/// slug, so `slug(slug(x)) == slug(x)`: users may pass either form.
pub fn slug(raw: &str) -> Result<Slug, NameError> {
    validate_raw(raw)?;
    let clean = sanitize(raw);
    if clean == raw && raw.len() <= SLUG_MAX_LEN && starts_with_letter(raw) {
        return Ok(Slug(clean));
    }
    let mut base = if starts_with_letter(&clean) {
        clean
    } else {
        format!("{DIGIT_PREFIX}{clean}")
    };
    let base = cut(&mut base, SLUG_MAX_LEN - HASH_LEN - 1);
    Ok(Slug(format!("{base}-{}", short_hash(raw))))
}

fn validate_raw(raw: &str) -> Result<(), NameError> {
    let input = raw.to_owned();
    if raw.len() > RAW_MAX_LEN {
        let head: String = raw.chars().take(40).collect();
        return Err(NameError::TooLong {
            input: format!("{head}..."),
            len: raw.len(),
            suggestion: suggestion(raw),
        });
    }
    if raw.trim().is_empty() {
        return Err(NameError::Empty { input });
    }
    if raw.chars().any(char::is_control) {
        return Err(NameError::ControlCharacter {
            suggestion: suggestion(raw),
            input,
        });
    }
    if raw == ".."
        || raw.contains("../")
        || raw.contains("/..")
        || raw.starts_with('/')
        || raw.starts_with('.')
    {
        return Err(NameError::PathLike {
            suggestion: suggestion(raw),
            input,
        });
    }
    if !raw.chars().any(|c| c.is_ascii_alphanumeric()) {
        return Err(NameError::NoLetterOrDigit { input });
    }
    Ok(())
}

/// Lowercases ASCII letters and turns each run of anything else outside `[a-z0-9]` into a single `-`,
/// without leading or trailing `-`.
fn sanitize(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut pending_hyphen = false;
    for c in raw.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            if pending_hyphen && !out.is_empty() {
                out.push('-');
            }
            pending_hyphen = false;
            out.push(c);
        } else {
            pending_hyphen = true;
        }
    }
    out
}

/// Cuts `s` to at most `max` bytes, preferring a cut at a '-' to ending in a fragment of a word
/// (`feature-abc-123-login` becomes `feature-abc-123`, not `feature-abc-123-l`) unless that would keep
/// fewer than [`MIN_KEPT`] characters.
fn cut(s: &mut String, max: usize) -> &str {
    if s.len() > max {
        let splits_word = s.as_bytes()[max] != b'-';
        // Everything is ASCII here, so cutting at a byte index is cutting at a character.
        s.truncate(max);
        if splits_word {
            if let Some(p) = s.rfind('-').filter(|p| *p >= MIN_KEPT) {
                s.truncate(p);
            }
        }
    }
    s.trim_end_matches('-')
}

fn starts_with_letter(s: &str) -> bool {
    s.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
}

fn short_hash(raw: &str) -> String {
    let digest = Sha256::digest(raw.as_bytes());
    let mut hex: String = digest
        .iter()
        .take(HASH_LEN.div_ceil(2))
        .map(|b| format!("{b:02x}"))
        .collect();
    hex.truncate(HASH_LEN);
    hex
}

/// A name to offer in an error message: the sanitized input when that is usable, else a generic example.
fn suggestion(raw: &str) -> String {
    let mut s = sanitize(raw);
    let s = cut(&mut s, SLUG_MAX_LEN);
    if starts_with_letter(s) {
        s.to_owned()
    } else {
        "feature-x".to_owned()
    }
}

/// Checks an app name: `^[a-z][a-z0-9-]{0,15}$`, not ending in '-', no "--". Returns what is wrong, if anything.
pub fn app_name_error(app: &str) -> Option<String> {
    identifier_error("app name", app, APP_MAX_LEN)
}

/// Checks a service key: `^[a-z][a-z0-9-]{0,19}$`, not ending in '-', no "--". Returns what is wrong, if anything.
pub fn service_key_error(key: &str) -> Option<String> {
    identifier_error("service key", key, SERVICE_KEY_MAX_LEN)
}

fn identifier_error(what: &str, s: &str, max: usize) -> Option<String> {
    let rule =
        format!("{what}s are 1 to {max} lowercase letters, digits and '-', starting with a letter");
    if s.is_empty() {
        return Some(format!("{what} is empty; {rule}"));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Some(format!("{what} `{s}` contains {c:?}; {rule}"));
    }
    if !starts_with_letter(s) {
        return Some(format!("{what} `{s}` does not start with a letter; {rule}"));
    }
    if s.len() > max {
        return Some(format!(
            "{what} `{s}` is {} characters long; {rule} (it becomes part of AWS names with tight length limits)",
            s.len()
        ));
    }
    if s.ends_with('-') || s.contains("--") {
        return Some(format!(
            "{what} `{s}` ends with '-' or contains \"--\"; {rule}"
        ));
    }
    None
}

/// ECS service name of one service of an env; also its task definition family.
pub fn service_name(app: &str, slug: &Slug, service: &str) -> String {
    format!("{app}-{slug}-{service}")
}

/// Prefix shared by the ECS service names and task definition families of an env.
///
/// Because slugs and service keys may contain '-', this prefix also matches other envs whose slug extends
/// this one (`shop-feature-` matches `shop-feature-x-web`): callers must check ownership tags.
pub fn service_prefix(app: &str, slug: &Slug) -> String {
    format!("{app}-{slug}-")
}

/// CloudWatch log group of an env (all its services; streams are per service).
pub fn log_group(app: &str, slug: &Slug) -> String {
    format!("/envctl/{app}/{slug}")
}

/// SSM parameter path holding one env's parameters.
pub fn env_param_path(app: &str, slug: &Slug) -> String {
    format!("/envctl/{app}/env/{slug}/")
}

/// Postgres's identifier limit (NAMEDATALEN - 1), in bytes.
pub const PG_IDENTIFIER_MAX: usize = 63;

/// The env's database on the shared Postgres server, also the name of its login role:
/// `<app>__<slug>` with '-' turned into '_' (`shop__feature_x`). App names have no "--" and slugs
/// no "--", so the double underscore keeps `shop` + `x-y` apart from `shop-x` + `y` on a server
/// shared by several apps. Longer than 63 bytes (only with a custom prefix): cut, plus a hash.
pub fn database(app: &str, slug: &Slug) -> String {
    pg_identifier(format!(
        "{}__{}",
        app.replace('-', "_"),
        slug.as_str().replace('-', "_")
    ))
}

/// `name` when it fits in 63 bytes, else a cut of it plus a hash of the whole.
fn pg_identifier(name: String) -> String {
    if name.len() <= PG_IDENTIFIER_MAX {
        return name;
    }
    let hash = short_hash(&name);
    let keep = PG_IDENTIFIER_MAX - hash.len() - 1;
    format!("{}_{hash}", name[..keep].trim_end_matches('_'))
}

/// Task definition family of the env's database task. Service keys never start with '-', so
/// `<app>-<slug>--db` is never a service's family; it still starts with the env's service prefix,
/// so `down` finds it with the rest.
pub fn database_family(app: &str, slug: &Slug) -> String {
    format!("{app}-{slug}--db")
}

/// SSM parameter path holding parameters shared by every env of the app.
pub fn shared_param_path(app: &str) -> String {
    format!("/envctl/{app}/shared/")
}

/// ECR repository of one service of an env.
pub fn repository(app: &str, slug: &Slug, service: &str) -> String {
    format!("envctl/{app}/{slug}/{service}")
}

/// Prefix of all ECR repositories of an env. The trailing '/' makes it exact: it matches no other env.
pub fn repository_prefix(app: &str, slug: &Slug) -> String {
    format!("envctl/{app}/{slug}/")
}

/// The stop and start schedules of one service in its env's group (the group is per env).
pub fn schedule_names(service: &str) -> [String; 2] {
    [
        schedule_name("stop", service),
        schedule_name("start", service),
    ]
}

/// `stop-<key>` or `start-<key>`.
pub fn schedule_name(verb: &str, service: &str) -> String {
    format!("{verb}-{service}")
}

/// EventBridge Scheduler schedule group of an env.
pub fn scheduler_group(app: &str, slug: &Slug) -> String {
    format!("envctl-{app}-{slug}")
}

/// The env's Cloud Map HTTP namespace (ECS Service Connect). Cloud Map allows 1,024 printable
/// characters, but Service Connect uses the name as a DNS suffix, so it is kept to one DNS
/// label (63): with the longest app and slug it is 48 characters, and anything longer would be
/// cut and hashed like a target group name, so two envs never share one.
pub fn namespace(app: &str, slug: &Slug) -> String {
    const MAX: usize = 63;
    let full = format!("envctl-{app}-{}", slug.as_str());
    if full.len() <= MAX {
        return full;
    }
    let digest = Sha256::digest(full.as_bytes());
    let hash: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    let keep = MAX - hash.len() - 1;
    let head = full[..keep].trim_end_matches('-');
    format!("{head}-{hash}")
}

/// The app's shared ECS cluster.
pub fn cluster(app: &str) -> String {
    format!("envctl-{app}")
}

/// The role EventBridge Scheduler assumes to stop and start the app's services.
pub fn scheduler_role(app: &str) -> String {
    format!("envctl-{app}-scheduler")
}

/// The IAM role ECS tasks use to pull images, write logs and read parameters.
pub fn execution_role(app: &str) -> String {
    format!("envctl-{app}-execution")
}

/// The IAM role an env's containers run as when `[exec]` is on and `roles.task_role_arn` is not
/// set: it carries only the `ssmmessages` channel actions ECS Exec needs.
pub fn task_role(app: &str) -> String {
    format!("envctl-{app}-task")
}

/// The janitor's CodeBuild project, its EventBridge rule, and the IAM role the build runs as
/// (three namespaces, one name).
pub fn janitor(app: &str) -> String {
    format!("envctl-{app}-janitor")
}

/// The role EventBridge assumes to start the janitor's build.
pub fn janitor_events_role(app: &str) -> String {
    format!("envctl-{app}-janitor-events")
}

/// ALB target group names allow 32 characters, letters, digits and '-': the env's service name
/// when it fits, otherwise a cut of it plus a hash of the whole, so two envs never share one.
pub fn target_group(app: &str, slug: &Slug, service: &str) -> String {
    const MAX: usize = 32;
    let full = format!("{app}-{}-{service}", slug.as_str());
    if full.len() <= MAX {
        return full;
    }
    let digest = Sha256::digest(full.as_bytes());
    let hash: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    let keep = MAX - hash.len() - 1;
    let head = full[..keep].trim_end_matches('-');
    format!("{head}-{hash}")
}

/// The host name of an env's preview URL: one DNS label per env (at most 63 characters).
pub fn preview_host(slug: &Slug, service: &str, domain: &str, only_public_service: bool) -> String {
    if only_public_service {
        format!("{}.{domain}", slug.as_str())
    } else {
        format!("{service}-{}.{domain}", slug.as_str())
    }
}

/// The shared preview ALB `bootstrap` creates (load balancer names allow 32 characters).
pub fn load_balancer(app: &str) -> String {
    format!("envctl-{app}")
}

/// The CodeBuild project that builds one service's images (shared by the app's envs).
pub fn build_project(app: &str, service: &str) -> String {
    format!("envctl-{app}-{service}-build")
}

/// The role CodeBuild runs image builds as.
pub fn build_role(app: &str) -> String {
    format!("envctl-{app}-build")
}

/// The app's build bucket (dependency cache, uploaded working trees). Bucket names are global,
/// so the account and region are part of it: at most 7 + 16 + 1 + 12 + 1 + 14 = 51 characters.
pub fn build_bucket(app: &str, account: &str, region: &str) -> String {
    format!("envctl-{app}-{account}-{region}")
}

/// The app's BuildKit layer cache for one service, shared by every env so that a new branch's
/// first build reuses layers. One path segment fewer than any env repository
/// (`envctl/<app>/<slug>/<service>`), so the two never collide, and outside every env's prefix,
/// so `down` never touches it.
pub fn build_cache_repository(app: &str, service: &str) -> String {
    format!("envctl/{app}-cache/{service}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn s(raw: &str) -> String {
        match slug(raw) {
            Ok(s) => s.0,
            Err(e) => panic!("{raw:?} was rejected: {e}"),
        }
    }

    fn is_valid_slug(s: &str) -> bool {
        let b = s.as_bytes();
        !b.is_empty()
            && b.len() <= SLUG_MAX_LEN
            && b[0].is_ascii_lowercase()
            && b.iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
            && !s.ends_with('-')
            && !s.contains("--")
    }

    #[test]
    fn valid_slugs_map_to_themselves() {
        for raw in [
            "feature-x",
            "a",
            "main",
            "pr-42",
            "abcdefghijklmnopqrstuvwx",
        ] {
            assert_eq!(s(raw), raw);
        }
    }

    #[test]
    fn examples() {
        let cases = [
            ("feature/ABC-123_Login", "feature-abc-123-e614ea"),
            ("Feature-X", "feature-x-991d5c"),
            ("feature/x", "feature-x-217d2b"),
            ("release/1.2.3", "release-1-2-3-88ded6"),
            (
                "dependabot/npm_and_yarn/lodash-4.17.21",
                "dependabot-npm-b7180b",
            ),
            ("fé/ü", "f-e53452"),
            ("123-hotfix", "e-123-hotfix-dec3c2"),
            ("abcdefghijklmnopqrstuvwxy", "abcdefghijklmnopq-69b980"),
            ("renovate/aws-sdk-rust-monorepo", "renovate-aws-sdk-e3e269"),
            ("feature_x", "feature-x-5484b4"),
        ];
        for (raw, want) in cases {
            assert_eq!(s(raw), want, "slug of {raw:?}");
        }
    }

    #[test]
    fn lossy_variants_of_one_name_do_not_collide() {
        let slugs = [
            "feature-x",
            "feature/x",
            "Feature-X",
            "feature_x",
            "feature.x",
        ]
        .map(s);
        for (i, a) in slugs.iter().enumerate() {
            for b in &slugs[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn long_branch_is_cut_and_hashed() {
        let long = format!("feature/{}", "a".repeat(192));
        assert_eq!(long.len(), 200);
        let got = s(&long);
        assert_eq!(got.len(), SLUG_MAX_LEN);
        assert!(got.starts_with("feature-aaaaaaaaa-"), "{got}");
        let other = format!("feature/{}b", "a".repeat(191));
        assert_ne!(got, s(&other));
    }

    #[test]
    fn env_name_keeps_the_raw_input() {
        let e = env_name("feature/x").unwrap();
        assert_eq!(e.raw, "feature/x");
        assert_eq!(e.slug.to_string(), "feature-x-217d2b");
        assert_eq!(e.slug.as_str(), "feature-x-217d2b");
    }

    #[test]
    fn rejections() {
        // (input, expected variant, as its Debug output begins)
        let cases = [
            ("", "Empty"),
            ("   ", "Empty"),
            ("///", "PathLike"),
            ("---", "NoLetterOrDigit"),
            ("_-_", "NoLetterOrDigit"),
            ("../x", "PathLike"),
            ("..", "PathLike"),
            ("/abs", "PathLike"),
            (".hidden", "PathLike"),
            ("a/../b", "PathLike"),
            ("a\nb", "ControlCharacter"),
            ("a\tb", "ControlCharacter"),
        ];
        for (raw, variant) in cases {
            let err = slug(raw).expect_err(raw);
            assert!(
                format!("{err:?}").starts_with(&format!("{variant} {{")),
                "{raw:?} gave {err:?}"
            );
        }
        let long = "a".repeat(RAW_MAX_LEN + 1);
        assert!(matches!(
            slug(&long),
            Err(NameError::TooLong { len: 256, .. })
        ));
        assert!(slug(&"a".repeat(RAW_MAX_LEN)).is_ok());
    }

    #[test]
    fn error_messages_quote_the_input_and_suggest_a_fix() {
        let msg = |raw: &str| slug(raw).unwrap_err().to_string();
        assert_eq!(
            msg("/abs"),
            "env name \"/abs\" looks like a path (it starts with '/' or '.', or contains '..'); \
             env names may contain letters, digits, '-', '_', '/' and '.'; try `abs`"
        );
        assert_eq!(
            msg("a\nb"),
            "env name \"a\\nb\" contains a control character; \
             env names may contain letters, digits, '-', '_', '/' and '.'; try `a-b`"
        );
        assert_eq!(
            msg("   "),
            "env name \"   \" is empty; env names may contain letters, digits, '-', '_', '/' and '.'; try `feature-x`"
        );
        assert!(msg("///").ends_with("try `feature-x`"));
        let too_long = msg(&"Ab".repeat(200));
        assert!(
            too_long.starts_with(&format!(
                "env name \"{}...\" is 400 bytes long",
                "Ab".repeat(20)
            )),
            "{too_long}"
        );
        assert!(
            too_long.ends_with("try `abababababababababababab`"),
            "{too_long}"
        );
    }

    #[test]
    fn app_names_and_service_keys() {
        for ok in ["shop", "a", "my-app-2", "abcdefghijklmnop"] {
            assert_eq!(app_name_error(ok), None, "{ok}");
        }
        for bad in [
            "",
            "Shop",
            "2shop",
            "shop-",
            "my--app",
            "my_app",
            "abcdefghijklmnopq",
            "-shop",
        ] {
            assert!(app_name_error(bad).is_some(), "{bad}");
        }
        assert_eq!(service_key_error("abcdefghijklmnopqrst"), None);
        assert!(service_key_error("abcdefghijklmnopqrstu").is_some());
        assert_eq!(
            app_name_error("Shop").as_deref(),
            Some("app name `Shop` contains 'S'; app names are 1 to 16 lowercase letters, digits and '-', starting with a letter")
        );
        assert_eq!(
            service_key_error("web-").as_deref(),
            Some("service key `web-` ends with '-' or contains \"--\"; service keys are 1 to 20 lowercase letters, digits and '-', starting with a letter")
        );
    }

    #[test]
    fn derived_names() {
        let sl = slug("feature-x").unwrap();
        assert_eq!(service_name("shop", &sl, "web"), "shop-feature-x-web");
        assert_eq!(service_prefix("shop", &sl), "shop-feature-x-");
        assert_eq!(log_group("shop", &sl), "/envctl/shop/feature-x");
        assert_eq!(env_param_path("shop", &sl), "/envctl/shop/env/feature-x/");
        assert_eq!(shared_param_path("shop"), "/envctl/shop/shared/");
        assert_eq!(repository("shop", &sl, "web"), "envctl/shop/feature-x/web");
        assert_eq!(repository_prefix("shop", &sl), "envctl/shop/feature-x/");
        assert_eq!(scheduler_group("shop", &sl), "envctl-shop-feature-x");
        assert_eq!(cluster("shop"), "envctl-shop");
        assert_eq!(namespace("shop", &sl), "envctl-shop-feature-x");
        assert_eq!(execution_role("shop"), "envctl-shop-execution");
        assert_eq!(task_role("shop"), "envctl-shop-task");
        assert_eq!(janitor("shop"), "envctl-shop-janitor");
        assert_eq!(janitor_events_role("shop"), "envctl-shop-janitor-events");
    }

    /// The longest app, slug and service key allowed must give names inside every AWS limit.
    #[test]
    fn worst_case_names_fit_aws_limits() {
        let app = "a".repeat(APP_MAX_LEN);
        let svc = "s".repeat(SERVICE_KEY_MAX_LEN);
        assert_eq!(app_name_error(&app), None);
        assert_eq!(service_key_error(&svc), None);
        let sl = slug(&"x".repeat(200)).unwrap();
        assert_eq!(sl.as_str().len(), SLUG_MAX_LEN);

        let limits = [
            ("ECS service name", service_name(&app, &sl, &svc), 255),
            ("task definition family", service_name(&app, &sl, &svc), 255),
            ("CloudWatch log group", log_group(&app, &sl), 512),
            // SSM allows 1011 characters for a whole parameter name; leave room for the parameter's own name.
            ("SSM env path", env_param_path(&app, &sl), 512),
            ("SSM shared path", shared_param_path(&app), 512),
            ("ECR repository", repository(&app, &sl, &svc), 256),
            ("Scheduler group", scheduler_group(&app, &sl), 64),
            (
                "Cloud Map namespace (one DNS label)",
                namespace(&app, &sl),
                63,
            ),
            ("ECS cluster", cluster(&app), 255),
            ("IAM role", execution_role(&app), 64),
            ("IAM role (task)", task_role(&app), 64),
            ("IAM role (janitor events)", janitor_events_role(&app), 64),
            ("EventBridge rule (janitor)", janitor(&app), 64),
            ("CodeBuild project (janitor)", janitor(&app), 150),
            ("ECR image tag (the slug)", sl.to_string(), 128),
            ("DNS label (the slug)", sl.to_string(), 63),
            // Leaves 8 characters of a target group name for a prefix such as `envctl-`.
            ("ALB target group (the slug)", sl.to_string(), 24),
        ];
        for (what, name, max) in limits {
            assert!(
                name.len() <= max,
                "{what} `{name}` is {} > {max}",
                name.len()
            );
        }
        assert_eq!(service_name(&app, &sl, &svc).len(), 62);
        assert_eq!(scheduler_group(&app, &sl).len(), 48);
        assert_eq!(namespace(&app, &sl).len(), 48);
        assert_eq!(repository(&app, &sl, &svc).len(), 69);
    }

    /// Branch-like strings: what users pass in practice, and where lossy mappings are most likely to meet.
    fn branchish() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z0-9/_.-]{1,60}",
            "[a-z0-9-]{1,30}",
            "(feature|fix|release)/[a-zA-Z0-9_.-]{1,40}",
            "\\PC{1,40}",
            any::<String>(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn accepted_inputs_give_valid_stable_idempotent_slugs(raw in branchish()) {
            if let Ok(sl) = slug(&raw) {
                prop_assert!(is_valid_slug(sl.as_str()), "{:?} -> {:?}", raw, sl);
                prop_assert_eq!(&slug(&raw).unwrap(), &sl);
                // Users may pass the slug back (e.g. `envctl down <slug>` from `envctl list`).
                prop_assert_eq!(&slug(sl.as_str()).unwrap(), &sl);
                prop_assert_eq!(sl.as_str() == raw, is_valid_slug(&raw));
            }
        }

        #[test]
        fn different_inputs_give_different_slugs(a in branchish(), b in branchish()) {
            prop_assume!(a != b);
            if let (Ok(sa), Ok(sb)) = (slug(&a), slug(&b)) {
                prop_assert_ne!(sa, sb, "{:?} and {:?}", a, b);
            }
        }

        #[test]
        fn long_names_sharing_a_prefix_do_not_collide(
            prefix in "[a-zA-Z0-9/_-]{24,60}",
            x in "[a-zA-Z0-9/_-]{0,20}",
            y in "[a-zA-Z0-9/_-]{0,20}",
        ) {
            let (a, b) = (format!("f{prefix}{x}"), format!("f{prefix}{y}"));
            prop_assume!(a != b);
            prop_assert_ne!(slug(&a).unwrap(), slug(&b).unwrap());
        }

        #[test]
        fn case_and_separator_variants_do_not_collide(word in "[a-z][a-z0-9]{0,10}", sep in "[/_.]") {
            let plain = format!("{word}-x");
            let other = format!("{word}{sep}x");
            let upper = plain.to_uppercase();
            prop_assert_ne!(slug(&plain).unwrap(), slug(&other).unwrap());
            prop_assert_ne!(slug(&plain).unwrap(), slug(&upper).unwrap());
        }
    }

    #[test]
    fn database_names_are_postgres_identifiers_unique_per_app_and_env() {
        let db = |app: &str, env: &str| database(app, &slug(env).unwrap());
        assert_eq!(db("shop", "feature-x"), "shop__feature_x");
        assert_ne!(db("shop", "x-y"), db("shop-x", "y"));
        assert_ne!(db("shop", "feature/x"), db("shop", "feature-x"));
        for env in ["Feature/ÜNÏCODE", "1234", &"x".repeat(200)] {
            let name = db("my-long-app-name", env);
            assert!(name.len() <= PG_IDENTIFIER_MAX, "{name}");
            assert!(name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
        }
        let long = pg_identifier("a_".repeat(40));
        assert!(long.len() <= PG_IDENTIFIER_MAX && long.len() > 55, "{long}");
        assert_ne!(long, pg_identifier(format!("{}b", "a_".repeat(40))));
        assert_eq!(
            database_family("shop", &slug("feature-x").unwrap()),
            "shop-feature-x--db"
        );
    }
}
