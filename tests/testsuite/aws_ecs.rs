//! `aws::ecs` against a private moto server: what envctl sends, and what it reads back into the model.

use std::collections::BTreeMap;

use envctl::model::{
    AwsVpcConfiguration, CapacityProviderStrategyItem, ContainerDefinition, ContainerDependency,
    DeploymentCircuitBreaker, DeploymentConfiguration, HealthCheck, KeyValue, LogConfiguration,
    NetworkConfiguration, PortMapping, RuntimePlatform, SecretRef, ServiceDefinition, Tags,
    TaskDefinition,
};

use crate::support::Moto;

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn env_tags() -> Tags {
    tags(&[
        ("envctl:managed-by", "envctl"),
        ("envctl:app", "shop"),
        ("envctl:env", "feat-x"),
    ])
}

/// A task definition as a template for a small web app would render it: every field the model has.
fn web_task_definition(family: &str, image_tag: &str) -> TaskDefinition {
    TaskDefinition {
        family: family.into(),
        cpu: Some("256".into()),
        memory: Some("512".into()),
        network_mode: Some("awsvpc".into()),
        requires_compatibilities: vec!["FARGATE".into()],
        execution_role_arn: Some("arn:aws:iam::123456789012:role/shop-execution".into()),
        task_role_arn: Some("arn:aws:iam::123456789012:role/shop-task".into()),
        runtime_platform: Some(RuntimePlatform {
            cpu_architecture: Some("ARM64".into()),
            operating_system_family: Some("LINUX".into()),
        }),
        container_definitions: vec![
            ContainerDefinition {
                name: "web".into(),
                image: format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/shop-web:{image_tag}"),
                essential: Some(true),
                cpu: Some(192),
                memory: Some(448),
                memory_reservation: Some(256),
                port_mappings: vec![PortMapping {
                    container_port: 8080,
                    host_port: Some(8080),
                    protocol: Some("tcp".into()),
                    name: Some("http".into()),
                    app_protocol: Some("http".into()),
                }],
                environment: vec![
                    KeyValue {
                        name: "PORT".into(),
                        value: "8080".into(),
                    },
                    KeyValue {
                        name: "RUST_LOG".into(),
                        value: "info".into(),
                    },
                ],
                secrets: vec![SecretRef {
                    name: "DATABASE_URL".into(),
                    value_from: "arn:aws:ssm:us-east-1:123456789012:parameter/envctl/shop/feat-x/DATABASE_URL".into(),
                }],
                log_configuration: Some(LogConfiguration {
                    log_driver: "awslogs".into(),
                    options: BTreeMap::from([
                        ("awslogs-group".to_string(), "/envctl/shop/feat-x".to_string()),
                        ("awslogs-region".to_string(), "us-east-1".to_string()),
                        ("awslogs-stream-prefix".to_string(), "web".to_string()),
                    ]),
                }),
                command: vec!["serve".into(), "--port".into(), "8080".into()],
                entry_point: vec!["/app/bin/shop".into()],
                working_directory: Some("/app".into()),
                health_check: Some(HealthCheck {
                    command: vec!["CMD-SHELL".into(), "curl -f http://localhost:8080/health || exit 1".into()],
                    interval: Some(15),
                    timeout: Some(5),
                    retries: Some(3),
                    start_period: Some(30),
                }),
                stop_timeout: Some(110),
                user: Some("1000:1000".into()),
                readonly_root_filesystem: Some(true),
                depends_on: vec![ContainerDependency {
                    container_name: "migrate".into(),
                    condition: "SUCCESS".into(),
                }],
                docker_labels: [("envctl.params-version".to_string(), "abc123".to_string())].into(),
            },
            ContainerDefinition {
                name: "migrate".into(),
                image: format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/shop-web:{image_tag}"),
                essential: Some(false),
                memory: Some(64),
                command: vec!["migrate".into()],
                ..Default::default()
            },
        ],
    }
}

/// moto validates awsvpc subnets and security groups against its EC2: use the default VPC's.
async fn default_network(moto: &Moto) -> AwsVpcConfiguration {
    let n = moto.default_network().await;
    AwsVpcConfiguration {
        subnets: n.subnets[..2].to_vec(),
        security_groups: vec![n.security_group],
        assign_public_ip: Some("ENABLED".into()),
    }
}

fn spot_service(desired_count: i32, network: AwsVpcConfiguration) -> ServiceDefinition {
    ServiceDefinition {
        desired_count,
        capacity_provider_strategy: vec![CapacityProviderStrategyItem {
            capacity_provider: "FARGATE_SPOT".into(),
            weight: 1,
            base: 0,
        }],
        launch_type: None,
        platform_version: Some("LATEST".into()),
        network_configuration: Some(NetworkConfiguration {
            awsvpc_configuration: network,
        }),
        deployment_configuration: Some(DeploymentConfiguration {
            minimum_healthy_percent: Some(0),
            maximum_percent: Some(200),
            deployment_circuit_breaker: Some(DeploymentCircuitBreaker {
                enable: true,
                rollback: true,
            }),
        }),
        enable_execute_command: Some(true),
        enable_ecs_managed_tags: Some(true),
        propagate_tags: Some("SERVICE".into()),
        health_check_grace_period_seconds: Some(60),
        load_balancers: vec![],
        service_connect_configuration: None,
    }
}

fn last_write(moto: &Moto, operation: &str) -> serde_json::Value {
    moto.writes()
        .into_iter()
        .rev()
        .find(|r| r.operation == operation)
        .unwrap_or_else(|| panic!("no {operation} was sent"))
        .json()
}

#[tokio::test]
async fn cluster_is_created_for_fargate_spot_and_described_with_tags() {
    let moto = Moto::start();
    let aws = moto.connect().await;
    assert_eq!(aws.describe_cluster("shop").await.unwrap(), None);

    let app_tags = tags(&[("envctl:managed-by", "envctl"), ("envctl:app", "shop")]);
    let created = aws.create_cluster("shop", &app_tags).await.unwrap();
    assert_eq!(created.name, "shop");

    let sent = last_write(&moto, "CreateCluster");
    assert_eq!(
        sent["capacityProviders"],
        serde_json::json!(["FARGATE", "FARGATE_SPOT"])
    );
    assert_eq!(
        sent["defaultCapacityProviderStrategy"],
        serde_json::json!([{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}])
    );

    let described = aws
        .describe_cluster("shop")
        .await
        .unwrap()
        .expect("cluster exists");
    assert_eq!(described.name, "shop");
    assert_eq!(described.status, "ACTIVE");
    assert!(
        described.arn.ends_with(":cluster/shop"),
        "{}",
        described.arn
    );
    assert_eq!(
        described.capacity_providers,
        vec!["FARGATE", "FARGATE_SPOT"]
    );
    assert_eq!(described.tags, app_tags);
}

#[tokio::test]
async fn task_definition_round_trips_field_for_field() {
    let moto = Moto::start();
    let aws = moto.connect().await;
    let def = web_task_definition("shop-feat-x-web", "abc123");

    let arn = aws
        .register_task_definition(&def, &env_tags())
        .await
        .unwrap();
    assert!(arn.ends_with(":task-definition/shop-feat-x-web:1"), "{arn}");

    let state = aws
        .describe_task_definition(&arn)
        .await
        .unwrap()
        .expect("registered");
    assert_eq!(state.arn, arn);
    assert_eq!(state.family, "shop-feat-x-web");
    assert_eq!(state.revision, 1);
    assert_eq!(state.status, "ACTIVE");
    assert_eq!(state.tags, env_tags());
    assert_eq!(state.definition, Some(def.clone()));

    // A bare family names its latest revision.
    let by_family = aws
        .describe_task_definition("shop-feat-x-web")
        .await
        .unwrap()
        .expect("by family");
    assert_eq!(by_family.arn, arn);
}

#[tokio::test]
async fn unknown_task_definitions_are_none_and_deregistering_twice_is_fine() {
    let moto = Moto::start();
    let aws = moto.connect().await;
    assert_eq!(aws.describe_task_definition("nope").await.unwrap(), None);
    assert_eq!(aws.describe_task_definition("nope:3").await.unwrap(), None);

    let web = aws
        .register_task_definition(&web_task_definition("shop-feat-x-web", "v1"), &env_tags())
        .await
        .unwrap();
    let web2 = aws
        .register_task_definition(&web_task_definition("shop-feat-x-web", "v2"), &env_tags())
        .await
        .unwrap();
    let worker = aws
        .register_task_definition(
            &web_task_definition("shop-feat-x-web-worker", "v1"),
            &env_tags(),
        )
        .await
        .unwrap();

    let mut arns = aws
        .list_task_definition_arns("shop-feat-x-web")
        .await
        .unwrap();
    arns.sort();
    assert_eq!(
        arns,
        vec![web.clone(), web2.clone()],
        "only the exact family, not {worker}"
    );

    let mut families = aws
        .list_task_definition_families("shop-feat-x-")
        .await
        .unwrap();
    families.sort();
    assert_eq!(families, vec!["shop-feat-x-web", "shop-feat-x-web-worker"]);

    aws.deregister_task_definition(&web).await.unwrap();
    aws.deregister_task_definition(&web).await.unwrap();
    aws.deregister_task_definition(
        "arn:aws:ecs:us-east-1:123456789012:task-definition/never-registered:1",
    )
    .await
    .unwrap();
    let err = aws
        .deregister_task_definition("shop-feat-x-web")
        .await
        .unwrap_err();
    assert!(err.message.contains("revision"), "{err}");

    let inactive = aws
        .describe_task_definition(&web)
        .await
        .unwrap()
        .expect("inactive stays describable");
    assert_eq!(inactive.status, "INACTIVE");
    assert_eq!(
        aws.list_task_definition_arns("shop-feat-x-web")
            .await
            .unwrap(),
        vec![web2]
    );
}

#[tokio::test]
async fn service_is_created_updated_and_deleted() {
    let moto = Moto::start();
    let aws = moto.connect().await;
    aws.create_cluster("shop", &Tags::new()).await.unwrap();
    let td1 = aws
        .register_task_definition(&web_task_definition("shop-feat-x-web", "v1"), &env_tags())
        .await
        .unwrap();
    let network = default_network(&moto).await;
    let def = spot_service(1, network.clone());

    aws.create_service("shop", "shop-feat-x-web", &td1, &def, &env_tags())
        .await
        .unwrap();

    // moto drops capacityProviderStrategy from its replies: check what envctl sent.
    let sent = last_write(&moto, "CreateService");
    assert_eq!(
        sent["capacityProviderStrategy"],
        serde_json::json!([{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}])
    );
    assert!(sent.get("launchType").is_none(), "{sent}");
    assert_eq!(
        sent["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"],
        "ENABLED"
    );
    assert_eq!(
        sent["deploymentConfiguration"]["deploymentCircuitBreaker"],
        serde_json::json!({"enable": true, "rollback": true})
    );
    assert_eq!(sent["enableExecuteCommand"], true);
    assert_eq!(sent["enableECSManagedTags"], true);
    assert_eq!(sent["propagateTags"], "SERVICE");
    assert_eq!(sent["healthCheckGracePeriodSeconds"], 60);
    assert_eq!(sent["platformVersion"], "LATEST");
    assert_eq!(sent["desiredCount"], 1);
    assert_eq!(sent["taskDefinition"], td1.as_str());

    assert_eq!(
        aws.list_service_names("shop").await.unwrap(),
        vec!["shop-feat-x-web"]
    );

    let names = vec!["shop-feat-x-web".to_string(), "missing".to_string()];
    let services = aws.describe_services("shop", &names).await.unwrap();
    assert_eq!(
        services.len(),
        1,
        "the missing one is skipped: {services:?}"
    );
    let svc = &services[0];
    assert_eq!(svc.name, "shop-feat-x-web");
    assert_eq!(svc.status, "ACTIVE");
    assert_eq!(svc.desired_count, 1);
    assert_eq!(svc.task_definition_arn, td1);
    assert_eq!(svc.tags, env_tags());
    assert_eq!(svc.network, Some(network.clone()));
    assert_eq!(svc.deployments.len(), 1);
    assert_eq!(svc.deployments[0].status, "PRIMARY");
    assert_eq!(svc.deployments[0].task_definition_arn, td1);
    assert_eq!(
        svc.deployments[0].rollout_state.as_deref(),
        Some("COMPLETED")
    );
    // moto reports no service createdAt, only the deployment's times.
    assert!(
        svc.deployments[0]
            .updated_at
            .as_deref()
            .is_some_and(|t| t.ends_with('Z')),
        "{:?}",
        svc.deployments[0].updated_at
    );

    let td2 = aws
        .register_task_definition(&web_task_definition("shop-feat-x-web", "v2"), &env_tags())
        .await
        .unwrap();
    moto.clear_recording();
    aws.update_service(
        "shop",
        "shop-feat-x-web",
        &td2,
        &spot_service(2, network.clone()),
        false,
    )
    .await
    .unwrap();
    let sent = last_write(&moto, "UpdateService");
    assert!(
        sent.get("forceNewDeployment").is_none(),
        "only sent when the plan asks for it: {sent}"
    );
    assert_eq!(sent["taskDefinition"], td2.as_str());
    assert_eq!(sent["desiredCount"], 2);
    assert_eq!(
        sent["capacityProviderStrategy"][0]["capacityProvider"],
        "FARGATE_SPOT"
    );
    assert!(
        sent.get("launchType").is_none(),
        "UpdateService has no launchType: {sent}"
    );
    let svc = aws
        .describe_services("shop", &names[..1])
        .await
        .unwrap()
        .remove(0);
    assert_eq!(svc.task_definition_arn, td2);
    assert_eq!(svc.desired_count, 2);

    moto.clear_recording();
    aws.set_desired_count("shop", "shop-feat-x-web", 0)
        .await
        .unwrap();
    let sent = last_write(&moto, "UpdateService");
    assert_eq!(
        sent,
        serde_json::json!({"cluster": "shop", "service": "shop-feat-x-web", "desiredCount": 0})
    );

    aws.delete_service("shop", "shop-feat-x-web").await.unwrap();
    aws.delete_service("shop", "shop-feat-x-web").await.unwrap();
    aws.delete_service("shop", "never-created").await.unwrap();
    aws.delete_service("no-such-cluster", "shop-feat-x-web")
        .await
        .unwrap();
    assert_eq!(aws.describe_services("shop", &names).await.unwrap(), vec![]);
}

#[tokio::test]
async fn describe_services_batches_by_ten_and_tolerates_a_missing_cluster() {
    let moto = Moto::start();
    let aws = moto.connect().await;
    assert_eq!(
        aws.list_service_names("gone").await.unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        aws.describe_services("gone", &["web".to_string()])
            .await
            .unwrap(),
        vec![]
    );
    assert_eq!(aws.describe_services("gone", &[]).await.unwrap(), vec![]);

    aws.create_cluster("shop", &Tags::new()).await.unwrap();
    let td = aws
        .register_task_definition(&web_task_definition("shop-feat-x-web", "v1"), &Tags::new())
        .await
        .unwrap();
    let def = spot_service(0, default_network(&moto).await);
    let names: Vec<String> = (0..12).map(|i| format!("svc-{i:02}")).collect();
    for name in &names {
        aws.create_service("shop", name, &td, &def, &tags(&[("n", name)]))
            .await
            .unwrap();
    }

    moto.clear_recording();
    let services = aws.describe_services("shop", &names).await.unwrap();
    let got: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(got, names.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(services.iter().all(|s| s.tags.get("n") == Some(&s.name)));
    let calls = moto
        .requests()
        .into_iter()
        .filter(|r| r.operation == "DescribeServices")
        .count();
    assert_eq!(calls, 2);
}

#[tokio::test]
async fn tags_are_added_to_a_service() {
    let moto = Moto::start();
    let aws = moto.connect().await;
    aws.create_cluster("shop", &Tags::new()).await.unwrap();
    let td = aws
        .register_task_definition(&web_task_definition("shop-feat-x-web", "v1"), &Tags::new())
        .await
        .unwrap();
    let def = spot_service(0, default_network(&moto).await);
    aws.create_service("shop", "web", &td, &def, &env_tags())
        .await
        .unwrap();
    let arn = aws
        .describe_services("shop", &["web".to_string()])
        .await
        .unwrap()[0]
        .arn
        .clone();

    moto.clear_recording();
    aws.tag_resource(&arn, &Tags::new()).await.unwrap();
    assert!(moto.writes().is_empty(), "no tags, no call");

    aws.tag_resource(&arn, &tags(&[("envctl:spec-hash", "abc")]))
        .await
        .unwrap();
    let svc = aws
        .describe_services("shop", &["web".to_string()])
        .await
        .unwrap()
        .remove(0);
    let mut want = env_tags();
    want.insert("envctl:spec-hash".into(), "abc".into());
    assert_eq!(svc.tags, want);
}

#[tokio::test]
async fn stopped_tasks_report_reason_and_capacity_provider() {
    let moto = Moto::start();
    let aws = moto.connect().await;
    aws.create_cluster("shop", &Tags::new()).await.unwrap();
    assert_eq!(
        aws.list_stopped_tasks("shop", "web", 10).await.unwrap(),
        vec![]
    );
    assert_eq!(
        aws.list_stopped_tasks("gone", "web", 10).await.unwrap(),
        vec![]
    );

    let td = aws
        .register_task_definition(&web_task_definition("shop-feat-x-web", "v1"), &Tags::new())
        .await
        .unwrap();
    // moto never starts a service's tasks, so start and stop one directly.
    let vpc = default_network(&moto).await;
    let network = aws_sdk_ecs::types::NetworkConfiguration::builder()
        .awsvpc_configuration(
            aws_sdk_ecs::types::AwsVpcConfiguration::builder()
                .set_subnets(Some(vpc.subnets))
                .set_security_groups(Some(vpc.security_groups))
                .build()
                .unwrap(),
        )
        .build();
    let ecs = aws_sdk_ecs::Client::new(&moto.sdk_config());
    let run = ecs
        .run_task()
        .cluster("shop")
        .task_definition(&td)
        .network_configuration(network)
        .capacity_provider_strategy(
            aws_sdk_ecs::types::CapacityProviderStrategyItem::builder()
                .capacity_provider("FARGATE_SPOT")
                .weight(1)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let task_arn = run.tasks()[0].task_arn().unwrap().to_string();
    ecs.stop_task()
        .cluster("shop")
        .task(&task_arn)
        .reason("Your Spot Task was interrupted.")
        .send()
        .await
        .unwrap();

    // moto's ListTasks ignores serviceName (its service tasks never exist), so this task, started
    // outside any service, is what `web` reports.
    let stopped = aws.list_stopped_tasks("shop", "web", 10).await.unwrap();
    assert_eq!(stopped.len(), 1, "{stopped:?}");
    assert_eq!(stopped[0].task_arn, task_arn);
    assert_eq!(stopped[0].reason, "Your Spot Task was interrupted.");
    assert_eq!(
        stopped[0].capacity_provider.as_deref(),
        Some("FARGATE_SPOT")
    );
    assert_eq!(
        aws.list_stopped_tasks("shop", "web", 0).await.unwrap(),
        vec![]
    );
}

#[tokio::test]
async fn tags_are_removed_by_key() {
    let moto = Moto::start();
    let aws = moto.connect().await;
    let mut app_tags = tags(&[("envctl:managed-by", "envctl"), ("envctl:app", "shop")]);
    app_tags.insert("envctl:spec-hash".into(), "abc".into());
    let arn = aws.create_cluster("shop", &app_tags).await.unwrap().arn;

    moto.clear_recording();
    aws.untag_resource(&arn, &[]).await.unwrap();
    assert!(moto.writes().is_empty(), "no keys, no call");

    aws.untag_resource(
        &arn,
        &["envctl:spec-hash".to_string(), "absent".to_string()],
    )
    .await
    .unwrap();
    let cluster = aws.describe_cluster("shop").await.unwrap().unwrap();
    app_tags.remove("envctl:spec-hash");
    assert_eq!(cluster.tags, app_tags);
}
