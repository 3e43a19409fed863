//! `build` and build-on-`up`: for every service with a `[services.<key>.build]` table, compute the
//! image's content address, skip the build when ECR already has it, otherwise run the cached
//! CodeBuild builds in parallel and report their phases. A failed build deploys nothing.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;

use futures::future::try_join_all;

use crate::apply;
use crate::apply::builds::apply_projects;
use crate::aws::codebuild::{BuildRequest, BuildState};
use crate::aws::{Aws, AwsResult};
use crate::config::{BuildConfig, BuildSource, LoadedConfig};
use crate::error::{Error, Result};

/// Image builds run Docker on x86_64 (Fargate Spot is x86_64 only).
const LINUX_CONTAINER: &str = "LINUX_CONTAINER";
use crate::model::{app_tags, ProjectCacheSpec, ProjectSpec, Tags};
use crate::naming::{self, EnvName};
use crate::ops::{self, Session};
use crate::plan::builds::{plan_projects, ProjectAction};
use crate::plan::{Action, Plan, Verb};

pub use crate::plan::builds::{project_change, ProjectChange};

/// One image to produce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImagePlan {
    pub service: String,
    pub project: String,
    pub repository: String,
    pub tag: String,
    pub image_uri: String,
    /// The app-wide layer cache repository for the service (`naming::build_cache_repository`).
    pub cache_uri: String,
    pub source_version: Option<String>,
    /// `bucket/key` of the uploaded working tree (`--source local`).
    pub source_location: Option<String>,
}

/// What happened to one image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BuiltImage {
    pub service: String,
    pub image_uri: String,
    pub tag: String,
    /// True when ECR already had the tag: no build ran.
    pub cache_hit: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<f64>,
    pub phases: Vec<PhaseTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhaseTime {
    pub name: String,
    pub status: Option<String>,
    pub seconds: Option<i64>,
}

/// The calls builds need, so the orchestration can be tested with a fake (moto reports every
/// build SUCCEEDED at once and can show neither progress nor failure).
pub trait BuildBackend: Sync {
    fn image_digest(
        &self,
        repository: &str,
        tag: &str,
    ) -> impl std::future::Future<Output = AwsResult<Option<String>>> + Send;
    fn start(
        &self,
        req: &BuildRequest,
    ) -> impl std::future::Future<Output = AwsResult<String>> + Send;
    fn states(
        &self,
        ids: &[String],
    ) -> impl std::future::Future<Output = AwsResult<Vec<BuildState>>> + Send;
    fn log_tail(
        &self,
        group: &str,
        stream: &str,
        lines: usize,
    ) -> impl std::future::Future<Output = AwsResult<Vec<String>>> + Send;
}

impl BuildBackend for Aws {
    async fn image_digest(&self, repository: &str, tag: &str) -> AwsResult<Option<String>> {
        Aws::image_digest(self, repository, tag).await
    }
    async fn start(&self, req: &BuildRequest) -> AwsResult<String> {
        self.start_build(req).await
    }
    async fn states(&self, ids: &[String]) -> AwsResult<Vec<BuildState>> {
        self.get_builds(ids).await
    }
    async fn log_tail(&self, group: &str, stream: &str, lines: usize) -> AwsResult<Vec<String>> {
        self.tail_log_events(group, stream, lines).await
    }
}

/// The project settings for one service (shared by every env of the app), as envctl wants them.
pub fn project_spec(
    cfg: &LoadedConfig,
    service: &str,
    build: &BuildConfig,
    bucket: &str,
    role_arn: &str,
    tags: &Tags,
) -> Result<ProjectSpec> {
    let c = &cfg.config;
    let template_path = cfg.resolve(&c.build.buildspec);
    let template = std::fs::read_to_string(&template_path)
        .unwrap_or_else(|_| crate::build::BUILDSPEC_TEMPLATE.to_string());
    let buildspec = crate::build::render_buildspec(&template, service, build).map_err(|m| {
        Error::invalid(
            format!("{}: {m}", template_path.display()),
            Some("see docs/builds.md for the buildspec variables".to_string()),
        )
    })?;
    let (source_type, source_location) = match (&build.source, &build.repository_url) {
        (BuildSource::Git, Some(url)) => (
            if url.contains("codecommit") {
                "CODECOMMIT"
            } else {
                "GITHUB"
            }
            .to_string(),
            url.clone(),
        ),
        // Local sources arrive per build as an S3 override; the project needs some S3 source.
        _ => (
            "S3".to_string(),
            format!("{bucket}/sources/{}/{service}/latest.zip", c.app),
        ),
    };
    Ok(ProjectSpec {
        name: naming::build_project(&c.app, service),
        description: format!("envctl: images of service `{service}` of app `{}`", c.app),
        service_role_arn: role_arn.to_string(),
        image: c.build.image.clone(),
        compute_type: c.build.compute_type.clone(),
        environment_type: LINUX_CONTAINER.to_string(),
        source_type,
        source_location,
        source_version: None,
        buildspec,
        environment: BTreeMap::new(),
        // Docker builds need the daemon.
        privileged: true,
        timeout_minutes: c.build.timeout_minutes as i32,
        // One cache per project (a CodeBuild rule): S3 for the dependency directories; docker
        // layers are cached in the ECR repository by BuildKit (--cache-from/--cache-to), which,
        // unlike the LOCAL docker-layer cache, works on any build host and, being app-wide
        // (`naming::build_cache_repository`), also serves a new env's first build.
        cache: ProjectCacheSpec::S3 {
            location: format!("{bucket}/cache/{}/{service}", c.app),
        },
        tags: tags.clone(),
    })
}

/// Options of one `build` (or the build step of `up`).
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Only these services (all with a `build` table when empty).
    pub services: Vec<String>,
    /// Overrides each service's `build.source`.
    pub source: Option<BuildSource>,
    pub force: bool,
    pub poll: Duration,
    pub timeout: Duration,
}

/// The env a build is for: its config and name, and the plan made for it from one observe
/// (`ops::up`); the plan's repository steps for the built services run before anything is
/// pushed.
pub struct BuildTarget<'a> {
    pub config: &'a LoadedConfig,
    pub env: &'a EnvName,
    pub plan: &'a Plan,
}

/// `--service` names that have no build table (or no service): an input error before any call.
pub fn check_services(cfg: &LoadedConfig, services: &[String]) -> Result<()> {
    let c = &cfg.config;
    for name in services {
        match c.services.get(name) {
            Some(s) if s.build.is_some() => {}
            Some(_) => {
                return Err(Error::invalid(
                    format!("service `{name}` has no [services.{name}.build] table"),
                    None,
                ))
            }
            None => {
                return Err(Error::invalid(
                    format!("no service `{name}` in {}", cfg.path.display()),
                    None,
                ))
            }
        }
    }
    Ok(())
}

/// Builds what the env needs and returns the images (service key → URI) to deploy.
pub async fn build_images(
    session: &Session,
    target: &BuildTarget<'_>,
    opts: &BuildOptions,
) -> Result<Vec<BuiltImage>> {
    let cfg = target.config;
    let c = &cfg.config;
    check_services(cfg, &opts.services)?;
    let wanted: Vec<(&String, &BuildConfig)> = c
        .services
        .iter()
        .filter(|(k, _)| opts.services.is_empty() || opts.services.contains(k))
        .filter_map(|(k, s)| s.build.as_ref().map(|b| (k, b)))
        .collect();
    if wanted.is_empty() {
        return Ok(vec![]);
    }
    let aws = session.aws(Some(cfg)).await?;
    let account = aws.account_id().await?;
    let bucket = naming::build_bucket(&c.app, &account, &aws.region);
    let role_name = naming::build_role(&c.app);
    let (bucket_tags, role) =
        futures::try_join!(aws.bucket_tags(&bucket), aws.get_role(&role_name))?;
    let (Some(_), Some(role)) = (bucket_tags, role) else {
        return Err(Error::Precondition {
            message: format!(
                "the build bucket `{bucket}` or the build role `{role_name}` does not exist"
            ),
            hint: "run `envctl bootstrap` (it creates both when a service has a `build` table)"
                .into(),
        });
    };

    ensure_repositories(session, target, &wanted).await?;

    // The projects: specs from the config, observed together, planned, applied.
    let tags = app_tags(&c.app, &ops::owner(), &ops::now_rfc3339());
    let mut builds = Vec::new();
    let mut specs = Vec::new();
    for (key, build) in &wanted {
        let mut build = (*build).clone();
        if let Some(source) = opts.source {
            build.source = source;
        }
        specs.push(project_spec(cfg, key, &build, &bucket, &role.arn, &tags)?);
        builds.push((*key, build));
    }
    let found = try_join_all(specs.iter().map(|s| aws.describe_project(&s.name))).await?;
    let have = found
        .into_iter()
        .flatten()
        .map(|p| (p.name.clone(), p))
        .collect();
    let projects = plan_projects(&c.app, &specs, &have);
    let started = |a: &ProjectAction| {
        let mark = if a.verb() == Verb::Create { '+' } else { '~' };
        session.printer.status(format!("  {mark} {}", a.describe()));
    };
    apply_projects(aws, &c.app, &projects, &started).await?;

    let mut plans = Vec::new();
    for (key, build) in &builds {
        plans.push(
            image_plan(
                session, opts.force, aws, cfg, target.env, key, build, &bucket, &account,
            )
            .await?,
        );
    }
    run_builds(aws, session, &plans, opts.force, opts.poll, opts.timeout).await
}

/// The env's repositories must exist before anything can be pushed: create the missing ones
/// with the target plan's own steps for them (`up` then leaves those steps out of its apply).
async fn ensure_repositories(
    session: &Session,
    target: &BuildTarget<'_>,
    wanted: &[(&String, &BuildConfig)],
) -> Result<()> {
    let services: Vec<&str> = wanted.iter().map(|(k, _)| k.as_str()).collect();
    let actions = repository_steps(
        target.plan,
        &target.config.config.app,
        target.env,
        &services,
    )?;
    if actions.is_empty() {
        return Ok(());
    }
    let aws = session.aws(Some(target.config)).await?;
    let repo_plan = Plan {
        actions,
        ..target.plan.clone()
    };
    apply::apply(
        aws,
        &repo_plan,
        apply::DEFAULT_CONCURRENCY,
        &session.printer.progress(),
    )
    .await?;
    Ok(())
}

/// The plan's steps for the repositories of `services` (create, lifecycle policy); a conflict
/// on one of them is an error.
pub fn repository_steps(
    plan: &Plan,
    app: &str,
    env: &EnvName,
    services: &[&str],
) -> Result<Vec<Action>> {
    let names: Vec<String> = services
        .iter()
        .map(|k| naming::repository(app, &env.slug, k))
        .collect();
    if let Some(c) = plan.conflicts.iter().find(|c| names.contains(&c.name)) {
        return Err(Error::Conflicts(vec![c.clone()]));
    }
    Ok(plan
        .actions
        .iter()
        .filter(|a| match a {
            Action::CreateRepository { name, .. }
            | Action::PutLifecyclePolicy {
                repository: name, ..
            } => names.contains(name),
            _ => false,
        })
        .cloned()
        .collect())
}

/// The image's content address and where its source comes from.
#[allow(clippy::too_many_arguments)]
async fn image_plan(
    session: &Session,
    force: bool,
    aws: &Aws,
    cfg: &LoadedConfig,
    env: &EnvName,
    key: &str,
    build: &BuildConfig,
    bucket: &str,
    account: &str,
) -> Result<ImagePlan> {
    let c = &cfg.config;
    let repository = naming::repository(&c.app, &env.slug, key);
    let commit = crate::build::head_commit(&cfg.dir);
    let (tag, source_version, source_location) = match build.source {
        BuildSource::Git => {
            let sha = commit.map_err(|m| {
                Error::invalid(
                    format!("service `{key}` builds from git: {m}"),
                    Some("commit and push, or use --source local".to_string()),
                )
            })?;
            if build.repository_url.is_none() {
                return Err(Error::invalid(
                    format!("service `{key}` builds from git but has no build.repository_url"),
                    Some(format!(
                        "set services.{key}.build.repository_url, or use --source local"
                    )),
                ));
            }
            // CodeBuild fetches the commit from the remote: an unpushed one cannot build.
            let pushed = crate::build::pushed_commit(&cfg.dir, &env.raw);
            if pushed.as_deref() != Some(sha.as_str()) {
                session.printer.warn(format!(
                    "service `{key}`: HEAD {} is not the pushed head of origin/{}; CodeBuild can only fetch pushed commits (push first, or use --source local)",
                    &sha[..sha.len().min(12)],
                    env.raw
                ));
            }
            (crate::build::git_tag(&sha), Some(sha), None)
        }
        BuildSource::Local => {
            let root = repo_root(&cfg.dir);
            // Absolute: `collect_files` resolves a relative context against the repository root.
            let context = std::fs::canonicalize(cfg.dir.join(&build.context)).map_err(|e| {
                Error::io(
                    format!("service `{key}`: build.context {}", build.context.display()),
                    e,
                )
            })?;
            let files = crate::build::collect_files(&root, &context)
                .map_err(|m| Error::invalid(format!("service `{key}`: {m}"), None))?;
            let hash =
                crate::build::inputs_hash(&context, &files).map_err(|m| Error::invalid(m, None))?;
            let tag = crate::build::local_tag(commit.as_deref().ok(), &hash);
            let zip =
                crate::build::zip_files(&context, &files).map_err(|m| Error::invalid(m, None))?;
            let object = format!("sources/{}/{key}/{tag}.zip", c.app);
            // Uploaded whenever a build may run (a forced one too): sources expire after 7 days.
            if force || aws.image_digest(&repository, &tag).await?.is_none() {
                aws.put_object(bucket, &object, zip).await?;
            }
            (tag, None, Some(format!("{bucket}/{object}")))
        }
    };
    Ok(ImagePlan {
        service: key.to_string(),
        project: naming::build_project(&c.app, key),
        image_uri: format!(
            "{account}.dkr.ecr.{}.amazonaws.com/{repository}:{tag}",
            aws.region
        ),
        cache_uri: format!(
            "{account}.dkr.ecr.{}.amazonaws.com/{}",
            aws.region,
            naming::build_cache_repository(&c.app, key)
        ),
        repository,
        tag,
        source_version,
        source_location,
    })
}

/// The git work tree the config lives in (or the config's directory outside git).
fn repo_root(dir: &std::path::Path) -> std::path::PathBuf {
    std::process::Command::new("git")
        .args(["rev-parse", "--show-toplevel"])
        .current_dir(dir)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| std::path::PathBuf::from(s.trim()))
        .unwrap_or_else(|| dir.to_path_buf())
}

/// Lines of a failed build's log shown to the user.
const LOG_TAIL_LINES: usize = 30;
const FINISHED: [&str; 5] = ["SUCCEEDED", "FAILED", "FAULT", "STOPPED", "TIMED_OUT"];

/// Skips what exists, starts the rest in parallel, and waits. Returns every image, or the first
/// failure with its log tail (then nothing may be deployed).
pub async fn run_builds<B: BuildBackend>(
    backend: &B,
    session: &Session,
    plans: &[ImagePlan],
    force: bool,
    poll: Duration,
    timeout: Duration,
) -> Result<Vec<BuiltImage>> {
    let printer = &session.printer;
    let mut out: BTreeMap<String, BuiltImage> = BTreeMap::new();
    let mut running: Vec<(String, &ImagePlan)> = Vec::new();
    for p in plans {
        let digest = backend.image_digest(&p.repository, &p.tag).await?;
        if let (Some(d), false) = (&digest, force) {
            printer.status(format!(
                "  = {}: {} exists in ECR, build skipped",
                p.service, p.tag
            ));
            out.insert(
                p.service.clone(),
                BuiltImage {
                    service: p.service.clone(),
                    image_uri: p.image_uri.clone(),
                    tag: p.tag.clone(),
                    cache_hit: true,
                    build_id: None,
                    duration_secs: None,
                    phases: vec![],
                    digest: Some(d.clone()),
                },
            );
            continue;
        }
        let mut env = BTreeMap::new();
        env.insert("IMAGE_URI".to_string(), p.image_uri.clone());
        env.insert("IMAGE_TAG".to_string(), p.tag.clone());
        env.insert(
            "REPOSITORY_URI".to_string(),
            p.image_uri
                .rsplit_once(':')
                .map(|x| x.0)
                .unwrap_or(&p.image_uri)
                .to_string(),
        );
        env.insert("ENVCTL_SERVICE".to_string(), p.service.clone());
        env.insert("CACHE_URI".to_string(), p.cache_uri.clone());
        let id = backend
            .start(&BuildRequest {
                project: p.project.clone(),
                source_version: p.source_version.clone(),
                source_location_override: p.source_location.clone(),
                source_type_override: p.source_location.as_ref().map(|_| "S3".to_string()),
                env,
            })
            .await?;
        printer.status(format!("  … {}: build {id} started", p.service));
        running.push((id, p));
    }

    let started = Instant::now();
    let mut last_phase: BTreeMap<String, String> = BTreeMap::new();
    while !running.is_empty() {
        let ids: Vec<String> = running.iter().map(|(id, _)| id.clone()).collect();
        let states = backend.states(&ids).await?;
        let mut still = Vec::new();
        for (id, p) in running {
            let Some(st) = states.iter().find(|s| s.id == id) else {
                still.push((id, p));
                continue;
            };
            if let Some(phase) = &st.current_phase {
                if last_phase.get(&id) != Some(phase) {
                    printer.status(format!("    {}: {phase}", p.service));
                    last_phase.insert(id.clone(), phase.clone());
                }
            }
            if !FINISHED.contains(&st.status.as_str()) {
                still.push((id, p));
                continue;
            }
            if st.status != "SUCCEEDED" {
                return Err(build_failed(backend, p, st).await);
            }
            let phases: Vec<PhaseTime> = st
                .phases
                .iter()
                .map(|ph| PhaseTime {
                    name: ph.name.clone(),
                    status: ph.status.clone(),
                    seconds: ph.duration_secs,
                })
                .collect();
            let total: i64 = phases.iter().filter_map(|p| p.seconds).sum();
            printer.status(format!(
                "  ✓ {}: built {} in {total}s ({})",
                p.service,
                p.tag,
                phases
                    .iter()
                    .filter(|p| p.seconds.unwrap_or(0) > 0)
                    .map(|p| format!("{} {}s", p.name, p.seconds.unwrap_or(0)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            let digest = backend.image_digest(&p.repository, &p.tag).await?;
            out.insert(
                p.service.clone(),
                BuiltImage {
                    service: p.service.clone(),
                    image_uri: p.image_uri.clone(),
                    tag: p.tag.clone(),
                    cache_hit: false,
                    build_id: Some(id.clone()),
                    duration_secs: Some(total as f64),
                    phases,
                    digest,
                },
            );
        }
        running = still;
        if running.is_empty() {
            break;
        }
        if started.elapsed() >= timeout {
            return Err(Error::NotStable {
                message: format!(
                    "builds still running after {}s: {}",
                    timeout.as_secs(),
                    running
                        .iter()
                        .map(|(id, _)| id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        tokio::time::sleep(poll).await;
    }
    Ok(plans
        .iter()
        .filter_map(|p| out.remove(&p.service))
        .collect())
}

async fn build_failed<B: BuildBackend>(backend: &B, p: &ImagePlan, st: &BuildState) -> Error {
    let tail = match (&st.log_group, &st.log_stream) {
        (Some(g), Some(s)) => backend
            .log_tail(g, s, LOG_TAIL_LINES)
            .await
            .unwrap_or_default(),
        _ => vec![],
    };
    // A finished build's current phase is always COMPLETED: name the phase that failed.
    let phase = match st.failed_phase() {
        Some(f) => {
            let status = f.status.as_deref().unwrap_or_default();
            format!(
                "in phase {}{}{}",
                f.name,
                if status == st.status {
                    String::new()
                } else {
                    format!(" ({status})")
                },
                f.context
                    .as_ref()
                    .map(|c| format!(": {c}"))
                    .unwrap_or_default()
            )
        }
        None => format!("in phase {}", st.current_phase.as_deref().unwrap_or("?")),
    };
    let mut message = format!(
        "build {} of service `{}` ended {} {phase}",
        st.id, p.service, st.status
    );
    if !tail.is_empty() {
        message.push_str("\n--- last lines of the build log ---\n");
        message.push_str(&tail.join("\n"));
    }
    Error::BuildFailed {
        message,
        link: st.deep_link.clone(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::aws::codebuild::BuildPhase;
    use crate::model::ProjectState;
    use crate::ops::SessionOptions;

    /// A CodeBuild stand-in: which tags exist, and what each started build ends as.
    struct Fake {
        existing: Vec<String>,
        outcome: &'static str,
        started: Mutex<Vec<BuildRequest>>,
    }

    impl BuildBackend for Fake {
        async fn image_digest(&self, _repository: &str, tag: &str) -> AwsResult<Option<String>> {
            Ok(self
                .existing
                .iter()
                .any(|t| t == tag)
                .then(|| format!("sha256:{tag}")))
        }
        async fn start(&self, req: &BuildRequest) -> AwsResult<String> {
            let mut s = self.started.lock().unwrap();
            s.push(req.clone());
            Ok(format!("build-{}", s.len()))
        }
        async fn states(&self, ids: &[String]) -> AwsResult<Vec<BuildState>> {
            Ok(ids
                .iter()
                .map(|id| BuildState {
                    id: id.clone(),
                    status: self.outcome.to_string(),
                    // As CodeBuild reports a finished build, failed or not.
                    current_phase: Some("COMPLETED".into()),
                    phases: finished_phases(self.outcome),
                    log_group: Some("/aws/codebuild/p".into()),
                    log_stream: Some("s".into()),
                    deep_link: Some("https://console.example/build".into()),
                })
                .collect())
        }
        async fn log_tail(&self, _g: &str, _s: &str, _n: usize) -> AwsResult<Vec<String>> {
            Ok(vec![
                "step 3/7 : RUN make".into(),
                "error: tests failed".into(),
            ])
        }
    }

    /// The phases of a finished build as CodeBuild lists them: the BUILD phase ends with
    /// `outcome` (with a context when it did not succeed); the later ones still run, and the
    /// final COMPLETED phase has no status.
    fn finished_phases(outcome: &str) -> Vec<BuildPhase> {
        let phase = |name: &str, status: Option<&str>, context: Option<&str>| BuildPhase {
            name: name.into(),
            status: status.map(str::to_string),
            duration_secs: Some(if name == "BUILD" { 42 } else { 1 }),
            context: context.map(str::to_string),
        };
        let failed = outcome != "SUCCEEDED";
        vec![
            phase("SUBMITTED", Some("SUCCEEDED"), None),
            phase("PROVISIONING", Some("SUCCEEDED"), None),
            phase("DOWNLOAD_SOURCE", Some("SUCCEEDED"), None),
            phase(
                "BUILD",
                Some(outcome),
                failed.then_some(
                    "COMMAND_EXECUTION_ERROR: Error while executing command: make test. Reason: exit status 2",
                ),
            ),
            phase("POST_BUILD", Some("SUCCEEDED"), None),
            phase("UPLOAD_ARTIFACTS", Some("SUCCEEDED"), None),
            phase("FINALIZING", Some("SUCCEEDED"), None),
            phase("COMPLETED", None, None),
        ]
    }

    fn session() -> Session {
        Session::new(SessionOptions {
            quiet: true,
            ..SessionOptions::default()
        })
    }

    fn plan(service: &str, tag: &str) -> ImagePlan {
        ImagePlan {
            service: service.into(),
            project: format!("envctl-shop-{service}-build"),
            repository: format!("envctl/shop/x/{service}"),
            tag: tag.into(),
            image_uri: format!("1.dkr.ecr.r.amazonaws.com/envctl/shop/x/{service}:{tag}"),
            cache_uri: format!("1.dkr.ecr.r.amazonaws.com/envctl/shop-cache/{service}"),
            source_version: Some("abc".into()),
            source_location: None,
        }
    }

    fn spec() -> ProjectSpec {
        ProjectSpec {
            name: "envctl-shop-web-build".into(),
            description: "d".into(),
            service_role_arn: "arn:aws:iam::1:role/envctl-shop-build".into(),
            image: "aws/codebuild/standard:7.0".into(),
            compute_type: "BUILD_GENERAL1_MEDIUM".into(),
            environment_type: "LINUX_CONTAINER".into(),
            source_type: "GITHUB".into(),
            source_location: "https://github.com/acme/shop.git".into(),
            source_version: None,
            buildspec: "version: 0.2\n".into(),
            environment: BTreeMap::new(),
            privileged: true,
            timeout_minutes: 30,
            cache: ProjectCacheSpec::S3 {
                location: "b/cache/shop/web".into(),
            },
            tags: Tags::new(),
        }
    }

    fn state(s: &ProjectSpec) -> ProjectState {
        ProjectState {
            name: s.name.clone(),
            arn: "arn".into(),
            // CodeBuild may hand the buildspec back with a trailing newline trimmed.
            buildspec: s.buildspec.trim_end().to_string(),
            source_type: s.source_type.clone(),
            source_location: s.source_location.clone(),
            source_version: None,
            image: s.image.clone(),
            compute_type: s.compute_type.clone(),
            environment_type: s.environment_type.clone(),
            service_role_arn: s.service_role_arn.clone(),
            environment: s.environment.clone(),
            cache: s.cache.clone(),
            tags: Tags::new(),
        }
    }

    #[test]
    fn project_is_created_once_then_left_alone() {
        let want = spec();
        assert_eq!(project_change(&want, None), ProjectChange::Create);
        // Existing and equal: no create (CodeBuild would refuse a second one), no update.
        assert_eq!(
            project_change(&want, Some(&state(&want))),
            ProjectChange::None
        );
    }

    #[test]
    fn changed_fields_update_the_project_and_are_named() {
        let want = spec();
        let mut have = state(&want);
        have.buildspec = "version: 0.2\nphases: {}".into();
        have.cache = ProjectCacheSpec::None;
        assert_eq!(
            project_change(&want, Some(&have)),
            ProjectChange::Update(vec!["buildspec".into(), "cache".into()])
        );
    }

    #[tokio::test]
    async fn existing_image_skips_the_build() {
        let fake = Fake {
            existing: vec!["git-abc".into()],
            outcome: "SUCCEEDED",
            started: Mutex::new(vec![]),
        };
        let out = run_builds(
            &fake,
            &session(),
            &[plan("web", "git-abc")],
            false,
            Duration::ZERO,
            Duration::from_secs(5),
        )
        .await
        .unwrap();
        assert!(out[0].cache_hit);
        assert!(
            fake.started.lock().unwrap().is_empty(),
            "an unchanged commit triggers zero builds"
        );
    }

    #[tokio::test]
    async fn missing_images_build_in_parallel_with_the_right_overrides() {
        let fake = Fake {
            existing: vec![],
            outcome: "SUCCEEDED",
            started: Mutex::new(vec![]),
        };
        let plans = [plan("web", "git-abc"), plan("worker", "git-abc")];
        let out = run_builds(
            &fake,
            &session(),
            &plans,
            false,
            Duration::ZERO,
            Duration::from_secs(5),
        )
        .await
        .unwrap();
        assert_eq!(out.len(), 2);
        assert!(out.iter().all(|b| !b.cache_hit && b.build_id.is_some()));
        let started = fake.started.lock().unwrap();
        assert_eq!(started.len(), 2);
        assert_eq!(started[0].source_version.as_deref(), Some("abc"));
        assert_eq!(started[0].env["IMAGE_TAG"], "git-abc");
        assert!(started[0].env["IMAGE_URI"].ends_with("/envctl/shop/x/web:git-abc"));
    }

    #[tokio::test]
    async fn forced_build_runs_even_when_the_image_exists() {
        let fake = Fake {
            existing: vec!["git-abc".into()],
            outcome: "SUCCEEDED",
            started: Mutex::new(vec![]),
        };
        run_builds(
            &fake,
            &session(),
            &[plan("web", "git-abc")],
            true,
            Duration::ZERO,
            Duration::from_secs(5),
        )
        .await
        .unwrap();
        assert_eq!(fake.started.lock().unwrap().len(), 1);
    }

    /// The error of one `web` build that the fake ends with `outcome`.
    async fn failed_build(outcome: &'static str) -> Error {
        let fake = Fake {
            existing: vec![],
            outcome,
            started: Mutex::new(vec![]),
        };
        run_builds(
            &fake,
            &session(),
            &[plan("web", "git-abc")],
            false,
            Duration::ZERO,
            Duration::from_secs(5),
        )
        .await
        .unwrap_err()
    }

    #[tokio::test]
    async fn failed_build_is_an_error_with_the_log_tail_and_link() {
        let err = failed_build("FAILED").await;
        let text = err.to_string();
        assert!(
            text.contains("ended FAILED in phase BUILD") && text.contains("error: tests failed"),
            "{text}"
        );
        assert!(!text.contains("COMPLETED"), "{text}");
        assert_eq!(err.exit_code(), crate::error::exit::FAILURE);
        assert!(err
            .hint()
            .unwrap_or_default()
            .contains("https://console.example/build"));
    }

    #[tokio::test]
    async fn failed_build_names_the_failed_phase() {
        // A finished build is always in phase COMPLETED; the error named that phase.
        for (outcome, expected) in [
            (
                "FAILED",
                "ended FAILED in phase BUILD: COMMAND_EXECUTION_ERROR: Error while executing command: make test. Reason: exit status 2",
            ),
            ("TIMED_OUT", "ended TIMED_OUT in phase BUILD: COMMAND_EXECUTION_ERROR"),
            ("STOPPED", "ended STOPPED in phase BUILD: "),
            ("FAULT", "ended FAULT in phase BUILD: "),
        ] {
            let err = failed_build(outcome).await;
            let text = err.to_string();
            assert!(text.contains(expected), "{outcome}: {text}");
            assert!(!text.contains("phase COMPLETED"), "{outcome}: {text}");
        }
    }

    #[test]
    fn failed_phase_is_the_first_that_did_not_succeed() {
        let mut st = BuildState {
            id: "b".into(),
            status: "FAILED".into(),
            current_phase: Some("COMPLETED".into()),
            phases: finished_phases("SUCCEEDED"),
            log_group: None,
            log_stream: None,
            deep_link: None,
        };
        assert_eq!(
            st.failed_phase(),
            None,
            "a build whose phases all succeeded"
        );
        st.phases[2].status = Some("FAILED".into());
        st.phases[2].context = Some("CLIENT_ERROR: repository not found".into());
        st.phases[5].status = Some("FAILED".into());
        let f = st.failed_phase().expect("a failed phase");
        assert_eq!(f.name, "DOWNLOAD_SOURCE");
        assert_eq!(
            f.context.as_deref(),
            Some("CLIENT_ERROR: repository not found")
        );
    }
}
