//! The AWS service modules (ssm, ecr, logs, iam, ec2, sts) against a private moto server:
//! what each call does to a resource that exists, is missing, or is already gone.

use envctl::aws::ssm::ParameterValue;

use envctl::model::{SecretString, Tags};

use crate::support::Moto;

const ACCOUNT: &str = "123456789012";

/// A moto server that knows AWS-managed IAM policies (moto leaves them out unless asked, and
/// the execution role attaches one). moto_server inherits this process's environment.
fn start_moto() -> Moto {
    std::env::set_var("MOTO_IAM_LOAD_MANAGED_POLICIES", "true");
    Moto::start()
}

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn sts_reports_the_account() {
    let moto = start_moto();
    let aws = moto.connect().await;
    assert_eq!(aws.account_id().await.unwrap(), ACCOUNT);
}

#[tokio::test]
async fn ssm_lists_secure_strings_without_reading_them() {
    let moto = start_moto();
    let aws = moto.connect().await;
    let owned = tags(&[("envctl:app", "shop"), ("envctl:env", "feat")]);

    assert!(aws
        .list_parameters("/envctl/shop/feat", ACCOUNT)
        .await
        .unwrap()
        .is_empty());

    aws.put_parameter(
        "/envctl/shop/feat/LOG_LEVEL",
        &ParameterValue::Plain("debug".into()),
        &owned,
    )
    .await
    .unwrap();
    aws.put_parameter(
        "/envctl/shop/feat/db/PASSWORD",
        &ParameterValue::Secure(SecretString::new("hunter2".into())),
        &owned,
    )
    .await
    .unwrap();
    // A sibling env whose path shares a prefix must not show up.
    aws.put_parameter(
        "/envctl/shop/feat-x/LOG_LEVEL",
        &ParameterValue::Plain("info".into()),
        &owned,
    )
    .await
    .unwrap();

    moto.clear_recording();
    let params = aws
        .list_parameters("/envctl/shop/feat/", ACCOUNT)
        .await
        .unwrap();
    let names: Vec<_> = params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "/envctl/shop/feat/LOG_LEVEL",
            "/envctl/shop/feat/db/PASSWORD"
        ]
    );

    let plain = &params[0];
    assert!(!plain.secure);
    assert_eq!(plain.value.as_deref(), Some("debug"));
    assert_eq!(plain.version, 1);
    assert_eq!(
        plain.arn,
        "arn:aws:ssm:us-east-1:123456789012:parameter/envctl/shop/feat/LOG_LEVEL"
    );
    assert!(
        plain.tags.is_empty(),
        "list_parameters leaves tags to parameter_tags"
    );

    let secret = &params[1];
    assert!(secret.secure);
    assert_eq!(secret.value, None);
    assert_eq!(secret.version, 1);
    assert_eq!(
        secret.arn,
        "arn:aws:ssm:us-east-1:123456789012:parameter/envctl/shop/feat/db/PASSWORD"
    );

    // The secret's name never went into a call that returns values.
    for r in moto.requests() {
        assert!(
            r.operation == "DescribeParameters" || r.operation == "GetParameters",
            "unexpected call {}",
            r.operation
        );
        if r.operation == "GetParameters" {
            assert!(
                !r.body.contains("PASSWORD"),
                "asked for a SecureString: {}",
                r.body
            );
            assert_eq!(r.json()["WithDecryption"], serde_json::json!(false));
        }
    }

    let meta = aws
        .get_parameter_meta("/envctl/shop/feat/db/PASSWORD", ACCOUNT)
        .await
        .unwrap()
        .expect("secret exists");
    assert!(meta.secure);
    assert_eq!(meta.value, None);
    assert_eq!(meta.arn, secret.arn);
    let meta = aws
        .get_parameter_meta("/envctl/shop/feat/LOG_LEVEL", ACCOUNT)
        .await
        .unwrap()
        .expect("plain exists");
    assert_eq!(meta.value.as_deref(), Some("debug"));
    assert_eq!(
        aws.get_parameter_meta("/envctl/shop/feat/NOPE", ACCOUNT)
            .await
            .unwrap(),
        None
    );

    assert_eq!(
        aws.parameter_tags("/envctl/shop/feat/db/PASSWORD")
            .await
            .unwrap(),
        owned
    );
}

#[tokio::test]
async fn ssm_put_over_existing_keeps_tags_and_delete_is_idempotent() {
    let moto = start_moto();
    let aws = moto.connect().await;
    let owned = tags(&[("envctl:app", "shop"), ("envctl:env", "feat")]);
    let name = "/envctl/shop/feat/LOG_LEVEL";
    let secret = "/envctl/shop/feat/TOKEN";

    aws.put_parameter(name, &ParameterValue::Plain("debug".into()), &owned)
        .await
        .unwrap();
    aws.put_parameter(
        name,
        &ParameterValue::Plain("info".into()),
        &tags(&[("extra", "1")]),
    )
    .await
    .unwrap();
    let meta = aws
        .get_parameter_meta(name, ACCOUNT)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(meta.value.as_deref(), Some("info"));
    assert_eq!(meta.version, 2);
    // An overwrite keeps the tags the parameter was created with (owner, created-at).
    assert_eq!(aws.parameter_tags(name).await.unwrap(), owned);

    let s = |v: &str| ParameterValue::Secure(SecretString::new(v.into()));
    aws.put_parameter(secret, &s("one"), &owned).await.unwrap();
    aws.put_parameter(secret, &s("two"), &owned).await.unwrap();
    let meta = aws
        .get_parameter_meta(secret, ACCOUNT)
        .await
        .unwrap()
        .unwrap();
    assert!(meta.secure);
    assert_eq!(meta.version, 2);
    assert_eq!(aws.parameter_tags(secret).await.unwrap(), owned);

    // More than one DeleteParameters batch (10 names each).
    let mut names = vec![name.to_string(), secret.to_string()];
    for i in 0..11 {
        let n = format!("/envctl/shop/feat/N{i:02}");
        aws.put_parameter(&n, &ParameterValue::Plain(i.to_string()), &owned)
            .await
            .unwrap();
        names.push(n);
    }
    assert_eq!(
        aws.list_parameters("/envctl/shop/feat", ACCOUNT)
            .await
            .unwrap()
            .len(),
        13
    );
    moto.clear_recording();
    aws.delete_parameters(&names).await.unwrap();
    assert_eq!(
        moto.requests()
            .iter()
            .filter(|r| r.operation == "DeleteParameters")
            .count(),
        2
    );
    aws.delete_parameters(&names).await.unwrap();
    aws.delete_parameters(&[]).await.unwrap();
    assert!(aws
        .list_parameters("/envctl/shop/feat", ACCOUNT)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(aws.get_parameter_meta(name, ACCOUNT).await.unwrap(), None);
    assert!(aws.parameter_tags(name).await.is_err());
}

const MANIFEST_CONFIG: &str =
    "sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7";

fn manifest(layer_digest: &str) -> String {
    serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 7023,
            "digest": MANIFEST_CONFIG,
        },
        "layers": [{
            "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
            "size": 32654,
            "digest": layer_digest,
        }],
    })
    .to_string()
}

#[tokio::test]
async fn ecr_repository_lifecycle_images_and_deletion() {
    let moto = start_moto();
    let aws = moto.connect().await;
    let ecr = aws_sdk_ecr::Client::new(&moto.sdk_config());
    let owned = tags(&[("envctl:app", "shop"), ("envctl:env", "feat")]);
    let name = "shop/feat/web";

    assert_eq!(aws.describe_repository(name).await.unwrap(), None);
    assert!(aws.list_image_ids(name).await.unwrap().is_empty());
    assert_eq!(aws.delete_all_images(name).await.unwrap(), 0);

    aws.create_repository(name, &owned).await.unwrap();
    let again = aws.create_repository(name, &owned).await.unwrap_err();
    assert_eq!(
        again.code.as_deref(),
        Some("RepositoryAlreadyExistsException")
    );

    let repo = aws
        .describe_repository(name)
        .await
        .unwrap()
        .expect("created");
    assert_eq!(repo.name, name);
    assert_eq!(
        repo.arn,
        format!("arn:aws:ecr:us-east-1:{ACCOUNT}:repository/{name}")
    );
    assert!(repo.uri.ends_with(&format!("/{name}")), "{}", repo.uri);
    assert_eq!(repo.tags, owned);
    assert_eq!(repo.lifecycle_policy, None);
    assert_eq!(repo.image_count, 0);

    let policy = r#"{"rules":[{"rulePriority":1,"description":"keep 5","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":5},"action":{"type":"expire"}}]}"#;
    aws.put_lifecycle_policy(name, policy).await.unwrap();

    let layers = [
        "sha256:e692418e4cbaf90ca69d05a66403747baa33ee08806650b51fab815ad7fc331f",
        "sha256:1111111111111111111111111111111111111111111111111111111111111111",
    ];
    for (layer, tag) in [(layers[0], "v1"), (layers[0], "latest"), (layers[1], "v2")] {
        ecr.put_image()
            .repository_name(name)
            .image_manifest(manifest(layer))
            .image_tag(tag)
            .send()
            .await
            .unwrap();
    }
    let ids = aws.list_image_ids(name).await.unwrap();
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert!(ids
        .iter()
        .all(|(digest, tag)| digest.is_some() && tag.is_some()));

    let repo = aws.describe_repository(name).await.unwrap().unwrap();
    assert_eq!(repo.lifecycle_policy.as_deref(), Some(policy));
    // `up` does not count images (no ListImages); `down` does.
    assert_eq!(repo.image_count, 0);
    let repo = aws
        .describe_repository_with_images(name)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(repo.image_count, 3);

    // Two distinct images, one of them with two tags.
    assert_eq!(aws.delete_all_images(name).await.unwrap(), 2);
    assert!(aws.list_image_ids(name).await.unwrap().is_empty());
    assert_eq!(aws.delete_all_images(name).await.unwrap(), 0);

    // Force-deletes a repository that still holds images.
    ecr.put_image()
        .repository_name(name)
        .image_manifest(manifest(layers[1]))
        .image_tag("v3")
        .send()
        .await
        .unwrap();
    aws.delete_repository(name).await.unwrap();
    aws.delete_repository(name).await.unwrap();
    assert_eq!(aws.describe_repository(name).await.unwrap(), None);
}

#[tokio::test]
async fn log_group_create_retention_tags_and_delete() {
    let moto = start_moto();
    let aws = moto.connect().await;
    let owned = tags(&[("envctl:app", "shop"), ("envctl:env", "feat")]);
    let name = "/envctl/shop/feat";

    assert_eq!(aws.describe_log_group(name).await.unwrap(), None);
    // Same prefix, different group: not a match.
    aws.create_log_group("/envctl/shop/feat-x", &Tags::new())
        .await
        .unwrap();
    assert_eq!(aws.describe_log_group(name).await.unwrap(), None);

    aws.create_log_group(name, &owned).await.unwrap();
    let again = aws.create_log_group(name, &owned).await.unwrap_err();
    assert_eq!(
        again.code.as_deref(),
        Some("ResourceAlreadyExistsException")
    );

    let group = aws
        .describe_log_group(name)
        .await
        .unwrap()
        .expect("created");
    assert_eq!(group.name, name);
    assert_eq!(
        group.arn,
        format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{name}")
    );
    assert_eq!(group.retention_days, None);
    assert_eq!(group.tags, owned);

    aws.put_retention(name, 7).await.unwrap();
    assert_eq!(
        aws.describe_log_group(name)
            .await
            .unwrap()
            .unwrap()
            .retention_days,
        Some(7)
    );

    aws.delete_log_group(name).await.unwrap();
    aws.delete_log_group(name).await.unwrap();
    assert_eq!(aws.describe_log_group(name).await.unwrap(), None);
    assert!(aws.put_retention(name, 7).await.is_err());
}

#[tokio::test]
async fn ec2_default_network() {
    let moto = start_moto();
    let aws = moto.connect().await;

    let net = aws.default_network().await.unwrap();
    assert!(net.vpc_id.starts_with("vpc-"), "{net:?}");
    assert!(!net.subnets.is_empty());
    let mut sorted = net.subnets.clone();
    sorted.sort();
    assert_eq!(net.subnets, sorted);
    assert_eq!(net.security_groups.len(), 1);

    // What observe reads for configured subnets: the existing ones (an unknown id is absent),
    // and every VPC's `default` group, matched to the subnets' VPC.
    let ids = vec![
        net.subnets[0].clone(),
        "subnet-0123456789abcdef0".to_string(),
    ];
    let found = aws.subnets_by_id(&ids).await.unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].subnet_id, net.subnets[0]);
    assert_eq!(found[0].vpc_id, net.vpc_id);
    let defaults = aws.default_security_groups().await.unwrap();
    assert_eq!(
        envctl::aws::ec2::default_group_of(&defaults, &net.vpc_id),
        Some(net.security_groups[0].clone())
    );
    assert_eq!(
        envctl::aws::ec2::default_group_of(&defaults, "vpc-0123456789abcdef0"),
        None
    );
}
