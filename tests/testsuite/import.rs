//! `envctl init --from-service`: a "prod" service made with the raw SDK in moto is imported, and
//! the imported config brings an env up that then plans to nothing.

use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, Compatibility, ContainerDefinition, HealthCheck,
    KeyValuePair, LaunchType, LogConfiguration, LogDriver, NetworkConfiguration, NetworkMode,
    PortMapping, Secret, TransportProtocol,
};

use crate::support::{App, Moto};

const SSM_ARN: &str = "arn:aws:ssm:us-east-1:123456789012:parameter/prod/api/DB_PASSWORD";

/// An app directory with nothing in it yet (no `envctl init`).
fn empty_app() -> App {
    App {
        moto: Moto::start(),
        dir: tempfile::tempdir().expect("temp dir"),
    }
}

/// Cluster `prod` with service `api`, as someone made them by hand.
async fn create_prod(app: &App) {
    let net = app.moto.default_network().await;
    let ecs = app.ecs();
    ecs.create_cluster()
        .cluster_name("prod")
        .send()
        .await
        .expect("create cluster");
    let td = ecs
        .register_task_definition()
        .family("prod-api")
        .network_mode(NetworkMode::Awsvpc)
        .requires_compatibilities(Compatibility::Fargate)
        .cpu("512")
        .memory("1024")
        .execution_role_arn("arn:aws:iam::123456789012:role/prod-execution")
        .container_definitions(
            ContainerDefinition::builder()
                .name("api")
                .image("public.ecr.aws/nginx/nginx:1.27-alpine")
                .essential(true)
                .port_mappings(
                    PortMapping::builder()
                        .container_port(8080)
                        .protocol(TransportProtocol::Tcp)
                        .build(),
                )
                .command("nginx")
                .command("-g")
                .command("daemon off;")
                .environment(
                    KeyValuePair::builder()
                        .name("LOG_FORMAT")
                        .value("json")
                        .build(),
                )
                .environment(
                    KeyValuePair::builder()
                        .name("FEATURE_FLAGS")
                        .value("a,b")
                        .build(),
                )
                .secrets(
                    Secret::builder()
                        .name("DB_PASSWORD")
                        .value_from(SSM_ARN)
                        .build()
                        .expect("secret"),
                )
                .health_check(
                    HealthCheck::builder()
                        .command("CMD-SHELL")
                        .command("wget -q -O- localhost:8080/ || exit 1")
                        .interval(15)
                        .timeout(5)
                        .retries(3)
                        .build()
                        .expect("health check"),
                )
                .log_configuration(
                    LogConfiguration::builder()
                        .log_driver(LogDriver::Awslogs)
                        .options("awslogs-group", "/ecs/prod-api")
                        .options("awslogs-region", "us-east-1")
                        .options("awslogs-stream-prefix", "api")
                        .build()
                        .expect("log configuration"),
                )
                .build(),
        )
        .send()
        .await
        .expect("register task definition");
    let td_arn = td
        .task_definition()
        .and_then(|t| t.task_definition_arn())
        .expect("task definition arn")
        .to_string();
    ecs.create_service()
        .cluster("prod")
        .service_name("api")
        .task_definition(&td_arn)
        .desired_count(2)
        .launch_type(LaunchType::Fargate)
        .network_configuration(
            NetworkConfiguration::builder()
                .awsvpc_configuration(
                    AwsVpcConfiguration::builder()
                        .subnets(&net.subnets[0])
                        .security_groups(&net.security_group)
                        .assign_public_ip(AssignPublicIp::Disabled)
                        .build()
                        .expect("awsvpc"),
                )
                .build(),
        )
        .send()
        .await
        .expect("create service");
}

#[tokio::test]
async fn imported_service_comes_up_and_plans_to_nothing() {
    let app = empty_app();
    create_prod(&app).await;

    let run = app.ok(&["init", "--from-service", "prod/api", "--app", "shop"]);
    let config = std::fs::read_to_string(app.path().join("envctl.toml")).expect("envctl.toml");
    let template =
        std::fs::read_to_string(app.path().join("templates/api.task-definition.json.j2"))
            .expect("service template");
    assert!(app.path().join("templates/service.json.j2").exists());
    assert!(config.contains("app = \"shop\""), "{config}");
    assert!(config.contains("[services.api]"), "{config}");
    assert!(!config.contains("[services.web]"), "{config}");
    for want in [
        "image = \"public.ecr.aws/nginx/nginx:1.27-alpine\"",
        "cpu = 512",
        "memory = 1024",
        "count = 2",
        "port = 8080",
        "command = [\"nginx\", \"-g\", \"daemon off;\"]",
        "{ name = \"LOG_FORMAT\", value = \"json\" }",
        &format!("{{ name = \"DB_PASSWORD\", valueFrom = \"{SSM_ARN}\" }}"),
    ] {
        assert!(config.contains(want), "missing {want:?} in:\n{config}");
    }
    assert!(template.contains("vars.health_check"), "{template}");
    assert!(!config.contains("/ecs/prod-api") && !template.contains("/ecs/prod-api"));
    // The report: on stderr, one line per setting.
    assert!(run.stdout.contains("wrote"), "{run}");
    for want in [
        "executionRoleArn: arn:aws:iam::123456789012:role/prod-execution",
        "logConfiguration: awslogs /ecs/prod-api",
        "networkConfiguration: subnets",
        "secrets: DB_PASSWORD",
    ] {
        assert!(run.stderr.contains(want), "missing {want:?}:\n{run}");
    }
    assert!(!run.stdout.contains("not carried over"), "{run}");

    app.ok(&["bootstrap"]);
    // moto leaves the second of two tasks PENDING with the rollout IN_PROGRESS, so waiting for
    // stability would time out; what is compared below is the definitions, not the tasks.
    app.ok(&["up", "feature-x", "--no-wait"]);
    let plan = app.run(&["plan", "feature-x", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "plan after up is not empty:\n{plan}");

    let svc = app.service("shop-feature-x-api").await;
    assert_eq!(svc.desired_count(), 2);
    let td = app
        .ecs()
        .describe_task_definition()
        .task_definition(svc.task_definition().expect("task definition"))
        .send()
        .await
        .expect("describe task definition");
    let c = &td.task_definition().expect("td").container_definitions()[0];
    assert!(c
        .secrets()
        .iter()
        .any(|s| s.name() == "DB_PASSWORD" && s.value_from() == SSM_ARN));
    assert!(c
        .environment()
        .iter()
        .any(|e| e.name() == Some("LOG_FORMAT") && e.value() == Some("json")));
    assert_eq!(
        c.log_configuration()
            .and_then(|l| l.options())
            .and_then(|o| o.get("awslogs-group"))
            .map(String::as_str),
        Some("/envctl/shop/feature-x")
    );
}

#[tokio::test]
async fn json_output_lists_files_and_the_report() {
    let app = empty_app();
    create_prod(&app).await;
    let run = app.ok(&["init", "--from-service", "prod/api", "--output", "json"]);
    let out = run.json();
    assert_eq!(out["app"], "prod", "app defaults to the cluster name");
    assert!(
        out["written"].as_array().is_some_and(|w| w.len() == 7),
        "{out}"
    );
    assert!(out["not_carried_over"]
        .as_array()
        .is_some_and(|r| r.iter().any(|l| l["item"] == "secrets: DB_PASSWORD")));
}

#[tokio::test]
async fn missing_service_or_cluster_fails_before_writing() {
    let app = empty_app();
    create_prod(&app).await;
    for (source, want) in [
        ("prod/nope", "aws ecs list-services --cluster prod"),
        ("nope/api", "aws ecs list-clusters"),
    ] {
        let run = app.run(&["init", "--from-service", source, "--app", "shop"]);
        assert_eq!(run.code, 4, "{run}");
        assert!(run.stderr.contains(want), "{run}");
        assert!(!app.path().join("envctl.toml").exists(), "{run}");
    }
}

#[tokio::test]
async fn malformed_source_fails_before_any_aws_call() {
    let app = empty_app();
    app.moto.clear_recording();
    let run = app.run(&["init", "--from-service", "prod", "--app", "shop"]);
    assert_eq!(run.code, 3, "{run}");
    assert!(run.stderr.contains("CLUSTER/SERVICE"), "{run}");
    assert!(app.moto.requests().is_empty());
    assert!(!app.path().join("envctl.toml").exists());
}

#[tokio::test]
async fn refuses_an_existing_config_without_force() {
    let app = empty_app();
    create_prod(&app).await;
    std::fs::write(app.path().join("envctl.toml"), "app = \"mine\"\n").expect("write");
    let run = app.run(&["init", "--from-service", "prod/api", "--app", "shop"]);
    assert_eq!(run.code, 3, "{run}");
    assert!(run.stderr.contains("--force"), "{run}");
    let kept = std::fs::read_to_string(app.path().join("envctl.toml")).expect("read");
    assert_eq!(kept, "app = \"mine\"\n");
    app.ok(&[
        "init",
        "--from-service",
        "prod/api",
        "--app",
        "shop",
        "--force",
    ]);
}
