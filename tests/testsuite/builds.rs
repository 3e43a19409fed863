//! Image builds against the emulator: bootstrap creates the bucket and role, `up` creates the
//! project with its caches and starts a build for the commit (asserted on the recorded request:
//! moto ignores overrides and reports SUCCEEDED at once), deploys the built image, and skips the
//! build when ECR already holds the commit's image. Failure is covered in src/ops/build.rs with a
//! fake backend, since the emulator cannot fail a build.

use std::path::Path;
use std::process::Command;

use crate::support::App;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.email=t@example.test", "-c", "user.name=t"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// An app whose `web` service is built by CodeBuild from the committed Dockerfile, bootstrapped.
fn built_app() -> App {
    let app = App::init();
    let config = app.path().join("envctl.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    let text = text.replacen(
        "[services.web]\n",
        "[services.web.build]\npreset = \"npm\"\nrepository_url = \"https://github.com/acme/shop.git\"\n\n[services.web]\n",
        1,
    );
    // A built service has no `image`: envctl deploys what it built.
    let text: String = text
        .lines()
        .filter(|l| !l.starts_with("image = \"public.ecr.aws/nginx"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&config, text).expect("write config");
    std::fs::write(
        app.path().join("Dockerfile"),
        "FROM public.ecr.aws/nginx/nginx:1.27-alpine\n",
    )
    .unwrap();
    git(app.path(), &["init", "-q"]);
    git(app.path(), &["add", "."]);
    git(app.path(), &["commit", "-qm", "app"]);
    app.ok(&["bootstrap"]);
    app
}

#[tokio::test]
async fn up_builds_the_commit_once_deploys_it_and_skips_an_existing_image() {
    let app = built_app();
    let sha = git(app.path(), &["rev-parse", "HEAD"]);
    let tag = format!("git-{}", &sha[..12]);
    let conf = app.moto.sdk_config();

    app.moto.clear_recording();
    let report = app.ok(&["up", "feature-x", "--output", "json"]).json();
    assert_eq!(report["builds"][0]["tag"], tag.as_str());
    assert_eq!(report["builds"][0]["cache_hit"], false);
    // One observe for the whole command, the build step included (it used to plan a whole `up`
    // of its own), and the env's repository is created once: by the build step, which `up`'s
    // apply then leaves out.
    let calls = app.moto.aws_operations();
    let count = |op: &str| calls.iter().filter(|o| *o == op).count();
    assert_eq!(count("DescribeClusters"), 1, "{calls:?}");
    assert_eq!(count("CreateRepository"), 1, "{calls:?}");
    assert_eq!(count("PutLifecyclePolicy"), 1, "{calls:?}");

    // The project: S3 dependency cache in the bootstrap bucket, privileged docker, the buildspec.
    let cb = aws_sdk_codebuild::Client::new(&conf);
    let projects = cb
        .batch_get_projects()
        .names("envctl-shop-web-build")
        .send()
        .await
        .expect("projects");
    let project = &projects.projects()[0];
    let cache = project.cache().expect("cache");
    assert_eq!(cache.r#type().as_str(), "S3");
    assert!(
        cache
            .location()
            .unwrap_or_default()
            .starts_with("envctl-shop-123456789012-us-east-1/cache/"),
        "{cache:?}"
    );
    assert_eq!(
        project.environment().and_then(|e| e.privileged_mode()),
        Some(true)
    );
    let buildspec = project
        .source()
        .and_then(|s| s.buildspec())
        .unwrap_or_default();
    assert!(
        buildspec.contains("--cache-from") && buildspec.contains("/root/.npm"),
        "{buildspec}"
    );

    // What envctl asked CodeBuild for (moto ignores the overrides).
    let writes = app.moto.writes();
    let start = writes
        .iter()
        .find(|w| w.operation == "StartBuild")
        .expect("a StartBuild")
        .json();
    assert_eq!(start["projectName"], "envctl-shop-web-build");
    assert_eq!(start["sourceVersion"], sha.as_str());
    let env: Vec<(String, String)> = start["environmentVariablesOverride"]
        .as_array()
        .expect("overrides")
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_string(),
                e["value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let image_uri =
        format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/envctl/shop/feature-x/web:{tag}");
    assert!(
        env.contains(&("IMAGE_URI".into(), image_uri.clone())),
        "{env:?}"
    );
    assert!(env.contains(&("IMAGE_TAG".into(), tag.clone())), "{env:?}");
    // Layers are cached app-wide, so another branch's first build reuses them.
    let cache_uri =
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/envctl/shop-cache/web".to_string();
    assert!(env.contains(&("CACHE_URI".into(), cache_uri)), "{env:?}");
    assert!(buildspec.contains("$CACHE_URI:buildcache"), "{buildspec}");
    let ecr_cache = aws_sdk_ecr::Client::new(&conf)
        .describe_repositories()
        .repository_names("envctl/shop-cache/web")
        .send()
        .await;
    assert!(
        ecr_cache.is_ok(),
        "bootstrap creates the shared cache repository: {ecr_cache:?}"
    );
    // The deploy uses exactly the built image.
    let register = writes
        .iter()
        .find(|w| w.operation == "RegisterTaskDefinition")
        .expect("a registration")
        .json();
    assert_eq!(
        register["containerDefinitions"][0]["image"],
        image_uri.as_str()
    );

    // The image for this commit is in ECR now (the emulator's build pushes nothing: push it).
    let ecr = aws_sdk_ecr::Client::new(&conf);
    let manifest = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"layers":[]}"#;
    ecr.put_image()
        .repository_name("envctl/shop/feature-x/web")
        .image_tag(&tag)
        .image_manifest(manifest)
        .send()
        .await
        .expect("put image");
    app.moto.clear_recording();
    let report = app.ok(&["up", "feature-x", "--output", "json"]).json();
    assert_eq!(report["builds"][0]["cache_hit"], true);
    assert!(report["builds"][0]["digest"]
        .as_str()
        .unwrap_or_default()
        .starts_with("sha256:"));
    assert!(
        !app.moto.write_ops().iter().any(|o| o == "StartBuild"),
        "an unchanged commit starts no build: {:?}",
        app.moto.write_ops()
    );
    assert!(app.moto.writes().is_empty(), "{:?}", app.moto.write_ops());
}

#[tokio::test]
async fn local_source_uploads_the_working_tree_and_builds_from_s3() {
    let app = built_app();
    std::fs::write(app.path().join("uncommitted.txt"), "work in progress").unwrap();
    std::fs::write(app.path().join(".gitignore"), "secret.env\n").unwrap();
    std::fs::write(app.path().join("secret.env"), "TOKEN=x").unwrap();
    app.moto.clear_recording();
    let built = app
        .ok(&[
            "build",
            "feature-x",
            "--source",
            "local",
            "--output",
            "json",
        ])
        .json();
    let tag = built[0]["tag"].as_str().expect("tag").to_string();
    assert!(tag.starts_with("local-"), "{tag}");
    let writes = app.moto.writes();
    let put = writes
        .iter()
        .find(|w| w.method == "PUT" && w.url.contains("/sources/shop/web/"))
        .expect("the zip upload");
    assert!(put.url.contains(&tag), "{}", put.url);
    assert!(
        put.body.contains("uncommitted.txt") && !put.body.contains("secret.env"),
        "zip respects .gitignore"
    );
    let start = writes
        .iter()
        .find(|w| w.operation == "StartBuild")
        .expect("StartBuild")
        .json();
    assert_eq!(start["sourceTypeOverride"], "S3");
    assert!(start["sourceLocationOverride"]
        .as_str()
        .unwrap_or_default()
        .ends_with(&format!("{tag}.zip")));
}

/// `--no-build` with a built service and no `--image` for it is an input error, found before
/// `up` reads anything (its one observe comes after the input checks).
#[tokio::test]
async fn no_build_without_an_image_for_a_built_service_fails_before_any_call() {
    let app = built_app();
    app.moto.clear_recording();
    let r = app.expect(&["up", "feature-x", "--no-build"], 3);
    assert!(r.stderr.contains("--no-build: service `web`"), "{r}");
    assert_eq!(app.moto.aws_operations(), Vec::<String>::new());
}
