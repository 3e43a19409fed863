//! End to end: the real envctl binary against a private moto server per test. Each test asserts
//! what envctl sent (moto's request recorder) and what exists afterwards (raw SDK calls), never
//! only what envctl says about itself.

use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, Compatibility, ContainerDefinition, LaunchType,
    NetworkConfiguration, NetworkMode, TaskDefinitionStatus,
};

use crate::support::{ops, App, Moto, Recorded, TD_TEMPLATE};

const CLUSTER: &str = "envctl-shop";
const ENV: &str = "feature-x";
const SERVICE: &str = "shop-feature-x-web";
const LOG_GROUP: &str = "/envctl/shop/feature-x";
const PARAM_PATH: &str = "/envctl/shop/env/feature-x/";
const REPO: &str = "envctl/shop/feature-x/web";
/// The SecureString value: must never come back out of envctl.
const SECRET: &str = "s3cret-Zq8vXw-never-print-me";

/// The only recorded write with this operation.
fn only<'a>(writes: &'a [Recorded], op: &str) -> &'a Recorded {
    let found: Vec<_> = writes.iter().filter(|w| w.operation == op).collect();
    assert_eq!(found.len(), 1, "expected one {op} in {:?}", ops(writes));
    found[0]
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// The default VPC's subnets (sorted) and its `default` security group, as the SDK sees them.
async fn default_network(moto: &Moto) -> (Vec<String>, String) {
    let n = moto.default_network().await;
    (n.subnets, n.security_group)
}

/// What exists of env `feature-x`, looked up without envctl.
#[derive(Debug, Default, PartialEq)]
struct Inventory {
    active_services: Vec<String>,
    active_task_definitions: Vec<String>,
    log_groups: Vec<String>,
    parameters: Vec<String>,
    repositories: Vec<String>,
    images: usize,
}

async fn inventory(moto: &Moto) -> Inventory {
    let cfg = moto.sdk_config();
    let ecs = aws_sdk_ecs::Client::new(&cfg);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&cfg);
    let ssm = aws_sdk_ssm::Client::new(&cfg);
    let ecr = aws_sdk_ecr::Client::new(&cfg);

    let listed = ecs
        .list_services()
        .cluster(CLUSTER)
        .send()
        .await
        .expect("list services");
    let mut names: Vec<String> = listed
        .service_arns()
        .iter()
        .filter_map(|a| a.rsplit('/').next())
        .map(str::to_string)
        .collect();
    if !names.iter().any(|n| n == SERVICE) {
        names.push(SERVICE.into());
    }
    let described = ecs
        .describe_services()
        .cluster(CLUSTER)
        .set_services(Some(names))
        .send()
        .await
        .expect("describe services");
    let active_services = described
        .services()
        .iter()
        .filter(|s| s.status() == Some("ACTIVE"))
        .filter_map(|s| s.service_name())
        .filter(|n| n.starts_with("shop-feature-x-"))
        .map(str::to_string)
        .collect();

    let tds = ecs
        .list_task_definitions()
        .family_prefix(SERVICE)
        .status(TaskDefinitionStatus::Active)
        .send()
        .await
        .expect("list task definitions");
    let active_task_definitions = tds.task_definition_arns().to_vec();

    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix(LOG_GROUP)
        .send()
        .await
        .expect("describe log groups");
    let log_groups = groups
        .log_groups()
        .iter()
        .filter_map(|g| g.log_group_name())
        .map(str::to_string)
        .collect();

    let params = ssm
        .get_parameters_by_path()
        .path(PARAM_PATH.trim_end_matches('/'))
        .recursive(true)
        .with_decryption(false)
        .send()
        .await
        .expect("get parameters by path");
    let parameters = sorted(
        params
            .parameters()
            .iter()
            .filter_map(|p| p.name())
            .map(str::to_string)
            .collect(),
    );

    let repos = ecr
        .describe_repositories()
        .send()
        .await
        .expect("describe repositories");
    let repositories: Vec<String> = repos
        .repositories()
        .iter()
        .filter_map(|r| r.repository_name())
        .filter(|n| n.starts_with("envctl/shop/feature-x/"))
        .map(str::to_string)
        .collect();
    let mut images = 0;
    for r in &repositories {
        images += ecr
            .list_images()
            .repository_name(r)
            .send()
            .await
            .expect("list images")
            .image_ids()
            .len();
    }
    Inventory {
        active_services,
        active_task_definitions,
        log_groups,
        parameters,
        repositories,
        images,
    }
}

/// A minimal docker v2 manifest, as `docker push` would send it.
fn manifest() -> String {
    serde_json::json!({
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
    })
    .to_string()
}

#[tokio::test]
async fn lifecycle_creates_converges_updates_minimally_and_tears_down_everything() {
    let app = App::bootstrapped();
    app.ok(&["params", "set", ENV, "DB_URL=postgres://db/shop"]);
    app.set_secret(ENV, "DB_PASSWORD", SECRET);

    // First up: creates everything.
    app.moto.clear_recording();
    let first = app.ok(&["up", ENV]);
    assert!(first.stdout.contains(SERVICE), "{first}");
    let writes = app.moto.writes();
    assert_eq!(
        sorted(ops(&writes).iter().map(|s| s.to_string()).collect()),
        [
            "CreateHttpNamespace",
            "CreateLogGroup",
            "CreateRepository",
            "CreateSchedule",
            "CreateSchedule",
            "CreateScheduleGroup",
            "CreateService",
            "PutLifecyclePolicy",
            "PutRetentionPolicy",
            "RegisterTaskDefinition",
        ],
        "first up wrote {:?}",
        ops(&writes)
    );
    // moto drops capacityProviderStrategy from its replies: check what envctl asked for.
    let create = only(&writes, "CreateService").json();
    assert_eq!(create["serviceName"], SERVICE);
    assert_eq!(create["cluster"], CLUSTER);
    assert_eq!(create["desiredCount"], 1);
    let strategy = create["capacityProviderStrategy"]
        .as_array()
        .expect("capacityProviderStrategy sent");
    assert_eq!(strategy.len(), 1, "{strategy:?}");
    assert_eq!(strategy[0]["capacityProvider"], "FARGATE_SPOT");
    assert_eq!(strategy[0]["weight"], 1);
    assert!(
        create.get("launchType").is_none(),
        "a capacity provider strategy excludes launchType: {create}"
    );
    let (subnets, sg) = default_network(&app.moto).await;
    let vpc = &create["networkConfiguration"]["awsvpcConfiguration"];
    let sent_subnets: Vec<String> = serde_json::from_value(vpc["subnets"].clone()).unwrap();
    assert!(!subnets.is_empty());
    assert_eq!(sorted(sent_subnets), subnets);
    assert_eq!(vpc["securityGroups"], serde_json::json!([sg]));
    assert_eq!(vpc["assignPublicIp"], "ENABLED");
    assert!(
        create["taskDefinition"]
            .as_str()
            .is_some_and(|t| t.ends_with("task-definition/shop-feature-x-web:1")),
        "{create}"
    );
    let tags = create["tags"].as_array().expect("tags sent");
    assert!(tags.contains(&serde_json::json!({"key": "envctl:managed-by", "value": "envctl"})));
    assert!(tags.contains(&serde_json::json!({"key": "envctl:env", "value": ENV})));

    // Second up on a converged env: not one write.
    app.moto.clear_recording();
    let second = app.ok(&["up", ENV, "--stats", "--output", "json"]);
    assert_eq!(ops(&app.moto.writes()), Vec::<&str>::new());
    assert_eq!(second.stats()["write_calls"], 0, "{second}");
    assert!(second.stats()["total_calls"].as_u64().unwrap() > 0);
    assert!(second.stderr.contains("No changes"), "{second}");
    assert_eq!(second.json()["plan"]["actions"], serde_json::json!([]));

    // One template field changes: a new revision and a service update, nothing else.
    app.edit(TD_TEMPLATE, "\"stopTimeout\": 120", "\"stopTimeout\": 90");
    app.moto.clear_recording();
    app.ok(&["up", ENV]);
    let writes = app.moto.writes();
    // The service's own settings did not change, so its spec-hash tag is not rewritten.
    assert_eq!(ops(&writes), ["RegisterTaskDefinition", "UpdateService"]);
    let register = writes[0].json();
    assert_eq!(register["family"], SERVICE);
    assert_eq!(register["containerDefinitions"][0]["stopTimeout"], 90);
    let update = writes[1].json();
    assert_eq!(update["service"], SERVICE);
    assert_eq!(update["cluster"], CLUSTER);
    assert!(
        update["taskDefinition"]
            .as_str()
            .is_some_and(|t| t.ends_with("task-definition/shop-feature-x-web:2")),
        "{update}"
    );
    let service = app.service(SERVICE).await;
    assert!(service
        .task_definition()
        .is_some_and(|t| t.ends_with("shop-feature-x-web:2")));

    // An image in the env's repository, so that down has one to delete.
    let ecr = aws_sdk_ecr::Client::new(&app.moto.sdk_config());
    let pushed = ecr
        .put_image()
        .repository_name(REPO)
        .image_manifest(manifest())
        .image_tag("v1")
        .send()
        .await
        .expect("put image");
    let digest = pushed
        .image()
        .and_then(|i| i.image_id())
        .and_then(|i| i.image_digest())
        .expect("digest")
        .to_string();

    let before = inventory(&app.moto).await;
    assert_eq!(
        before,
        Inventory {
            active_services: vec![SERVICE.into()],
            active_task_definitions: before.active_task_definitions.clone(),
            log_groups: vec![LOG_GROUP.into()],
            parameters: vec![
                format!("{PARAM_PATH}DB_PASSWORD"),
                format!("{PARAM_PATH}DB_URL")
            ],
            repositories: vec![REPO.into()],
            images: 1,
        }
    );
    assert_eq!(before.active_task_definitions.len(), 2, "{before:?}");

    app.moto.clear_recording();
    let down = app.ok(&["down", ENV, "--yes"]);
    assert!(down.stdout.contains("Deleted env `feature-x`"), "{down}");
    let writes = app.moto.writes();
    let batch = only(&writes, "BatchDeleteImage").json();
    assert_eq!(batch["repositoryName"], REPO);
    assert!(batch.to_string().contains(&digest), "{batch}");
    assert_eq!(only(&writes, "DeleteService").json()["service"], SERVICE);
    assert_eq!(
        only(&writes, "DeleteRepository").json()["repositoryName"],
        REPO
    );
    assert_eq!(
        only(&writes, "DeleteLogGroup").json()["logGroupName"],
        LOG_GROUP
    );
    assert_eq!(
        writes
            .iter()
            .filter(|w| w.operation == "DeregisterTaskDefinition")
            .count(),
        2
    );

    assert_eq!(inventory(&app.moto).await, Inventory::default());
    let gone = ecr
        .describe_images()
        .repository_name(REPO)
        .send()
        .await
        .expect_err("the repository and its images are gone");
    assert!(
        gone.as_service_error()
            .is_some_and(|e| e.is_repository_not_found_exception()),
        "{gone:?}"
    );

    // Down again: nothing left, nothing written, still success.
    app.moto.clear_recording();
    let again = app.ok(&["down", ENV, "--yes"]);
    assert!(again.stdout.contains("Nothing to delete"), "{again}");
    assert_eq!(ops(&app.moto.writes()), Vec::<&str>::new());
}

#[tokio::test]
async fn set_count_on_converged_env_only_updates_desired_count() {
    let app = App::bootstrapped();
    app.ok(&["up", ENV]);
    let before = app.service(SERVICE).await;
    let td = before
        .task_definition()
        .expect("task definition")
        .to_string();
    let hash_before = before
        .tags()
        .iter()
        .find(|t| t.key() == Some("envctl:spec-hash"))
        .and_then(|t| t.value())
        .expect("spec hash tag")
        .to_string();

    app.moto.clear_recording();
    app.ok(&["up", ENV, "--set", "services.web.count=3"]);
    let writes = app.moto.writes();
    // No new revision: the desired count lives on the service only. The tag write records the
    // new service spec hash; the start schedule now restores 3 tasks.
    assert_eq!(
        sorted(ops(&writes).iter().map(|s| s.to_string()).collect()),
        ["TagResource", "UpdateSchedule", "UpdateService"]
    );
    let schedule = only(&writes, "UpdateSchedule").json();
    let input: serde_json::Value =
        serde_json::from_str(schedule["Target"]["Input"].as_str().expect("input")).expect("json");
    assert_eq!(input["DesiredCount"], 3);
    let update = only(&writes, "UpdateService").json();
    assert_eq!(update["service"], SERVICE);
    assert_eq!(update["desiredCount"], 3);
    assert_eq!(update["taskDefinition"], td.as_str());
    let tag = only(&writes, "TagResource").json();
    assert_eq!(tag["resourceArn"], before.service_arn().unwrap());
    assert_eq!(tag["tags"][0]["key"], "envctl:spec-hash");
    assert_ne!(tag["tags"][0]["value"], hash_before.as_str());

    let after = app.service(SERVICE).await;
    assert_eq!(after.desired_count(), 3);
    assert_eq!(after.task_definition(), Some(td.as_str()));
    assert_eq!(inventory(&app.moto).await.active_task_definitions.len(), 1);

    // The override converged; without it the config's count (1) is a change again.
    app.moto.clear_recording();
    app.expect(
        &[
            "plan",
            ENV,
            "--set",
            "services.web.count=3",
            "--detailed-exitcode",
        ],
        0,
    );
    let back = app.expect(&["plan", ENV, "--detailed-exitcode"], 2);
    assert!(back.stdout.contains("desiredCount 3 → 1"), "{back}");
    assert_eq!(ops(&app.moto.writes()), Vec::<&str>::new());
}

#[tokio::test]
async fn secure_string_value_never_leaves_ssm() {
    let app = App::bootstrapped();
    app.ok(&["params", "set", ENV, "DB_URL=postgres://db/shop"]);
    // A trailing newline, as `echo` would add: it is not part of the secret.
    app.set_secret(ENV, "DB_PASSWORD", &format!("{SECRET}\n"));

    let mut runs = vec![
        app.ok(&["params", "ls", ENV]),
        app.ok(&["params", "ls", ENV, "--output", "json"]),
        app.ok(&["params", "get", ENV, "DB_PASSWORD"]),
        app.ok(&["params", "get", ENV, "DB_PASSWORD", "--output", "json"]),
        app.ok(&["plan", ENV]),
        app.ok(&["plan", ENV, "--output", "json"]),
        app.ok(&["render", ENV]),
        app.ok(&["up", ENV, "-v", "--stats"]),
    ];
    // Something changes so that plan shows a task definition diff with the secrets in it.
    app.edit(TD_TEMPLATE, "\"stopTimeout\": 120", "\"stopTimeout\": 60");
    runs.extend([
        app.ok(&["plan", ENV, "-v"]),
        app.ok(&["up", ENV, "--output", "json"]),
        app.ok(&["status", ENV]),
        app.ok(&["status", ENV, "--output", "json"]),
        app.ok(&["ls", "--output", "json"]),
    ]);
    for r in &runs {
        assert!(
            !r.stdout.contains(SECRET) && !r.stderr.contains(SECRET),
            "the secret leaked:\n{r}"
        );
    }
    // The secure parameter is shown as one, so the checks above did look at it.
    assert!(runs[0].stdout.contains("DB_PASSWORD"), "{}", runs[0]);
    assert!(
        runs[0].stdout.contains("(secret, not shown)"),
        "{}",
        runs[0]
    );
    assert!(runs[2].stderr.contains("SecureString"), "{}", runs[2]);

    // The task definition references the parameter; the value is nowhere in it.
    let ecs = app.ecs();
    let service = app.service(SERVICE).await;
    let td = ecs
        .describe_task_definition()
        .task_definition(service.task_definition().unwrap())
        .send()
        .await
        .expect("describe task definition");
    let container: &ContainerDefinition = &td.task_definition().unwrap().container_definitions()[0];
    let sts = aws_sdk_sts::Client::new(&app.moto.sdk_config());
    let account = sts
        .get_caller_identity()
        .send()
        .await
        .unwrap()
        .account()
        .unwrap()
        .to_string();
    let secrets: Vec<(&str, &str)> = container
        .secrets()
        .iter()
        .map(|s| (s.name(), s.value_from()))
        .collect();
    let arn = format!("arn:aws:ssm:us-east-1:{account}:parameter{PARAM_PATH}DB_PASSWORD");
    assert_eq!(secrets, [("DB_PASSWORD", arn.as_str())]);
    let environment: Vec<(Option<&str>, Option<&str>)> = container
        .environment()
        .iter()
        .map(|e| (e.name(), e.value()))
        .collect();
    assert_eq!(
        environment,
        [(Some("DB_URL"), Some("postgres://db/shop"))],
        "only the String parameter is plain environment"
    );

    // Of every request envctl made, only the PutParameter that stored it carried the value.
    let carrying: Vec<Recorded> = app
        .moto
        .requests()
        .into_iter()
        .filter(|r| r.body.contains(SECRET) || r.url.contains(SECRET))
        .collect();
    assert_eq!(ops(&carrying), ["PutParameter"], "{carrying:?}");
    let put = carrying[0].json();
    assert_eq!(put["Name"], format!("{PARAM_PATH}DB_PASSWORD"));
    assert_eq!(put["Type"], "SecureString");

    // And it did reach SSM, without the newline.
    let ssm = aws_sdk_ssm::Client::new(&app.moto.sdk_config());
    let stored = ssm
        .get_parameter()
        .name(format!("{PARAM_PATH}DB_PASSWORD"))
        .with_decryption(true)
        .send()
        .await
        .expect("get parameter");
    assert_eq!(stored.parameter().and_then(|p| p.value()), Some(SECRET));
}

#[tokio::test]
async fn foreign_service_with_the_env_name_is_never_touched() {
    let app = App::bootstrapped();
    app.ok(&["params", "set", ENV, "DB_URL=x"]);

    // Someone else's service under exactly the name envctl would use, and an untagged revision
    // in the family envctl would use.
    let ecs = app.ecs();
    let (subnets, sg) = default_network(&app.moto).await;
    let td = ecs
        .register_task_definition()
        .family(SERVICE)
        .network_mode(NetworkMode::Awsvpc)
        .requires_compatibilities(Compatibility::Fargate)
        .cpu("256")
        .memory("512")
        .container_definitions(
            ContainerDefinition::builder()
                .name("web")
                .image("public.ecr.aws/nginx/nginx:1.27-alpine")
                .essential(true)
                .build(),
        )
        .send()
        .await
        .expect("register foreign task definition");
    let td_arn = td
        .task_definition()
        .and_then(|t| t.task_definition_arn())
        .unwrap()
        .to_string();
    ecs.create_service()
        .cluster(CLUSTER)
        .service_name(SERVICE)
        .task_definition(&td_arn)
        .desired_count(1)
        .launch_type(LaunchType::Fargate)
        .network_configuration(
            NetworkConfiguration::builder()
                .awsvpc_configuration(
                    AwsVpcConfiguration::builder()
                        .subnets(&subnets[0])
                        .security_groups(&sg)
                        .assign_public_ip(AssignPublicIp::Disabled)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .expect("create foreign service");
    let foreign = app.service(SERVICE).await;
    assert!(foreign.tags().is_empty());

    app.moto.clear_recording();
    let up = app.expect(&["up", ENV], 4);
    assert!(up.stderr.contains(SERVICE), "{up}");
    assert!(up.stderr.contains("not managed by envctl"), "{up}");
    // Refused before applying anything at all, so certainly nothing on that service.
    assert_eq!(ops(&app.moto.writes()), Vec::<&str>::new());
    // plan shows the conflict and fails the same way, since `up` would refuse.
    let plan = app.expect(&["plan", ENV, "--detailed-exitcode"], 4);
    assert!(plan.stdout.contains("conflict"), "{plan}");
    assert!(plan.stderr.contains("not managed by envctl"), "{plan}");
    assert_eq!(ops(&app.moto.writes()), Vec::<&str>::new());

    app.moto.clear_recording();
    let down = app.ok(&["down", ENV, "--yes"]);
    assert!(down.stderr.contains("left alone"), "{down}");
    assert!(down.stderr.contains(SERVICE), "{down}");
    assert!(down.stderr.contains("not managed by envctl"), "{down}");
    // Only the env's own parameter goes.
    let writes = app.moto.writes();
    assert_eq!(ops(&writes), ["DeleteParameters"]);
    assert_eq!(
        writes[0].json()["Names"],
        serde_json::json!([format!("{PARAM_PATH}DB_URL")])
    );

    let after = app.service(SERVICE).await;
    assert_eq!(after.service_arn(), foreign.service_arn());
    assert_eq!(after.task_definition(), Some(td_arn.as_str()));
    assert_eq!(after.desired_count(), foreign.desired_count());
    assert_eq!(after.deployments().len(), foreign.deployments().len());
    assert!(after.tags().is_empty(), "{:?}", after.tags());
    let td_after = ecs
        .describe_task_definition()
        .task_definition(&td_arn)
        .send()
        .await
        .expect("describe foreign task definition");
    assert_eq!(
        td_after.task_definition().and_then(|t| t.status()),
        Some(&TaskDefinitionStatus::Active)
    );
}

#[tokio::test]
async fn up_before_bootstrap_fails_with_a_hint_and_writes_nothing() {
    let app = App::init();
    let r = app.expect(&["up", ENV], 4);
    assert!(r.stderr.contains("envctl bootstrap"), "{r}");
    assert_eq!(ops(&app.moto.writes()), Vec::<&str>::new());
    let clusters = app
        .ecs()
        .list_clusters()
        .send()
        .await
        .expect("list clusters");
    assert!(clusters.cluster_arns().is_empty(), "{clusters:?}");
}

#[tokio::test]
async fn bootstrap_twice_writes_nothing_the_second_time() {
    let app = App::init();
    let first = app.ok(&["bootstrap"]);
    // Cluster, execution role, scheduler role and task role (ECS Exec).
    assert_eq!(first.stdout.matches("created").count(), 4, "{first}");
    let writes = app.moto.writes();
    assert!(
        ops(&writes).contains(&"CreateCluster"),
        "{:?}",
        ops(&writes)
    );
    assert!(ops(&writes).contains(&"CreateRole"), "{:?}", ops(&writes));

    app.moto.clear_recording();
    let second = app.ok(&["bootstrap", "--stats", "--output", "json"]);
    assert_eq!(ops(&app.moto.writes()), Vec::<&str>::new());
    assert_eq!(second.stats()["write_calls"], 0, "{second}");
    let report = second.json();
    assert_eq!(report["cluster"], CLUSTER);
    assert_eq!(report["cluster_created"], false);
    assert_eq!(report["execution_role_created"], false);
    assert_eq!(report["task_role_created"], false);
}

#[tokio::test]
async fn ls_lists_envs_with_their_branch_names() {
    let app = App::bootstrapped();
    let branch = "feature/ABC-123_Login";
    let slug = envctl::naming::slug(branch).unwrap().to_string();
    assert_ne!(slug, branch);
    app.ok(&["up", ENV]);
    app.ok(&["up", branch]);

    let text = app.ok(&["ls"]);
    let row = |env: &str| {
        text.stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(env))
            .unwrap_or_else(|| panic!("no row for {env}:\n{text}"))
            .split_whitespace()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(row(ENV)[1], ENV);
    assert_eq!(row(&slug)[1], branch);
    assert_eq!(row(&slug)[2], "tester");

    let json = app.ok(&["ls", "--output", "json"]).json();
    let mut envs: Vec<(String, String, u64, i64)> = json
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(|e| {
            (
                e["env"].as_str().unwrap().to_string(),
                e["branch"].as_str().unwrap().to_string(),
                e["services"].as_u64().unwrap(),
                e["desired"].as_i64().unwrap(),
            )
        })
        .collect();
    envs.sort();
    let mut want = vec![
        (ENV.to_string(), ENV.to_string(), 1, 1),
        (slug.clone(), branch.to_string(), 1, 1),
    ];
    want.sort();
    assert_eq!(envs, want);
    for e in json.as_array().unwrap() {
        for key in ["created_at", "expires_at", "next_stop", "next_start"] {
            let t = e[key].as_str().unwrap_or_else(|| panic!("{key}: {e}"));
            assert!(
                t.parse::<jiff::Timestamp>().is_ok(),
                "{key} not RFC 3339: {t}"
            );
        }
    }
}

#[tokio::test]
async fn status_shows_service_counts_and_task_definition_revision() {
    let app = App::bootstrapped();
    app.ok(&["up", ENV]);
    app.edit(TD_TEMPLATE, "\"stopTimeout\": 120", "\"stopTimeout\": 30");
    app.ok(&["up", ENV, "--set", "services.web.count=2"]);

    let text = app.ok(&["status", ENV]);
    // The env's header comes first: which env, whose, until when, where.
    let first: Vec<&str> = text.stdout.lines().take(5).collect();
    assert!(
        first[0].starts_with(&format!("env:     {ENV} (app shop")),
        "{text}"
    );
    assert_eq!(first[1], format!("branch:  {ENV}"), "{text}");
    assert_eq!(first[2], "owner:   tester", "{text}");
    assert!(first[3].starts_with("expires: "), "{text}");
    assert_eq!(first[4], "url:     -", "{text}");
    let header: Vec<&str> = text
        .stdout
        .lines()
        .find(|l| l.starts_with("SERVICE"))
        .unwrap_or_else(|| panic!("no table header:\n{text}"))
        .split_whitespace()
        .collect();
    assert_eq!(
        &header[..4],
        ["SERVICE", "DESIRED", "RUNNING", "PENDING"],
        "{text}"
    );
    let row: Vec<&str> = text
        .stdout
        .lines()
        .find(|l| l.starts_with(SERVICE))
        .unwrap_or_else(|| panic!("no service row:\n{text}"))
        .split_whitespace()
        .collect();
    assert_eq!(
        &row[..5],
        [SERVICE, "2", "2", "0", "shop-feature-x-web:2"],
        "{text}"
    );

    let json = app.ok(&["status", ENV, "--output", "json"]).json();
    let services = json["services"].as_array().expect("services");
    assert_eq!(services.len(), 1, "{json}");
    assert_eq!(services[0]["name"], SERVICE);
    assert_eq!(services[0]["desired"], 2);
    assert_eq!(services[0]["running"], 2);
    assert_eq!(services[0]["task_definition"], "shop-feature-x-web:2");
    assert_eq!(services[0]["stability"]["state"], "stable");
    assert_eq!(json["branch"], ENV, "{json}");
    assert_eq!(json["owner"], "tester", "{json}");
    // Issue 14: every time in JSON is RFC 3339 (schedules' next firing was `2026-12-02 20:00 UTC`).
    let schedules = json["schedules"].as_array().expect("schedules");
    assert!(!schedules.is_empty(), "{json}");
    for t in schedules
        .iter()
        .map(|s| &s["next"])
        .chain([&json["expires_at"]])
    {
        let t = t.as_str().unwrap_or_else(|| panic!("not a string: {t}"));
        assert!(t.parse::<jiff::Timestamp>().is_ok(), "not RFC 3339: {t}");
    }
}

/// Issue 11: `status` of an env that does not exist exited 0 with a line on stdout, where
/// `stop` of the same env exits 4.
#[tokio::test]
async fn status_of_a_missing_env_exits_4_like_stop() {
    let app = App::bootstrapped();
    app.ok(&["up", ENV]);
    for args in [
        &["status", "other"][..],
        &["status", "other", "--output", "json"][..],
    ] {
        let r = app.expect(args, 4);
        assert_eq!(r.stdout, "", "no data for a missing env: {r}");
        assert!(
            r.stderr.contains("error: env `other` does not exist"),
            "{r}"
        );
        assert!(
            r.stderr.contains(
                "hint: `envctl ls` lists the envs that exist; `envctl up other` creates this one"
            ),
            "{r}"
        );
    }
    app.expect(&["stop", "other"], 4);
    app.ok(&["status", ENV]);
}

#[tokio::test]
async fn down_without_yes_and_no_terminal_exits_6_and_deletes_nothing() {
    let app = App::bootstrapped();
    app.ok(&["params", "set", ENV, "DB_URL=x"]);
    app.ok(&["up", ENV]);
    let before = inventory(&app.moto).await;
    assert_eq!(before.active_services, [SERVICE]);

    app.moto.clear_recording();
    // Piped input is not a terminal: even a "y" on stdin is no confirmation.
    let r = app.run_with(&["down", ENV], Some("y\n"));
    assert_eq!(r.code, 6, "{r}");
    assert!(r.stderr.contains("--yes"), "{r}");
    assert_eq!(ops(&app.moto.writes()), Vec::<&str>::new());
    assert_eq!(inventory(&app.moto).await, before);
}

#[tokio::test]
async fn up_no_wait_creates_the_service_without_waiting() {
    let app = App::bootstrapped();
    let r = app.ok(&["up", ENV, "--no-wait"]);
    assert!(!r.stderr.contains("Waiting"), "{r}");
    assert!(r.stdout.contains(SERVICE), "{r}");
    let service = app.service(SERVICE).await;
    assert_eq!(service.desired_count(), 1);
}

#[tokio::test]
async fn plan_detailed_exitcode_is_2_with_changes_and_0_when_converged() {
    let app = App::bootstrapped();
    app.moto.clear_recording();
    let changes = app.expect(&["plan", ENV, "--detailed-exitcode"], 2);
    assert!(
        changes
            .stdout
            .contains(&format!("create service {SERVICE}")),
        "{changes}"
    );
    // Without the flag, changes are still success.
    app.expect(&["plan", ENV], 0);
    assert_eq!(ops(&app.moto.writes()), Vec::<&str>::new());

    app.ok(&["up", ENV]);
    let converged = app.expect(&["plan", ENV, "--detailed-exitcode"], 0);
    assert!(converged.stdout.contains("No changes"), "{converged}");

    app.edit(TD_TEMPLATE, "\"stopTimeout\": 120", "\"stopTimeout\": 90");
    let diff = app.expect(&["plan", ENV, "--detailed-exitcode"], 2);
    assert!(
        diff.stdout.contains("-      \"stopTimeout\": 120"),
        "{diff}"
    );
    assert!(diff.stdout.contains("+      \"stopTimeout\": 90"), "{diff}");
}
