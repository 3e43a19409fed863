//! The AWS calls behind cached image builds, against a private moto server: the build bucket
//! (tags, public access block, lifecycle), uploading a source archive, CodeBuild projects with
//! an S3 or a local cache, starting a build and reading it back, the tail of a build's log, and
//! an image's digest. moto 5.2.5 quirks are pinned where they show.

use std::collections::BTreeMap;

use envctl::aws::codebuild::BuildRequest;
use envctl::model::{ProjectCacheSpec, ProjectSpec};

use envctl::model::Tags;

use crate::support::Moto;

/// An S3 client for reading back what envctl wrote (path style, like envctl's own).
fn s3_client(moto: &Moto) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&moto.sdk_config())
            .force_path_style(true)
            .build(),
    )
}

const BUCKET: &str = "envctl-shop-builds-123456789012";
const PROJECT: &str = "envctl-shop-image";
const ROLE: &str = "arn:aws:iam::123456789012:role/envctl-shop-codebuild";
const BUILDSPEC: &str = "version: 0.2\nphases:\n  build:\n    commands:\n      - docker build .\n";

fn tags() -> Tags {
    Tags::from([
        ("envctl:managed-by".to_string(), "envctl".to_string()),
        ("envctl:app".to_string(), "shop".to_string()),
    ])
}

/// An image-build project from an uploaded archive (moto needs a source location anyway).
fn project(cache: ProjectCacheSpec) -> ProjectSpec {
    ProjectSpec {
        name: PROJECT.into(),
        description: "envctl image builds for shop".into(),
        service_role_arn: ROLE.into(),
        image: "aws/codebuild/amazonlinux2-x86_64-standard:5.0".into(),
        compute_type: "BUILD_GENERAL1_SMALL".into(),
        environment_type: "LINUX_CONTAINER".into(),
        source_type: "S3".into(),
        source_location: format!("{BUCKET}/sources/shop.zip"),
        source_version: None,
        buildspec: BUILDSPEC.into(),
        environment: BTreeMap::from([("APP".to_string(), "shop".to_string())]),
        privileged: true,
        timeout_minutes: 30,
        cache,
        tags: tags(),
    }
}

#[tokio::test]
async fn bucket_is_created_tagged_private_and_expiring() {
    let moto = Moto::start();
    let aws = moto.connect().await;
    assert_eq!(aws.bucket_tags(BUCKET).await.unwrap(), None);

    aws.create_bucket(BUCKET, &tags()).await.expect("create");

    assert_eq!(aws.bucket_tags(BUCKET).await.unwrap(), Some(tags()));
    let s3 = s3_client(&moto);
    let block = s3
        .get_public_access_block()
        .bucket(BUCKET)
        .send()
        .await
        .expect("public access block")
        .public_access_block_configuration
        .expect("configuration");
    assert_eq!(block.block_public_acls, Some(true));
    assert_eq!(block.ignore_public_acls, Some(true));
    assert_eq!(block.block_public_policy, Some(true));
    assert_eq!(block.restrict_public_buckets, Some(true));

    let lifecycle = s3
        .get_bucket_lifecycle_configuration()
        .bucket(BUCKET)
        .send()
        .await
        .expect("lifecycle");
    let rules: Vec<(String, Option<String>, Option<i32>)> = lifecycle
        .rules()
        .iter()
        .map(|r| {
            (
                r.status().as_str().to_string(),
                r.filter().and_then(|f| f.prefix()).map(str::to_string),
                r.expiration().and_then(|e| e.days()),
            )
        })
        .collect();
    assert_eq!(
        rules,
        [
            ("Enabled".to_string(), Some("sources/".to_string()), Some(7)),
            ("Enabled".to_string(), Some("cache/".to_string()), Some(30)),
        ]
    );

    // In us-east-1 S3 (and moto) answer 200 to creating a bucket you already own; the
    // settings are applied again. Elsewhere it is BucketAlreadyOwnedByYou.
    aws.create_bucket(BUCKET, &tags())
        .await
        .expect("create again");
    assert_eq!(aws.bucket_tags(BUCKET).await.unwrap(), Some(tags()));
}

#[tokio::test]
async fn bucket_without_tags_has_empty_tags() {
    let moto = Moto::start();
    let aws = moto.connect().await;
    aws.create_bucket(BUCKET, &Tags::new())
        .await
        .expect("create");
    assert_eq!(aws.bucket_tags(BUCKET).await.unwrap(), Some(Tags::new()));
}

#[tokio::test]
async fn object_is_uploaded() {
    let moto = Moto::start();
    let aws = moto.connect().await;
    aws.create_bucket(BUCKET, &tags()).await.expect("create");
    let bytes = b"PK\x03\x04 not really a zip".to_vec();

    aws.put_object(BUCKET, "sources/shop/abc.zip", bytes.clone())
        .await
        .expect("put");

    let got = s3_client(&moto)
        .get_object()
        .bucket(BUCKET)
        .key("sources/shop/abc.zip")
        .send()
        .await
        .expect("get")
        .body
        .collect()
        .await
        .expect("body")
        .into_bytes();
    assert_eq!(got.as_ref(), bytes.as_slice());

    let err = aws
        .put_object("no-such-bucket", "k", Vec::new())
        .await
        .unwrap_err();
    assert_eq!(err.code.as_deref(), Some("NoSuchBucket"), "{err}");
    assert_eq!(err.resource, "no-such-bucket/k");
}

#[tokio::test]
async fn project_with_an_s3_cache_round_trips() {
    let moto = Moto::start();
    let aws = moto.connect().await;
    let cache = ProjectCacheSpec::S3 {
        location: format!("{BUCKET}/cache/shop"),
    };

    aws.create_project(&project(cache.clone()))
        .await
        .expect("create");

    let sent = moto
        .writes()
        .into_iter()
        .find(|r| r.operation == "CreateProject")
        .expect("CreateProject was sent")
        .json();
    assert_eq!(
        sent["cache"],
        serde_json::json!({"type": "S3", "location": format!("{BUCKET}/cache/shop")})
    );
    assert_eq!(
        sent["source"],
        serde_json::json!({
            "type": "S3",
            "location": format!("{BUCKET}/sources/shop.zip"),
            "buildspec": BUILDSPEC,
        })
    );
    let described = aws
        .describe_project(PROJECT)
        .await
        .unwrap()
        .expect("exists");
    assert_eq!(described.cache, cache);
    assert_eq!(described.source_type, "S3");
    assert_eq!(
        described.source_location,
        format!("{BUCKET}/sources/shop.zip")
    );
}

#[tokio::test]
async fn project_with_a_local_cache_round_trips() {
    let moto = Moto::start();
    let aws = moto.connect().await;
    let cache = ProjectCacheSpec::Local {
        modes: vec![
            "LOCAL_DOCKER_LAYER_CACHE".into(),
            "LOCAL_SOURCE_CACHE".into(),
        ],
    };

    aws.create_project(&project(cache.clone()))
        .await
        .expect("create");

    let sent = moto
        .writes()
        .into_iter()
        .find(|r| r.operation == "CreateProject")
        .expect("CreateProject was sent")
        .json();
    assert_eq!(
        sent["cache"],
        serde_json::json!({
            "type": "LOCAL",
            "modes": ["LOCAL_DOCKER_LAYER_CACHE", "LOCAL_SOURCE_CACHE"],
        })
    );
    let described = aws
        .describe_project(PROJECT)
        .await
        .unwrap()
        .expect("exists");
    assert_eq!(described.cache, cache);
}

#[tokio::test]
async fn project_without_a_cache_sends_and_reads_no_cache() {
    let moto = Moto::start();
    let aws = moto.connect().await;

    aws.create_project(&project(ProjectCacheSpec::None))
        .await
        .expect("create");

    let sent = moto
        .writes()
        .into_iter()
        .find(|r| r.operation == "CreateProject")
        .expect("CreateProject was sent")
        .json();
    assert_eq!(sent["cache"], serde_json::json!({"type": "NO_CACHE"}));
    let described = aws
        .describe_project(PROJECT)
        .await
        .unwrap()
        .expect("exists");
    assert_eq!(described.cache, ProjectCacheSpec::None);
}

#[tokio::test]
async fn build_is_started_with_overrides_and_read_back() {
    let moto = Moto::start();
    let aws = moto.connect().await;
    aws.create_project(&project(ProjectCacheSpec::None))
        .await
        .expect("create");
    moto.clear_recording();

    let id = aws
        .start_build(&BuildRequest {
            project: PROJECT.into(),
            source_version: Some("v42".into()),
            source_location_override: Some(format!("{BUCKET}/sources/shop/abc.zip")),
            source_type_override: Some("S3".into()),
            env: BTreeMap::from([
                ("IMAGE_TAG".to_string(), "abc123".to_string()),
                ("SERVICE".to_string(), "web".to_string()),
            ]),
        })
        .await
        .expect("start");

    assert!(id.starts_with(&format!("{PROJECT}:")), "{id}");
    let sent = moto
        .writes()
        .into_iter()
        .find(|r| r.operation == "StartBuild")
        .expect("StartBuild was sent")
        .json();
    assert_eq!(
        sent,
        serde_json::json!({
            "projectName": PROJECT,
            "sourceVersion": "v42",
            "sourceTypeOverride": "S3",
            "sourceLocationOverride": format!("{BUCKET}/sources/shop/abc.zip"),
            "environmentVariablesOverride": [
                {"name": "IMAGE_TAG", "value": "abc123", "type": "PLAINTEXT"},
                {"name": "SERVICE", "value": "web", "type": "PLAINTEXT"},
            ],
        })
    );

    // moto completes a build the first time it is read.
    let builds = aws
        .get_builds(std::slice::from_ref(&id))
        .await
        .expect("get");
    assert_eq!(builds.len(), 1);
    let build = &builds[0];
    assert_eq!(build.id, id);
    assert_eq!(build.status, "SUCCEEDED");
    assert!(build.is_finished());
    assert_eq!(build.current_phase.as_deref(), Some("COMPLETED"));
    let names: Vec<&str> = build.phases.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names.first(), Some(&"SUBMITTED"), "{names:?}");
    assert!(names.contains(&"BUILD"), "{names:?}");
    assert!(build
        .phases
        .iter()
        .all(|p| p.status.as_deref() == Some("SUCCEEDED")));
    // moto quirk: its logs location has a deep link but no group or stream name.
    assert_eq!(build.log_group, None);
    assert_eq!(build.log_stream, None);
    assert!(build.deep_link.is_some());

    // moto quirk: every BatchGetBuilds appends the nine completed phases again.
    let again = aws
        .get_builds(std::slice::from_ref(&id))
        .await
        .expect("get");
    assert_eq!(again[0].phases.len(), build.phases.len() + 9);
}

#[tokio::test]
async fn builds_are_read_in_batches_of_100_and_unknown_ids_left_out() {
    let moto = Moto::start();
    let aws = moto.connect().await;
    aws.create_project(&project(ProjectCacheSpec::None))
        .await
        .expect("create");
    let id = aws
        .start_build(&BuildRequest {
            project: PROJECT.into(),
            ..Default::default()
        })
        .await
        .expect("start");
    let mut ids: Vec<String> = (0..150)
        .map(|i| format!("{PROJECT}:00000000-0000-0000-0000-{i:012}"))
        .collect();
    ids.push(id.clone());
    moto.clear_recording();

    let builds = aws.get_builds(&ids).await.expect("get");

    assert_eq!(
        builds.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(),
        [id.as_str()]
    );
    let batches: Vec<usize> = moto
        .requests()
        .iter()
        .filter(|r| r.operation == "BatchGetBuilds")
        .map(|r| r.json()["ids"].as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(batches, [100, 51]);
    assert!(aws.get_builds(&[]).await.expect("no ids").is_empty());
}

#[tokio::test]
async fn log_tail_is_the_last_lines_in_order() {
    let moto = Moto::start();
    let aws = moto.connect().await;
    assert!(aws
        .tail_log_events("/aws/codebuild/nope", "nope", 20)
        .await
        .expect("missing group")
        .is_empty());

    let group = format!("/aws/codebuild/{PROJECT}");
    let logs = aws_sdk_cloudwatchlogs::Client::new(&moto.sdk_config());
    logs.create_log_group()
        .log_group_name(&group)
        .send()
        .await
        .unwrap();
    assert!(aws
        .tail_log_events(&group, "nope", 20)
        .await
        .expect("missing stream")
        .is_empty());
    logs.create_log_stream()
        .log_group_name(&group)
        .log_stream_name("build-1")
        .send()
        .await
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let events = (0..5)
        .map(|i| {
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(now + i)
                .message(format!("line {i}\n"))
                .build()
                .unwrap()
        })
        .collect();
    logs.put_log_events()
        .log_group_name(&group)
        .log_stream_name("build-1")
        .set_log_events(Some(events))
        .send()
        .await
        .unwrap();

    assert_eq!(
        aws.tail_log_events(&group, "build-1", 3).await.unwrap(),
        ["line 2", "line 3", "line 4"]
    );
    assert_eq!(
        aws.tail_log_events(&group, "build-1", 50)
            .await
            .unwrap()
            .len(),
        5
    );
    assert!(aws
        .tail_log_events(&group, "build-1", 0)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn image_digest_appears_after_a_push() {
    let moto = Moto::start();
    let aws = moto.connect().await;
    let repo = "envctl-shop-web";
    assert_eq!(aws.image_digest(repo, "abc123").await.unwrap(), None);
    aws.create_repository(repo, &tags()).await.expect("repo");
    assert_eq!(aws.image_digest(repo, "abc123").await.unwrap(), None);

    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 7023,
            "digest": "sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7",
        },
        "layers": [{
            "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
            "size": 32654,
            "digest": "sha256:e692418e4cbaf90ca69d05a66403747baa33ee08806650b51fab815ad7fc331f",
        }],
    });
    let pushed = aws_sdk_ecr::Client::new(&moto.sdk_config())
        .put_image()
        .repository_name(repo)
        .image_manifest(manifest.to_string())
        .image_tag("abc123")
        .send()
        .await
        .expect("put image")
        .image
        .and_then(|i| i.image_id)
        .and_then(|id| id.image_digest)
        .expect("pushed digest");

    let digest = aws.image_digest(repo, "abc123").await.unwrap();
    assert_eq!(digest.as_deref(), Some(pushed.as_str()));
    assert!(pushed.starts_with("sha256:"), "{pushed}");
    assert_eq!(aws.image_digest(repo, "other").await.unwrap(), None);
}
