//! Proves the test harness itself: moto starts, the SDK reaches it, the recorder sees writes.

#[tokio::test]
async fn moto_answers_and_records_writes() {
    let moto = crate::support::Moto::start();
    let ecs = aws_sdk_ecs::Client::new(&moto.sdk_config());
    ecs.create_cluster()
        .cluster_name("probe")
        .send()
        .await
        .unwrap();
    let listed = ecs.list_clusters().send().await.unwrap();
    assert_eq!(listed.cluster_arns().len(), 1);
    let writes = moto.writes();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(writes[0].operation, "CreateCluster");
    assert_eq!(writes[0].json()["clusterName"], "probe");
}
