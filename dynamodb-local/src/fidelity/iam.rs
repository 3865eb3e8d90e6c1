//! IAM as DynamoDB applies it to each function's role, read from the policies in `template.yaml`.
//!
//! What each call needs follows "Actions, resources, and condition keys for Amazon DynamoDB"
//! (<https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html>)
//! and "Using IAM with DynamoDB transactions"
//! (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html>):
//! there is no `TransactWriteItems` action, a transaction needs the action of each of its members
//! (`PutItem`, `UpdateItem`, `DeleteItem`, `ConditionCheckItem`) on its table; `BatchGetItem` and
//! `BatchWriteItem` are actions of their own; a Query on an index is authorized on the index's
//! ARN (`<table>/index/<name>`), not the table's.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_yaml::Value;

/// What one call asks of IAM: an action on the table, on one of its indexes, or on a secret.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Need {
    /// `dynamodb:Query`, `secretsmanager:GetSecretValue`, ...
    pub action: String,
    pub resource: Resource,
}

/// A resource of the template that a policy names.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Resource {
    /// The table itself (`!GetAtt Table.Arn`).
    Table,
    /// One of its indexes (`!Sub "${Table.Arn}/index/<name>"`); in a grant, `*` is every index.
    Index(String),
    /// A Secrets Manager secret of the template, by logical id (`!Ref <id>`).
    Secret(String),
}

impl Need {
    pub fn on_table(operation: &str) -> Need {
        Need { action: format!("dynamodb:{operation}"), resource: Resource::Table }
    }

    pub fn on_index(operation: &str, index: &str) -> Need {
        Need { action: format!("dynamodb:{operation}"), resource: Resource::Index(index.to_owned()) }
    }

    pub fn on_secret(operation: &str, logical_id: &str) -> Need {
        Need {
            action: format!("secretsmanager:{operation}"),
            resource: Resource::Secret(logical_id.to_owned()),
        }
    }
}

impl Resource {
    /// How the recorded calls file writes it: `table`, `index/<name>` or `secret/<logical id>`.
    pub fn parse(text: &str) -> Resource {
        if let Some(index) = text.strip_prefix("index/") {
            Resource::Index(index.to_owned())
        } else if let Some(secret) = text.strip_prefix("secret/") {
            Resource::Secret(secret.to_owned())
        } else {
            Resource::Table
        }
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Resource::Table => write!(f, "table"),
            Resource::Index(index) => write!(f, "index/{index}"),
            Resource::Secret(secret) => write!(f, "secret/{secret}"),
        }
    }
}

impl fmt::Display for Need {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} on {}", self.action, self.resource)
    }
}

/// One allowed (action, resource) pair of a function's policy.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grant {
    pub action: String,
    pub resource: Resource,
}

impl Grant {
    fn allows(&self, need: &Need) -> bool {
        self.action == need.action
            && match (&self.resource, &need.resource) {
                (Resource::Index(granted), Resource::Index(index)) => granted == "*" || granted == index,
                (granted, needed) => granted == needed,
            }
    }
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} on {}", self.action, self.resource)
    }
}

/// The DynamoDB and Secrets Manager grants of every function in the template, by logical id.
#[derive(Clone, Debug, Default)]
pub struct Policies {
    pub functions: BTreeMap<String, Vec<Grant>>,
}

/// Where `template.yaml` is.
pub fn template_path() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml").to_owned()
}

impl Policies {
    /// The policies of the project's `template.yaml`.
    pub fn from_template() -> Policies {
        let text = std::fs::read_to_string(template_path()).expect("reading template.yaml");
        Self::parse(&text)
    }

    /// Reads the inline policy statements of each `AWS::Serverless::Function`. Only statements
    /// on the table (`!GetAtt Table.Arn`, `!Sub "${Table.Arn}/index/<name>"`) and on secrets
    /// (`!Ref <secret>`) count here; a policy in any other form is refused, so nothing is
    /// silently left unchecked.
    pub fn parse(text: &str) -> Policies {
        let template: Value = serde_yaml::from_str(text).expect("template.yaml is YAML");
        let mut functions = BTreeMap::new();
        for (name, resource) in template["Resources"].as_mapping().expect("Resources") {
            if resource["Type"] != "AWS::Serverless::Function" {
                continue;
            }
            let name = name.as_str().expect("a logical id").to_owned();
            let mut grants = Vec::new();
            let policies = resource["Properties"]["Policies"].as_sequence().cloned().unwrap_or_default();
            for policy in policies {
                let statements = policy["Statement"]
                    .as_sequence()
                    .unwrap_or_else(|| panic!("{name}: only inline Statement policies are understood"));
                for statement in statements {
                    assert_eq!(statement["Effect"], "Allow", "{name}: only Allow statements are understood");
                    let actions: Vec<String> = as_list(&statement["Action"])
                        .iter()
                        .map(|action| action.as_str().expect("an action").to_owned())
                        .filter(|action| {
                            action.starts_with("dynamodb:") || action.starts_with("secretsmanager:")
                        })
                        .collect();
                    if actions.is_empty() {
                        continue;
                    }
                    let resources: Vec<Resource> = as_list(&statement["Resource"])
                        .iter()
                        .filter_map(|resource| resource_of(&template["Resources"], &name, resource))
                        .collect();
                    for action in actions {
                        assert!(!action.contains('*'), "{name}: {action}: grant actions by name");
                        for resource in &resources {
                            grants.push(Grant { action: action.clone(), resource: resource.clone() });
                        }
                    }
                }
            }
            grants.sort();
            grants.dedup();
            functions.insert(name, grants);
        }
        Policies { functions }
    }

    /// Whether `function`'s role may do `need`.
    pub fn allows(&self, function: &str, need: &Need) -> bool {
        self.functions.get(function).is_some_and(|grants| grants.iter().any(|g| g.allows(need)))
    }

    /// The same policies without `action` on `function` (to show the check catching it).
    pub fn without(mut self, function: &str, action: &str) -> Policies {
        if let Some(grants) = self.functions.get_mut(function) {
            grants.retain(|g| g.action != action);
        }
        self
    }

    /// Grants that no recorded call of their function needed: `(function, grant)`. A wildcard
    /// index grant counts as unused unless its function used that action on every index.
    pub fn unused(&self, used: &BTreeSet<(String, Need)>, indexes: &[&str]) -> Vec<(String, Grant)> {
        let mut unused = Vec::new();
        for (function, grants) in &self.functions {
            for grant in grants {
                let needed = |resource: Resource| {
                    used.contains(&(function.clone(), Need { action: grant.action.clone(), resource }))
                };
                let in_use = match &grant.resource {
                    Resource::Index(all) if all == "*" => {
                        indexes.iter().all(|index| needed(Resource::Index((*index).to_owned())))
                    }
                    resource => needed(resource.clone()),
                };
                if !in_use {
                    unused.push((function.clone(), grant.clone()));
                }
            }
        }
        unused
    }
}

fn as_list(value: &Value) -> Vec<Value> {
    match value {
        Value::Sequence(items) => items.clone(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

/// The table, an index (`*` for all) or a secret a statement's resource names; `None` for a
/// resource of another kind.
fn resource_of(resources: &Value, function: &str, resource: &Value) -> Option<Resource> {
    let Value::Tagged(tagged) = resource else {
        panic!("{function}: resource {resource:?} is not a reference to the table or a secret")
    };
    let text = tagged.value.as_str().unwrap_or_else(|| panic!("{function}: {resource:?}"));
    match tagged.tag.to_string().as_str() {
        "!GetAtt" if text == "Table.Arn" => Some(Resource::Table),
        "!Ref" if resources[text]["Type"] == "AWS::SecretsManager::Secret" => {
            Some(Resource::Secret(text.to_owned()))
        }
        "!Sub" => match text.strip_prefix("${Table.Arn}/index/") {
            Some(index) => Some(Resource::Index(index.to_owned())),
            None if text.contains("${Table") => {
                panic!("{function}: {text}: an unknown form of table resource")
            }
            None => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"
Resources:
  ReadFunction:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - Statement:
            - Effect: Allow
              Action: [dynamodb:GetItem, dynamodb:Query]
              Resource:
                - !GetAtt Table.Arn
                - !Sub "${Table.Arn}/index/gsi1"
  WriteFunction:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - Statement:
            - Effect: Allow
              Action: dynamodb:PutItem
              Resource: !GetAtt Table.Arn
            - Effect: Allow
              Action: secretsmanager:GetSecretValue
              Resource: !Ref KeySecret
  Table:
    Type: AWS::DynamoDB::Table
  KeySecret:
    Type: AWS::SecretsManager::Secret
"#;

    #[test]
    fn grants_by_action_and_resource() {
        let policies = Policies::parse(TEMPLATE);
        assert!(policies.allows("ReadFunction", &Need::on_table("GetItem")));
        assert!(policies.allows("ReadFunction", &Need::on_index("Query", "gsi1")));
        assert!(!policies.allows("ReadFunction", &Need::on_index("Query", "gsi2")));
        assert!(!policies.allows("ReadFunction", &Need::on_table("PutItem")));
        assert!(policies.allows("WriteFunction", &Need::on_table("PutItem")));
        assert!(!policies.allows("WriteFunction", &Need::on_index("PutItem", "gsi1")));
        assert!(!policies.allows("NoSuchFunction", &Need::on_table("GetItem")));
        assert!(policies.allows("WriteFunction", &Need::on_secret("GetSecretValue", "KeySecret")));
        assert!(!policies.allows("ReadFunction", &Need::on_secret("GetSecretValue", "KeySecret")));
        assert!(!policies.allows("WriteFunction", &Need::on_secret("GetSecretValue", "OtherSecret")));
    }

    #[test]
    fn a_removed_grant_is_refused() {
        let policies = Policies::parse(TEMPLATE).without("ReadFunction", "dynamodb:GetItem");
        assert!(!policies.allows("ReadFunction", &Need::on_table("GetItem")));
        assert!(policies.allows("ReadFunction", &Need::on_table("Query")));
    }

    #[test]
    fn reports_grants_nothing_used() {
        let policies = Policies::parse(TEMPLATE);
        let used = BTreeSet::from([
            ("ReadFunction".to_owned(), Need::on_table("GetItem")),
            ("ReadFunction".to_owned(), Need::on_index("Query", "gsi1")),
            ("WriteFunction".to_owned(), Need::on_table("PutItem")),
            ("WriteFunction".to_owned(), Need::on_secret("GetSecretValue", "KeySecret")),
        ]);
        let unused: Vec<String> =
            policies.unused(&used, &["gsi1"]).iter().map(|(f, g)| format!("{f}: {g}")).collect();
        assert_eq!(
            unused,
            ["ReadFunction: dynamodb:GetItem on index/gsi1", "ReadFunction: dynamodb:Query on table"]
        );
    }

    #[test]
    fn the_project_template_is_understood() {
        let policies = Policies::from_template();
        let reads_the_key = |function: &str| {
            policies.allows(function, &Need::on_secret("GetSecretValue", "AccessTokenSigningKeySecret"))
        };
        assert!(reads_the_key("UsersFunction"), "the users function reads the signing key");
        for other in ["EventsFunction", "UpcomingFunction", "RegisterFunction", "RemindersFunction"] {
            assert!(!reads_the_key(other), "{other} must not read the signing key");
        }
        for function in
            ["UsersFunction", "EventsFunction", "UpcomingFunction", "RegisterFunction", "RemindersFunction"]
        {
            assert!(!policies.functions[function].is_empty(), "{function} has DynamoDB grants");
        }
    }
}
