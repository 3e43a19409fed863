//! Preview URLs against the emulator: each env's public service gets its own target group and a
//! listener rule on bootstrap's shared ALB, its ECS service registers with that group, a re-run
//! writes nothing, `down` removes only that env's rule and group, and `up` refuses (before any
//! write) when the listener is full or someone else answers the env's host.
//!
//! moto routes no traffic and runs no health checks: these tests show what envctl asks of ELB and
//! ECS, not that a request reaches a task (docs/preview.md).

use std::collections::BTreeMap;

use aws_sdk_elasticloadbalancingv2::types as elb;
use serde_json::Value;

use crate::support::{ops, App, Recorded};

const DOMAIN: &str = "preview.example.test";
const PREVIEW: &str = "\n[preview]\nenabled = true\ndomain = \"preview.example.test\"\n";

/// Makes `web` public and appends `[preview]` (plus `extra` keys inside it) to the envctl.toml
/// that `init` wrote.
fn configure(app: &App, extra: &str) {
    let path = app.path().join("envctl.toml");
    let text = std::fs::read_to_string(&path).expect("envctl.toml from init");
    assert!(text.contains("\n[services.web]\n"), "{text}");
    let text = text.replacen("\n[services.web]\n", "\n[services.web]\npublic = true\n", 1);
    std::fs::write(&path, format!("{text}{PREVIEW}{extra}")).expect("write envctl.toml");
}

/// Configured as in [`configure`], then `bootstrap` (which creates the ALB and its listener
/// unless `extra` names a listener).
fn bootstrapped(extra: &str) -> App {
    let app = App::init();
    configure(&app, extra);
    app.ok(&["bootstrap"]);
    app
}

/// The HTTP listener bootstrap put on the `envctl-shop` ALB.
async fn listener(app: &App) -> elb::Listener {
    let lbs = app
        .elb()
        .describe_load_balancers()
        .names("envctl-shop")
        .send()
        .await
        .expect("bootstrap created the ALB");
    let lb = lbs.load_balancers()[0].load_balancer_arn().expect("arn");
    let listeners = app
        .elb()
        .describe_listeners()
        .load_balancer_arn(lb)
        .send()
        .await
        .expect("listeners");
    assert_eq!(listeners.listeners().len(), 1, "{listeners:?}");
    listeners.listeners()[0].clone()
}

async fn listener_arn(app: &App) -> String {
    listener(app)
        .await
        .listener_arn()
        .expect("listener arn")
        .to_string()
}

/// The rules of bootstrap's listener other than its default one.
async fn rules(app: &App) -> Vec<elb::Rule> {
    rules_on(app, &listener_arn(app).await).await
}

/// The rules of a listener other than its default one.
async fn rules_on(app: &App, listener_arn: &str) -> Vec<elb::Rule> {
    let out = app
        .elb()
        .describe_rules()
        .listener_arn(listener_arn)
        .send()
        .await
        .expect("describe rules");
    out.rules()
        .iter()
        .filter(|r| !r.is_default().unwrap_or(false) && r.priority() != Some("default"))
        .cloned()
        .collect()
}

async fn rule_for_host(app: &App, host: &str) -> Option<elb::Rule> {
    rules(app).await.into_iter().find(|r| hosts(r) == [host])
}

async fn target_group(app: &App, name: &str) -> Option<elb::TargetGroup> {
    match app.elb().describe_target_groups().names(name).send().await {
        Ok(out) => out.target_groups().first().cloned(),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_target_group_not_found_exception()) =>
        {
            None
        }
        Err(e) => panic!("describe target group {name}: {e:?}"),
    }
}

async fn elb_tags(app: &App, arn: &str) -> BTreeMap<String, String> {
    let out = app
        .elb()
        .describe_tags()
        .resource_arns(arn)
        .send()
        .await
        .expect("describe tags");
    out.tag_descriptions()
        .iter()
        .flat_map(|d| d.tags())
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// A rule no envctl ever made: no tags, a fixed response, on `host` at `priority`.
async fn foreign_rule(app: &App, host: &str, priority: i32) -> String {
    let out = app
        .elb()
        .create_rule()
        .listener_arn(listener_arn(app).await)
        .priority(priority)
        .conditions(
            elb::RuleCondition::builder()
                .field("host-header")
                .host_header_config(
                    elb::HostHeaderConditionConfig::builder()
                        .values(host)
                        .build(),
                )
                .build(),
        )
        .actions(
            elb::Action::builder()
                .r#type(elb::ActionTypeEnum::FixedResponse)
                .fixed_response_config(
                    elb::FixedResponseActionConfig::builder()
                        .status_code("200")
                        .content_type("text/plain")
                        .message_body("someone else's")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("create foreign rule");
    out.rules()[0].rule_arn().expect("rule arn").to_string()
}

fn host(env: &str) -> String {
    format!("{env}.{DOMAIN}")
}

fn hosts(rule: &elb::Rule) -> Vec<String> {
    rule.conditions()
        .iter()
        .filter(|c| c.field() == Some("host-header"))
        .flat_map(|c| {
            let typed = c
                .host_header_config()
                .map(|h| h.values())
                .unwrap_or_default();
            if typed.is_empty() {
                c.values().to_vec()
            } else {
                typed.to_vec()
            }
        })
        .collect()
}

fn paths(rule: &elb::Rule) -> Vec<String> {
    rule.conditions()
        .iter()
        .filter(|c| c.field() == Some("path-pattern"))
        .flat_map(|c| {
            let typed = c
                .path_pattern_config()
                .map(|p| p.values())
                .unwrap_or_default();
            if typed.is_empty() {
                c.values().to_vec()
            } else {
                typed.to_vec()
            }
        })
        .collect()
}

/// The single target group a rule forwards to.
fn forwards_to(rule: &elb::Rule) -> String {
    let actions = rule.actions();
    assert_eq!(actions.len(), 1, "{rule:?}");
    assert_eq!(actions[0].r#type(), Some(&elb::ActionTypeEnum::Forward));
    let mut arns: Vec<&str> = actions[0].target_group_arn().into_iter().collect();
    if let Some(f) = actions[0].forward_config() {
        arns.extend(
            f.target_groups()
                .iter()
                .filter_map(|t| t.target_group_arn()),
        );
    }
    arns.dedup();
    assert_eq!(arns.len(), 1, "{rule:?}");
    arns[0].to_string()
}

/// Percent-decodes one `application/x-www-form-urlencoded` value.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The parameters of a query-protocol request (ELB): `Action=DeleteRule&RuleArn=...`.
fn form(r: &Recorded) -> BTreeMap<String, String> {
    r.body
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

fn position(writes: &[Recorded], op: &str) -> usize {
    writes
        .iter()
        .position(|w| w.operation == op)
        .unwrap_or_else(|| panic!("no {op} in {:?}", ops(writes)))
}

/// Whether the listener still answers unmatched requests with bootstrap's fixed 404.
fn default_is_fixed_404(listener: &elb::Listener) -> bool {
    match listener.default_actions() {
        [only] => {
            only.r#type() == Some(&elb::ActionTypeEnum::FixedResponse)
                && only.fixed_response_config().and_then(|c| c.status_code()) == Some("404")
        }
        _ => false,
    }
}

/// The CreateService request envctl sent for `name`.
fn create_service_request(writes: &[Recorded], name: &str) -> Value {
    let found: Vec<Value> = writes
        .iter()
        .filter(|w| w.operation == "CreateService")
        .map(Recorded::json)
        .filter(|j| j["serviceName"] == name)
        .collect();
    assert_eq!(found.len(), 1, "CreateService {name}: {:?}", ops(writes));
    found[0].clone()
}

#[tokio::test]
async fn two_envs_get_their_own_rule_and_target_group_and_services_register_with_them() {
    let app = bootstrapped("");
    app.moto.clear_recording();
    let a = app.ok(&["up", "feature-a"]);
    let b = app.ok(&["up", "feature-b"]);
    assert!(
        a.stdout
            .contains("web: http://feature-a.preview.example.test/"),
        "{}",
        a.stdout
    );
    assert!(
        b.stdout
            .contains("web: http://feature-b.preview.example.test/"),
        "{}",
        b.stdout
    );

    let writes = app.moto.writes();
    let rules = rules(&app).await;
    assert_eq!(rules.len(), 2, "{rules:?}");
    let priorities: Vec<&str> = rules.iter().filter_map(|r| r.priority()).collect();
    assert_eq!(priorities.len(), 2);
    assert_ne!(priorities[0], priorities[1], "{priorities:?}");

    let mut group_arns = Vec::new();
    for env in ["feature-a", "feature-b"] {
        let name = format!("shop-{env}-web");
        let rule = rule_for_host(&app, &host(env)).await.unwrap_or_else(|| {
            panic!("no rule for {}: {rules:?}", host(env));
        });
        assert_eq!(hosts(&rule), [host(env)]);
        assert!(paths(&rule).is_empty(), "{rule:?}");
        let tg = target_group(&app, &name)
            .await
            .unwrap_or_else(|| panic!("target group {name}"));
        let tg_arn = tg.target_group_arn().expect("arn").to_string();
        assert_eq!(
            forwards_to(&rule),
            tg_arn,
            "rule of {env} forwards elsewhere"
        );

        // Fargate tasks in awsvpc mode register by IP; the health check is the config's default.
        assert_eq!(tg.target_type(), Some(&elb::TargetTypeEnum::Ip));
        assert_eq!(tg.protocol(), Some(&elb::ProtocolEnum::Http));
        assert_eq!(tg.port(), Some(80));
        assert_eq!(tg.health_check_path(), Some("/"));
        assert_eq!(tg.matcher().and_then(|m| m.http_code()), Some("200-399"));

        for arn in [rule.rule_arn().expect("arn"), tg_arn.as_str()] {
            let tags = elb_tags(&app, arn).await;
            assert_eq!(
                tags.get("envctl:managed-by").map(String::as_str),
                Some("envctl")
            );
            assert_eq!(tags.get("envctl:app").map(String::as_str), Some("shop"));
            assert_eq!(
                tags.get("envctl:env").map(String::as_str),
                Some(env),
                "{arn}"
            );
            assert_eq!(tags.get("envctl:service").map(String::as_str), Some("web"));
        }

        // What envctl sent (moto's reply could drop fields) and what ECS reports.
        let sent = create_service_request(&writes, &name);
        assert_eq!(
            sent["loadBalancers"],
            serde_json::json!([{
                "targetGroupArn": tg_arn,
                "containerName": "web",
                "containerPort": 80,
            }]),
            "{sent}"
        );
        let svc = app.service(&name).await;
        let lbs = svc.load_balancers();
        assert_eq!(lbs.len(), 1, "{lbs:?}");
        assert_eq!(lbs[0].target_group_arn(), Some(tg_arn.as_str()));
        assert_eq!(lbs[0].container_name(), Some("web"));
        assert_eq!(lbs[0].container_port(), Some(80));
        group_arns.push(tg_arn);
    }
    assert_ne!(group_arns[0], group_arns[1]);

    // Within each `up`: the group exists before the rule that forwards to it, and the rule before
    // the service (ECS only attaches a service to a group a listener uses).
    let first_service = position(&writes, "CreateService");
    assert!(position(&writes, "CreateTargetGroup") < position(&writes, "CreateRule"));
    assert!(position(&writes, "CreateRule") < first_service);
    assert_eq!(
        ops(&writes)
            .iter()
            .filter(|o| **o == "CreateTargetGroup")
            .count(),
        2
    );
    // No change to the shared pieces.
    for op in [
        "CreateLoadBalancer",
        "CreateListener",
        "ModifyListener",
        "ModifyRule",
    ] {
        assert!(!ops(&writes).contains(&op), "{op}: {:?}", ops(&writes));
    }
}

#[tokio::test]
async fn second_up_of_a_public_env_writes_nothing() {
    let app = bootstrapped("");
    app.ok(&["up", "feature-a"]);
    app.moto.clear_recording();
    let again = app.ok(&["up", "feature-a"]);
    let writes = app.moto.writes();
    assert!(writes.is_empty(), "{:?}", ops(&writes));
    assert!(again.stderr.contains("No changes"), "{}", again.stderr);
    // The URL is still reported although nothing was created.
    assert!(
        again
            .stdout
            .contains("web: http://feature-a.preview.example.test/"),
        "{}",
        again.stdout
    );
    let plan = app.ok(&["plan", "feature-a", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0);
}

#[tokio::test]
async fn down_removes_only_its_rule_and_target_group() {
    let app = bootstrapped("");
    app.ok(&["up", "feature-a"]);
    app.ok(&["up", "feature-b"]);
    let a_rule = rule_for_host(&app, &host("feature-a"))
        .await
        .expect("rule a");
    let b_rule = rule_for_host(&app, &host("feature-b"))
        .await
        .expect("rule b");
    let a_tg = target_group(&app, "shop-feature-a-web")
        .await
        .expect("tg a");
    let b_tg = target_group(&app, "shop-feature-b-web")
        .await
        .expect("tg b");
    let listener_before = listener(&app).await;
    assert!(
        default_is_fixed_404(&listener_before),
        "{listener_before:?}"
    );

    app.moto.clear_recording();
    app.ok(&["down", "feature-a", "--yes"]);

    // ELB saw exactly two writes: a's rule, then a's group.
    let writes = app.moto.writes();
    let elb_writes: Vec<&Recorded> = writes
        .iter()
        .filter(|w| form(w).get("Version").map(String::as_str) == Some("2015-12-01"))
        .collect();
    let got: Vec<(String, String)> = elb_writes
        .iter()
        .map(|w| {
            let f = form(w);
            let target = f
                .get("RuleArn")
                .or_else(|| f.get("TargetGroupArn"))
                .cloned()
                .unwrap_or_default();
            (w.operation.clone(), target)
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "DeleteRule".to_string(),
                a_rule.rule_arn().expect("arn").to_string()
            ),
            (
                "DeleteTargetGroup".to_string(),
                a_tg.target_group_arn().expect("arn").to_string()
            ),
        ],
        "{:?}",
        ops(&writes)
    );
    assert!(position(&writes, "DeleteService") < position(&writes, "DeleteTargetGroup"));

    // a is gone; b is untouched: same rule (ARN, priority, host, target) and group.
    assert!(rule_for_host(&app, &host("feature-a")).await.is_none());
    assert!(target_group(&app, "shop-feature-a-web").await.is_none());
    let b_rule_after = rule_for_host(&app, &host("feature-b"))
        .await
        .expect("rule b");
    assert_eq!(b_rule_after.rule_arn(), b_rule.rule_arn());
    assert_eq!(b_rule_after.priority(), b_rule.priority());
    assert_eq!(
        forwards_to(&b_rule_after),
        b_tg.target_group_arn().expect("arn")
    );
    assert_eq!(
        target_group(&app, "shop-feature-b-web")
            .await
            .and_then(|t| t.target_group_arn().map(str::to_string)),
        b_tg.target_group_arn().map(str::to_string)
    );
    // The listener and its default 404 stay for every other env.
    let listener_after = listener(&app).await;
    assert_eq!(
        listener_after.listener_arn(),
        listener_before.listener_arn()
    );
    assert!(default_is_fixed_404(&listener_after), "{listener_after:?}");
    assert_eq!(rules(&app).await.len(), 1);

    // b still converges to nothing.
    app.moto.clear_recording();
    app.ok(&["up", "feature-b"]);
    assert!(
        app.moto.writes().is_empty(),
        "{:?}",
        ops(&app.moto.writes())
    );
}

#[tokio::test]
async fn full_listener_refuses_a_new_env_before_any_write() {
    let app = bootstrapped("max_rules = 2\n");
    foreign_rule(&app, "one.other.test", 10).await;
    foreign_rule(&app, "two.other.test", 20).await;
    app.moto.clear_recording();

    let r = app.expect(&["up", "feature-a"], 4);
    assert!(
        r.stderr.contains("does not fit on the preview ALB"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("holds 2 of 2 rules"), "{}", r.stderr);
    assert!(r.stderr.contains("envctl gc"), "{}", r.stderr);
    assert!(r.stderr.contains("preview.max_rules"), "{}", r.stderr);
    let writes = app.moto.writes();
    assert!(writes.is_empty(), "{:?}", ops(&writes));
    assert_eq!(rules(&app).await.len(), 2);
    assert!(target_group(&app, "shop-feature-a-web").await.is_none());

    // `plan` shows the same refusal without failing the run of a dry look.
    let plan = app.run(&["plan", "feature-a"]);
    assert!(
        plan.stderr.contains("2 of 2 rules") || plan.stdout.contains("2 of 2 rules"),
        "{}\n{}",
        plan.stdout,
        plan.stderr
    );
}

#[tokio::test]
async fn full_load_balancer_refuses_a_new_target_group_before_any_write() {
    let app = bootstrapped("max_target_groups = 1\n");
    app.ok(&["up", "feature-a"]);
    app.moto.clear_recording();
    let r = app.expect(&["up", "feature-b"], 4);
    assert!(
        r.stderr.contains("holds 1 of 1 target groups"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("envctl gc"), "{}", r.stderr);
    let writes = app.moto.writes();
    assert!(writes.is_empty(), "{:?}", ops(&writes));
    // An env that already has its group is not blocked by a full load balancer.
    app.ok(&["up", "feature-a"]);
    assert!(
        app.moto.writes().is_empty(),
        "{:?}",
        ops(&app.moto.writes())
    );
}

#[tokio::test]
async fn path_mode_routes_a_path_prefix() {
    let app = bootstrapped("mode = \"path\"\n");
    let r = app.ok(&["up", "feature-x"]);
    assert!(
        r.stdout
            .contains("web: http://preview.example.test/feature-x/"),
        "{}",
        r.stdout
    );
    let rules = rules(&app).await;
    assert_eq!(rules.len(), 1, "{rules:?}");
    assert_eq!(paths(&rules[0]), ["/feature-x/*"]);
    assert!(hosts(&rules[0]).is_empty(), "{rules:?}");
    let tg = target_group(&app, "shop-feature-x-web")
        .await
        .expect("target group");
    assert_eq!(Some(forwards_to(&rules[0]).as_str()), tg.target_group_arn());

    app.moto.clear_recording();
    app.ok(&["up", "feature-x"]);
    assert!(
        app.moto.writes().is_empty(),
        "{:?}",
        ops(&app.moto.writes())
    );
}

#[tokio::test]
async fn public_off_detaches_the_service_then_deletes_rule_and_target_group() {
    let app = bootstrapped("");
    app.ok(&["up", "feature-a"]);
    let rule = rule_for_host(&app, &host("feature-a")).await.expect("rule");
    let tg = target_group(&app, "shop-feature-a-web").await.expect("tg");
    let private = ["up", "feature-a", "--set", "services.web.public=false"];

    app.moto.clear_recording();
    let r = app.ok(&private);
    assert!(!r.stdout.contains(DOMAIN), "{}", r.stdout);
    let writes = app.moto.writes();
    let update = writes
        .iter()
        .find(|w| w.operation == "UpdateService")
        .unwrap_or_else(|| panic!("no UpdateService in {:?}", ops(&writes)));
    assert_eq!(
        update.json()["loadBalancers"],
        serde_json::json!([]),
        "{}",
        update.body
    );
    let delete_rule = position(&writes, "DeleteRule");
    let delete_tg = position(&writes, "DeleteTargetGroup");
    assert!(
        position(&writes, "UpdateService") < delete_rule,
        "{:?}",
        ops(&writes)
    );
    assert!(delete_rule < delete_tg, "{:?}", ops(&writes));
    assert_eq!(
        form(&writes[delete_rule])
            .get("RuleArn")
            .map(String::as_str),
        rule.rule_arn()
    );
    assert_eq!(
        form(&writes[delete_tg])
            .get("TargetGroupArn")
            .map(String::as_str),
        tg.target_group_arn()
    );

    assert!(rules(&app).await.is_empty());
    assert!(target_group(&app, "shop-feature-a-web").await.is_none());
    assert!(app
        .service("shop-feature-a-web")
        .await
        .load_balancers()
        .is_empty());
    assert!(default_is_fixed_404(&listener(&app).await));

    app.moto.clear_recording();
    app.ok(&private);
    assert!(
        app.moto.writes().is_empty(),
        "{:?}",
        ops(&app.moto.writes())
    );
}

#[tokio::test]
async fn status_and_ls_show_urls_and_alb_capacity() {
    let app = bootstrapped("");
    let up = app.ok(&["up", "feature-a", "--output", "json"]);
    let report: Value = serde_json::from_str(&up.stdout).expect("up json");
    assert_eq!(
        report["urls"]["web"], "http://feature-a.preview.example.test/",
        "{report}"
    );
    app.ok(&["up", "feature-b"]);

    let ls = app.ok(&["ls", "--output", "json"]);
    let envs: Value = serde_json::from_str(&ls.stdout).expect("ls json");
    let urls: BTreeMap<&str, &Value> = envs
        .as_array()
        .expect("array")
        .iter()
        .map(|e| (e["env"].as_str().unwrap_or_default(), &e["urls"]))
        .collect();
    assert_eq!(urls.len(), 2, "{envs}");
    for env in ["feature-a", "feature-b"] {
        assert_eq!(
            *urls[env],
            serde_json::json!([format!("http://{}/", host(env))]),
            "{envs}"
        );
    }
    let table = app.ok(&["ls"]);
    assert!(table.stdout.contains("URL"), "{}", table.stdout);
    assert!(
        table.stdout.contains(&host("feature-b")),
        "{}",
        table.stdout
    );
    assert!(
        table
            .stderr
            .contains("preview ALB: 2/100 listener rules, 2/100 target groups in use"),
        "{}",
        table.stderr
    );

    let status = app.ok(&["status", "feature-a", "--output", "json"]);
    let v: Value = serde_json::from_str(&status.stdout).expect("status json");
    let previews = v["previews"].as_array().expect("previews");
    assert_eq!(previews.len(), 1, "{v}");
    assert_eq!(previews[0]["service"], "web");
    assert_eq!(previews[0]["url"], "http://feature-a.preview.example.test/");
    // moto starts no tasks, so nothing registers with the target group.
    assert_eq!(previews[0]["targets"], serde_json::json!([]), "{v}");
    let text = app.ok(&["status", "feature-a"]);
    assert!(
        text.stdout
            .contains("preview web: http://feature-a.preview.example.test/"),
        "{}",
        text.stdout
    );
    assert!(!text.stdout.contains(&host("feature-b")), "{}", text.stdout);
}

#[tokio::test]
async fn foreign_rule_on_the_env_host_is_a_conflict_and_left_alone() {
    let app = bootstrapped("");
    let foreign = foreign_rule(&app, &host("feature-a"), 5).await;
    let before = rule_for_host(&app, &host("feature-a"))
        .await
        .expect("foreign");
    app.moto.clear_recording();

    let r = app.expect(&["up", "feature-a"], 4);
    assert!(
        r.stderr.contains("feature-a.preview.example.test"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("not managed by envctl"), "{}", r.stderr);
    let writes = app.moto.writes();
    assert!(writes.is_empty(), "{:?}", ops(&writes));

    let rules = rules(&app).await;
    assert_eq!(rules.len(), 1, "{rules:?}");
    assert_eq!(rules[0].rule_arn(), Some(foreign.as_str()));
    assert_eq!(rules[0].priority(), before.priority());
    assert_eq!(rules[0].conditions(), before.conditions());
    assert_eq!(rules[0].actions(), before.actions());
    assert!(target_group(&app, "shop-feature-a-web").await.is_none());
}

struct Quiet;

impl envctl::apply::Observer for Quiet {
    fn started(&self, _: &envctl::plan::Action) {}
    fn finished(&self, _: &envctl::plan::Action, _: Option<&envctl::error::Error>) {}
}

/// A plan made before another env took priority 1 (the race two `up`s run): apply gets
/// PriorityInUse, re-reads the listener and takes the next free priority.
#[tokio::test]
async fn a_stale_priority_moves_to_the_next_free_one() {
    use envctl::plan::{Action, Plan, TargetGroupRef};

    let app = bootstrapped("");
    app.ok(&["up", "feature-a"]);
    let taken = rule_for_host(&app, &host("feature-a"))
        .await
        .expect("rule a");
    assert_eq!(taken.priority(), Some("1"));
    let aws = app.moto.connect().await;
    let vpc = target_group(&app, "shop-feature-a-web")
        .await
        .and_then(|t| t.vpc_id().map(str::to_string))
        .expect("vpc of a's group");
    let mut tags: envctl::model::Tags = elb_tags(&app, taken.rule_arn().expect("arn"))
        .await
        .into_iter()
        .collect();
    tags.insert("envctl:env".into(), "feature-b".into());
    let tg = aws
        .create_target_group(&envctl::model::TargetGroupSpec {
            name: "shop-feature-b-web".into(),
            port: 80,
            vpc_id: vpc,
            health_check_path: "/".into(),
            health_check_matcher: "200-399".into(),
            tags: tags.clone(),
        })
        .await
        .expect("target group b");
    let plan = Plan {
        app: "shop".into(),
        env: "feature-b".into(),
        actions: vec![Action::CreateListenerRule {
            service: "web".into(),
            listener_arn: listener_arn(&app).await,
            priority: 1,
            route: envctl::model::RouteMatch::Host(host("feature-b")),
            target_group: TargetGroupRef::Existing(tg.clone()),
            tags,
        }],
        hooks: vec![],
        database: None,
        conflicts: vec![],
        skipped: vec![],
        capacity: vec![],
    };
    app.moto.clear_recording();
    envctl::apply::apply(&aws, &plan, 4, &Quiet)
        .await
        .expect("apply moves to a free priority");

    let tried: Vec<String> = app
        .moto
        .writes()
        .iter()
        .filter(|w| w.operation == "CreateRule")
        .map(|w| form(w).get("Priority").cloned().unwrap_or_default())
        .collect();
    assert_eq!(tried, ["1", "2"]);
    let b = rule_for_host(&app, &host("feature-b"))
        .await
        .expect("rule b");
    assert_eq!(b.priority(), Some("2"));
    assert_eq!(forwards_to(&b), tg);
    let a = rule_for_host(&app, &host("feature-a"))
        .await
        .expect("rule a");
    assert_eq!(a.rule_arn(), taken.rule_arn());
    assert_eq!(a.priority(), Some("1"));
}

/// The same env's plan, made before another `up` of it created its target group and rule
/// (issue 11: concurrent `up`): the target group's name is taken (DuplicateTargetGroupName) and
/// so is the priority (PriorityInUse); both turn out to be this env's, so apply uses them and
/// creates nothing more: one target group and one rule for the env's host.
#[tokio::test]
async fn a_stale_plan_finds_its_target_group_and_rule_made_by_another_up_of_the_env() {
    use envctl::plan::{Action, Plan, TargetGroupRef};

    let app = bootstrapped("");
    app.ok(&["up", "feature-b"]);
    let rule = rule_for_host(&app, &host("feature-b"))
        .await
        .expect("rule of feature-b");
    let group = target_group(&app, "shop-feature-b-web")
        .await
        .expect("target group of feature-b");
    let group_arn = group.target_group_arn().expect("arn").to_string();
    let rule_tags: envctl::model::Tags = elb_tags(&app, rule.rule_arn().expect("rule arn"))
        .await
        .into_iter()
        .collect();
    let plan = Plan {
        app: "shop".into(),
        env: "feature-b".into(),
        actions: vec![
            Action::CreateTargetGroup {
                service: "web".into(),
                spec: envctl::model::TargetGroupSpec {
                    name: "shop-feature-b-web".into(),
                    port: group.port().expect("port"),
                    vpc_id: group.vpc_id().expect("vpc").to_string(),
                    health_check_path: "/".into(),
                    health_check_matcher: "200-399".into(),
                    tags: elb_tags(&app, &group_arn).await.into_iter().collect(),
                },
            },
            Action::CreateListenerRule {
                service: "web".into(),
                listener_arn: listener_arn(&app).await,
                priority: 1,
                route: envctl::model::RouteMatch::Host(host("feature-b")),
                target_group: TargetGroupRef::Created("shop-feature-b-web".into()),
                tags: rule_tags,
            },
        ],
        hooks: vec![],
        database: None,
        conflicts: vec![],
        skipped: vec![],
        capacity: vec![],
    };
    let aws = app.moto.connect().await;
    app.moto.clear_recording();
    envctl::apply::apply(&aws, &plan, 4, &Quiet)
        .await
        .expect("the taken names are this env's");

    let writes: Vec<String> = app
        .moto
        .writes()
        .iter()
        .map(|w| w.operation.clone())
        .collect();
    assert_eq!(writes, ["CreateTargetGroup", "CreateRule"], "no second try");
    let now = rules(&app).await;
    assert_eq!(
        now.iter()
            .filter(|r| hosts(r) == [host("feature-b")])
            .count(),
        1,
        "{now:?}"
    );
    assert_eq!(
        forwards_to(&rule_for_host(&app, &host("feature-b")).await.unwrap()),
        group_arn
    );
}

/// Two `up`s at once usually plan the same lowest priority; whichever way they interleave, both
/// succeed with a rule each at distinct priorities.
#[tokio::test]
async fn concurrent_ups_end_with_distinct_priorities() {
    let app = bootstrapped("");
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| app.run(&["up", "feature-a"]));
        let b = s.spawn(|| app.run(&["up", "feature-b"]));
        (a.join().expect("thread a"), b.join().expect("thread b"))
    });
    for r in [&a, &b] {
        assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    }
    let rules = rules(&app).await;
    assert_eq!(rules.len(), 2, "{rules:?}");
    assert_ne!(rules[0].priority(), rules[1].priority(), "{rules:?}");
    for env in ["feature-a", "feature-b"] {
        let rule = rule_for_host(&app, &host(env)).await.expect("rule");
        let tg = target_group(&app, &format!("shop-{env}-web"))
            .await
            .expect("group");
        assert_eq!(Some(forwards_to(&rule).as_str()), tg.target_group_arn());
    }
    let create_rules = app
        .moto
        .writes()
        .iter()
        .filter(|w| w.operation == "CreateRule")
        .count();
    // 2 without a collision, 3 when one `up` lost the race and retried.
    assert!((2..=3).contains(&create_rules), "{create_rules}");
    eprintln!("CreateRule requests: {create_rules}");
}

/// The user's own ALB: an HTTPS listener with a (wildcard) certificate, named by
/// `preview.listener_arn`. Returns (load balancer ARN, listener ARN). On AWS this would be an ACM
/// wildcard certificate; moto looks an ACM ARN up in its own ACM but takes an IAM server
/// certificate ARN unchecked, so the test names one of those.
async fn own_https_listener(app: &App) -> (String, String) {
    let network = app.moto.default_network().await;
    let mut subnets = network.subnets;
    subnets.truncate(2);
    let lb = app
        .elb()
        .create_load_balancer()
        .name("team-alb")
        .set_subnets(Some(subnets))
        .send()
        .await
        .expect("create the team's ALB");
    let lb_arn = lb.load_balancers()[0]
        .load_balancer_arn()
        .expect("arn")
        .to_string();
    let listener = app
        .elb()
        .create_listener()
        .load_balancer_arn(&lb_arn)
        .protocol(elb::ProtocolEnum::Https)
        .port(443)
        .certificates(
            elb::Certificate::builder()
                .certificate_arn("arn:aws:iam::123456789012:server-certificate/wildcard-preview")
                .build(),
        )
        .default_actions(
            elb::Action::builder()
                .r#type(elb::ActionTypeEnum::FixedResponse)
                .fixed_response_config(
                    elb::FixedResponseActionConfig::builder()
                        .status_code("404")
                        .content_type("text/plain")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("create the HTTPS listener");
    let listener_arn = listener.listeners()[0]
        .listener_arn()
        .expect("arn")
        .to_string();
    (lb_arn, listener_arn)
}

#[tokio::test]
async fn own_https_listener_is_used_and_bootstrap_creates_no_alb() {
    let app = App::init();
    let (lb_arn, listener_arn) = own_https_listener(&app).await;
    configure(
        &app,
        &format!("listener_arn = \"{listener_arn}\"\nscheme = \"https\"\n"),
    );
    app.moto.clear_recording();
    app.ok(&["bootstrap"]);
    let writes = app.moto.writes();
    for op in ["CreateLoadBalancer", "CreateListener"] {
        assert!(!ops(&writes).contains(&op), "{op}: {:?}", ops(&writes));
    }

    let up = app.ok(&["up", "feature-a"]);
    assert!(
        up.stdout
            .contains("web: https://feature-a.preview.example.test/"),
        "{}",
        up.stdout
    );
    let rules = rules_on(&app, &listener_arn).await;
    assert_eq!(rules.len(), 1, "{rules:?}");
    assert_eq!(hosts(&rules[0]), [host("feature-a")]);
    let tg = target_group(&app, "shop-feature-a-web")
        .await
        .expect("target group");
    assert_eq!(Some(forwards_to(&rules[0]).as_str()), tg.target_group_arn());
    assert_eq!(tg.load_balancer_arns(), [lb_arn]);

    app.moto.clear_recording();
    app.ok(&["down", "feature-a", "--yes"]);
    assert!(rules_on(&app, &listener_arn).await.is_empty());
    let writes = app.moto.writes();
    for op in ["DeleteListener", "DeleteLoadBalancer", "ModifyListener"] {
        assert!(!ops(&writes).contains(&op), "{op}: {:?}", ops(&writes));
    }
    let listeners = app
        .elb()
        .describe_listeners()
        .listener_arns(&listener_arn)
        .send()
        .await
        .expect("the team's listener is still there");
    assert_eq!(listeners.listeners().len(), 1);
    assert!(default_is_fixed_404(&listeners.listeners()[0]));
}

/// Regression: a `down` that crashed after deleting the env's rule (phase 3) but before its target
/// group (phase 4) left a group that no rule forwards to; the next `down` looked for the env's
/// groups only through its rules and never deleted it.
#[tokio::test]
async fn target_group_without_its_rule_is_reused_by_up_and_deleted_by_down() {
    let app = bootstrapped("");
    app.ok(&["up", "feature-a"]);
    let tg = target_group(&app, "shop-feature-a-web")
        .await
        .expect("target group");
    let tg_arn = tg.target_group_arn().expect("arn").to_string();
    let drop_rule = || async {
        let rule = rule_for_host(&app, &host("feature-a")).await.expect("rule");
        app.elb()
            .delete_rule()
            .rule_arn(rule.rule_arn().expect("arn"))
            .send()
            .await
            .expect("delete rule");
    };

    drop_rule().await;
    app.moto.clear_recording();
    app.ok(&["up", "feature-a"]);
    let writes = app.moto.writes();
    assert_eq!(ops(&writes), ["CreateRule"], "the group is reused");
    let rule = rule_for_host(&app, &host("feature-a")).await.expect("rule");
    assert_eq!(forwards_to(&rule), tg_arn);

    drop_rule().await;
    app.moto.clear_recording();
    app.ok(&["down", "feature-a", "--yes"]);
    let writes = app.moto.writes();
    let deleted: Vec<String> = writes
        .iter()
        .filter(|w| w.operation == "DeleteTargetGroup")
        .filter_map(|w| form(w).get("TargetGroupArn").cloned())
        .collect();
    assert_eq!(deleted, [tg_arn], "{:?}", ops(&writes));
    assert!(target_group(&app, "shop-feature-a-web").await.is_none());
}
