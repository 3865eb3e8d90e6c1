//! The routes `template.yaml` sends to each function are exactly the routes that function's
//! router serves, with the methods its router accepts.

use std::collections::{BTreeMap, BTreeSet};

use api_tests::spawn_app;
use reqwest::Method;
use serde_yaml::Value;

/// (function, path) pairs of every HttpApi event in the template, `$default` aside.
fn template_routes() -> BTreeSet<(String, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    let text = std::fs::read_to_string(path).expect("reading template.yaml");
    let template: Value = serde_yaml::from_str(&text).expect("template.yaml is YAML");
    let mut routes = BTreeSet::new();
    for (name, resource) in template["Resources"].as_mapping().expect("Resources") {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        let Some(events) = resource["Properties"]["Events"].as_mapping() else { continue };
        for event in events.values().filter(|e| e["Type"] == "HttpApi") {
            let path = event["Properties"]["Path"].as_str().expect("Path").to_owned();
            assert_eq!(
                event["Properties"]["Method"], "ANY",
                "{path}: each path routes every method, so the function can answer 405"
            );
            if path != "$default" {
                routes.insert((name.as_str().unwrap().to_owned(), path));
            }
        }
    }
    routes
}

#[test]
fn template_routes_equal_the_functions_routes() {
    let mut ours = BTreeSet::new();
    for (function, routes) in local::FUNCTIONS {
        for (path, _) in *routes {
            ours.insert(((*function).to_owned(), (*path).to_owned()));
        }
    }
    assert_eq!(template_routes(), ours);
}

#[tokio::test]
async fn each_router_serves_exactly_the_methods_it_declares() {
    let app = spawn_app().await;
    let mut declared: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (_, routes) in local::FUNCTIONS {
        for (path, methods) in *routes {
            declared.entry((*path).to_owned()).or_default().extend(methods.iter().map(|m| (*m).to_owned()));
        }
    }
    let sample_id = ulid::Ulid::new().to_string();
    for (path, methods) in declared {
        let concrete = path.replace("{id}", &sample_id).replace("{token}", "sample-token");
        // No route accepts TRACE: a served path answers 405 listing its methods, an unserved one 404.
        let reply = app.call(Method::TRACE, &concrete, None, None).await;
        reply.problem(405);
        let allowed: BTreeSet<String> = reply
            .header("allow")
            .unwrap_or_default()
            .split(',')
            .map(|m| m.trim().to_owned())
            .filter(|m| m != "HEAD")
            .collect();
        assert_eq!(allowed, methods, "{path}");
    }
}

/// The table in `template.yaml` has the keys, indexes, TTL and stream the code creates locally.
#[test]
fn template_table_matches_the_table_the_code_creates() {
    use shared::store::table::{INDEXES, TTL_ATTRIBUTE, key_attributes};
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    let template: Value = serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let table = &template["Resources"]["Table"]["Properties"];
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(table["TimeToLiveSpecification"]["AttributeName"], TTL_ATTRIBUTE);
    assert_eq!(table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], true);
    assert_eq!(table["StreamSpecification"]["StreamViewType"], shared::store::table::STREAM_VIEW.as_str());
    let attributes: BTreeSet<(String, String)> = table["AttributeDefinitions"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| {
            (a["AttributeName"].as_str().unwrap().to_owned(), a["AttributeType"].as_str().unwrap().to_owned())
        })
        .collect();
    let expected: BTreeSet<(String, String)> =
        key_attributes().into_iter().map(|a| (a.to_owned(), "S".to_owned())).collect();
    assert_eq!(attributes, expected);
    let key_schema = |schema: &Value| -> Vec<(String, String)> {
        schema
            .as_sequence()
            .unwrap()
            .iter()
            .map(|k| {
                (k["AttributeName"].as_str().unwrap().to_owned(), k["KeyType"].as_str().unwrap().to_owned())
            })
            .collect()
    };
    assert_eq!(
        key_schema(&table["KeySchema"]),
        vec![("pk".into(), "HASH".into()), ("sk".into(), "RANGE".into())]
    );
    let indexes = table["GlobalSecondaryIndexes"].as_sequence().unwrap();
    assert_eq!(indexes.len(), INDEXES.len());
    for (declared, ours) in indexes.iter().zip(INDEXES) {
        assert_eq!(declared["IndexName"], ours.name);
        assert_eq!(
            key_schema(&declared["KeySchema"]),
            vec![(ours.pk.into(), "HASH".into()), (ours.sk.into(), "RANGE".into())]
        );
        assert_eq!(declared["Projection"]["ProjectionType"], "ALL");
    }
}

/// Every alarm on one route's metrics names a route the HTTP API has (`ANY <path>`, as routes are
/// declared): an alarm on a route key that does not exist would never fire.
#[test]
fn route_alarms_name_real_routes() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    let template: Value =
        serde_yaml::from_str(&std::fs::read_to_string(path).expect("reading")).expect("YAML");
    let keys: BTreeSet<String> =
        template_routes().into_iter().map(|(_, path)| format!("ANY {path}")).collect();
    let mut alarmed = 0;
    for (name, resource) in template["Resources"].as_mapping().expect("Resources") {
        if resource["Type"] != "AWS::CloudWatch::Alarm" {
            continue;
        }
        let Some(dimensions) = resource["Properties"]["Dimensions"].as_sequence() else { continue };
        for dimension in dimensions.iter().filter(|d| d["Name"] == "Route") {
            let route = dimension["Value"].as_str().expect("a route key");
            assert!(keys.contains(route), "{name:?} watches {route}, which no function serves");
            alarmed += 1;
        }
    }
    assert!(alarmed >= 5, "the main routes each have a latency alarm");
}
