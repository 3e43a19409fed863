//! The janitor's IAM policy is exactly what `gc --yes` and `down` call: the policy `janitor
//! install` puts on the build role (rendered from `src/janitor/policy.rs`) is compared, both
//! ways, with the IAM actions of every request moto recorded while `gc` and `down` removed envs
//! that have every kind of resource (services, String and SecureString parameters, images,
//! schedules, preview URLs, Service Connect namespaces, a before_destroy hook, a database).
//! moto enforces no IAM, so this is what stands between a policy gap and an AccessDenied in the
//! janitor's first real run.

use std::collections::BTreeSet;

use crate::support::App;

/// `[preview]` with `web` public, and a teardown hook. moto's RunTask needs a container-level
/// `memory` (real ECS does not on Fargate), hence the template edit.
fn app_with_everything() -> App {
    let app = App::init();
    let path = app.path().join("envctl.toml");
    let text = std::fs::read_to_string(&path).expect("envctl.toml");
    let text = text.replacen("\n[services.web]\n", "\n[services.web]\npublic = true\n", 1);
    let extra = "\n[preview]\nenabled = true\ndomain = \"preview.example.test\"\n\
                 \n[[hooks.before_destroy]]\nservice = \"web\"\ncommand = [\"bin/export\"]\n\
                 \n[database]\nengine = \"postgres\"\n\
                 admin_url_param = \"/envctl/shop/shared/DB_ADMIN_URL\"\n";
    std::fs::write(&path, format!("{text}{extra}")).expect("write envctl.toml");
    app.edit(
        "templates/task-definition.json.j2",
        "\"essential\": true,",
        "\"essential\": true,\n      \"memory\": {{ memory }},",
    );
    app.ok(&["bootstrap"]);
    let r = app.run_with(
        &["params", "set", "--shared", "DB_ADMIN_URL", "--secure"],
        Some("postgres://admin:pw@db.internal:5432/postgres"),
    );
    assert_eq!(r.code, 0, "{r}");
    app
}

/// Every `Allow`ed action of the role's inline policy, and those of the statements that serve
/// the CodeBuild build itself (its own logs), which envctl never calls.
async fn policy_actions(app: &App) -> (BTreeSet<String>, BTreeSet<String>) {
    let doc = app
        .iam()
        .get_role_policy()
        .role_name("envctl-shop-janitor")
        .policy_name("envctl-janitor")
        .send()
        .await
        .expect("the build role's inline policy")
        .policy_document()
        .to_string();
    // IAM returns the document URL-encoded.
    let decoded: String = {
        let bytes = doc.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' && i + 2 < bytes.len() {
                if let Ok(b) = u8::from_str_radix(&doc[i + 1..i + 3], 16) {
                    out.push(b);
                    i += 3;
                    continue;
                }
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8(out).expect("utf-8 policy")
    };
    let policy: serde_json::Value = serde_json::from_str(&decoded).expect("policy JSON");
    let (mut envctl, mut build) = (BTreeSet::new(), BTreeSet::new());
    for st in policy["Statement"].as_array().expect("statements") {
        let own = envctl::janitor::policy::BUILD_OWN_SIDS
            .contains(&st["Sid"].as_str().unwrap_or_default());
        let actions: Vec<String> = match &st["Action"] {
            serde_json::Value::Array(a) => a
                .iter()
                .map(|x| x.as_str().unwrap_or_default().to_string())
                .collect(),
            other => vec![other.as_str().unwrap_or_default().to_string()],
        };
        if own { &mut build } else { &mut envctl }.extend(actions);
    }
    (envctl, build)
}

#[tokio::test]
async fn janitor_policy_matches_what_gc_and_down_call() {
    let app = app_with_everything();
    for env in ["feature-a", "feature-b"] {
        app.ok(&["params", "set", env, "API_URL=https://api.example.test"]);
        app.set_secret(env, "DB_PASSWORD", "s3cret");
        app.ok(&["up", env]);
    }
    // An image in each env's repository: teardown deletes images itself (ECR lifecycle rules
    // act within a day), which needs ecr:BatchDeleteImage.
    let ecr = aws_sdk_ecr::Client::new(&app.moto.sdk_config());
    for env in ["feature-a", "feature-b"] {
        ecr.put_image()
            .repository_name(format!("envctl/shop/{env}/web"))
            .image_tag("git-abc")
            .image_manifest(r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1,"digest":"sha256:aa"},"layers":[]}"#)
            .send()
            .await
            .expect("put an image");
    }
    app.ok(&[
        "janitor",
        "install",
        "--set",
        "janitor.source=https://github.com/acme/shop.git",
    ]);
    let (granted, build_own) = policy_actions(&app).await;

    // What the janitor's run does (gc of an env whose branch is gone), and what `down` does.
    let live = app.path().join("live-branches.txt");
    std::fs::write(&live, "main\n").expect("live branches");
    app.moto.clear_recording();
    let gc = app.ok(&[
        "gc",
        "--yes",
        "--live-branches",
        live.to_str().expect("utf-8"),
    ]);
    assert!(gc.stdout.contains("feature-a"), "{gc}");
    assert!(
        app.ok(&["ls", "--output", "json"]).stdout.contains("[]"),
        "gc deleted both"
    );
    let called_by_gc: BTreeSet<String> = app
        .moto
        .requests()
        .iter()
        .filter(|r| !r.url.contains("/moto-api/"))
        .map(|r| r.iam_action())
        .collect();
    // `down` on its own (an env made again), for anything gc does differently, on a cluster
    // bootstrapped before envctl recorded the preview listener on it: then the ALB is looked up
    // by name (DescribeLoadBalancers), which the janitor must still be allowed.
    let cluster = app
        .ecs()
        .describe_clusters()
        .clusters("envctl-shop")
        .send()
        .await
        .expect("cluster");
    let cluster_arn = cluster.clusters()[0]
        .cluster_arn()
        .expect("arn")
        .to_string();
    app.ecs()
        .untag_resource()
        .resource_arn(cluster_arn)
        .tag_keys("envctl:preview-listener")
        .send()
        .await
        .expect("untag the cluster");
    app.ok(&["up", "feature-c"]);
    app.moto.clear_recording();
    app.ok(&["down", "feature-c", "--yes"]);
    let called: BTreeSet<String> = app
        .moto
        .requests()
        .iter()
        .filter(|r| !r.url.contains("/moto-api/"))
        .map(|r| r.iam_action())
        .chain(called_by_gc)
        .collect();

    let missing: Vec<&String> = called.difference(&granted).collect();
    assert!(
        missing.is_empty(),
        "gc/down call actions the janitor may not: {missing:?}"
    );
    // Two grants no request here can show: iam:PassRole is checked by ECS when RunTask names
    // the task's roles (it is no request of its own), and ecs:StopTask is only sent when a hook
    // times out or is interrupted (unit-tested in src/ops/task.rs with a fake).
    let unused: Vec<&String> = granted
        .difference(&called)
        .filter(|a| !["iam:PassRole", "ecs:StopTask"].contains(&a.as_str()))
        .collect();
    assert!(
        unused.is_empty(),
        "the janitor is granted actions gc/down never call: {unused:?}"
    );
    assert!(granted.contains("iam:PassRole"));
    assert!(
        called.contains("elasticloadbalancing:DeleteRule"),
        "{called:?}"
    );
    assert!(called.contains("ecs:RunTask"), "{called:?}");
    assert!(called.contains("ecr:BatchDeleteImage"), "{called:?}");
    assert!(
        called.contains("servicediscovery:DeleteNamespace"),
        "{called:?}"
    );
    assert!(
        called.contains("ec2:DescribeSubnets"),
        "the drop task's network: {called:?}"
    );
    assert_eq!(
        build_own,
        BTreeSet::from([
            "logs:CreateLogGroup".to_string(),
            "logs:CreateLogStream".to_string(),
            "logs:PutLogEvents".to_string(),
        ])
    );
}
