//! Capacity units by partition: what each call costs, in the table and in each index, and which
//! partition key value pays for it. DynamoDB Local ignores throughput; the service holds each
//! partition key value to about 1,000 write units and 3,000 read units a second, in the table
//! and in each global secondary index, and a throttled index throttles the table's writes
//! (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html>,
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.ThroughputConsiderations>).
//!
//! Units follow "Read/write capacity unit consumption"
//! (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html>)
//! and "Item sizes" (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html>):
//! a write costs one unit per started KB of the larger of the item's old and new images, twice
//! in a transaction; an index entry is written when the item has the index's key and any
//! attribute changed (every index projects all attributes), and moving an entry to another key
//! is a delete plus a put; a read costs one unit per started 4 KB (of the item, or of all items
//! a Query returned from one partition), half for an eventually consistent read. Not counted: the
//! items a filter drops, a read that finds nothing, a write whose condition fails.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::lock;

/// Where units are spent: the table, or an index by name.
pub type Scope = String;

/// The table's scope name.
pub const TABLE: &str = "table";

/// Units spent on one partition key value.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Units {
    pub read: f64,
    pub write: f64,
}

/// One partition key value's per-second window, for throttling.
#[derive(Clone, Copy, Debug)]
struct Window {
    started: Instant,
    read: f64,
    write: f64,
}

/// The limits of one partition key value per second.
pub const WRITE_LIMIT: f64 = 1000.0;
pub const READ_LIMIT: f64 = 3000.0;

/// Units spent, by (scope, partition key value), since the meter was made or reset.
#[derive(Default)]
pub struct Meter {
    totals: Mutex<HashMap<(Scope, String), Units>>,
    windows: Mutex<HashMap<(Scope, String), Window>>,
    /// Partitions held at their write limit whatever the clock says (a sustained burst, for tests).
    saturated: Mutex<std::collections::HashSet<(Scope, String)>>,
}

/// A charge: units on one partition key value of one scope.
#[derive(Clone, Debug, PartialEq)]
pub struct Charge {
    pub scope: Scope,
    pub partition: String,
    pub units: Units,
}

impl Meter {
    /// Whether any of `partitions` has used up its write units (`writing`) or its read units for
    /// the current second already: the two limits are separate.
    pub fn over_limit(&self, partitions: &[(Scope, String)], writing: bool) -> bool {
        if writing && partitions.iter().any(|partition| lock(&self.saturated).contains(partition)) {
            return true;
        }
        let now = Instant::now();
        let windows = lock(&self.windows);
        partitions.iter().any(|partition| {
            windows.get(partition).is_some_and(|window| {
                now.duration_since(window.started) < Duration::from_secs(1)
                    && if writing { window.write >= WRITE_LIMIT } else { window.read >= READ_LIMIT }
            })
        })
    }

    /// Counts `charges`, in the run's totals and in their partitions' current second.
    pub fn charge(&self, charges: &[Charge]) {
        let now = Instant::now();
        let mut windows = lock(&self.windows);
        let mut totals = lock(&self.totals);
        for charge in charges {
            let key = (charge.scope.clone(), charge.partition.clone());
            let window = windows.entry(key.clone()).or_insert(Window { started: now, read: 0.0, write: 0.0 });
            if now.duration_since(window.started) >= Duration::from_secs(1) {
                *window = Window { started: now, read: 0.0, write: 0.0 };
            }
            window.read += charge.units.read;
            window.write += charge.units.write;
            let total = totals.entry(key).or_default();
            total.read += charge.units.read;
            total.write += charge.units.write;
        }
    }

    /// Holds `partition` at its write limit until [`Meter::release`], as a sustained burst of
    /// other traffic would.
    pub fn saturate(&self, partition: (Scope, String)) {
        lock(&self.saturated).insert(partition);
    }

    /// Ends [`Meter::saturate`].
    pub fn release(&self, partition: &(Scope, String)) {
        lock(&self.saturated).remove(partition);
    }

    /// Everything spent so far, by (scope, partition key value).
    pub fn totals(&self) -> HashMap<(Scope, String), Units> {
        lock(&self.totals).clone()
    }

    /// Forgets what was spent.
    pub fn reset(&self) {
        lock(&self.totals).clear();
        lock(&self.windows).clear();
    }
}

/// The index partition key attribute of each index (`gsi1` → `gsi1pk`).
fn index_pk(index: &str) -> String {
    format!("{index}pk")
}

/// The indexes of the table: every `gsiN` that any image carries a key for.
fn indexes_of(images: &[&Value]) -> Vec<String> {
    let mut names: Vec<String> = images
        .iter()
        .filter_map(|image| image.as_object())
        .flat_map(|object| object.keys())
        .filter_map(|name| name.strip_suffix("pk").filter(|n| n.starts_with("gsi")).map(str::to_owned))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// What writing an item from `old` to `new` (`None`: absent) costs, in the table and its indexes.
/// `transactional` doubles every unit.
pub fn write_charges(old: Option<&Value>, new: Option<&Value>, transactional: bool) -> Vec<Charge> {
    let factor = if transactional { 2.0 } else { 1.0 };
    let size = |image: Option<&Value>| image.map_or(0, item_size);
    let Some(pk) = new.or(old).and_then(|image| string_attribute(image, "pk")) else { return Vec::new() };
    let write = |bytes: usize| Units { read: 0.0, write: factor * kilobytes(bytes) };
    let mut charges =
        vec![Charge { scope: TABLE.into(), partition: pk, units: write(size(old).max(size(new))) }];
    let images: Vec<&Value> = old.into_iter().chain(new).collect();
    let changed = old != new;
    for index in indexes_of(&images) {
        let old_key = old.and_then(|image| string_attribute(image, &index_pk(&index)));
        let new_key = new.and_then(|image| string_attribute(image, &index_pk(&index)));
        match (old_key, new_key) {
            (Some(before), Some(after)) if before == after => {
                if changed {
                    charges.push(Charge { scope: index.clone(), partition: after, units: write(size(new)) });
                }
            }
            (before, after) => {
                if let Some(before) = before {
                    charges.push(Charge { scope: index.clone(), partition: before, units: write(size(old)) });
                }
                if let Some(after) = after {
                    charges.push(Charge { scope: index.clone(), partition: after, units: write(size(new)) });
                }
            }
        }
    }
    charges
}

/// What reading `items` from one partition of `scope` costs.
pub fn read_charge(scope: &str, partition: String, items: &[&Value], consistent: bool) -> Charge {
    let bytes: usize = items.iter().map(|item| item_size(item)).sum();
    let units = (bytes.max(1)).div_ceil(4096) as f64 * if consistent { 1.0 } else { 0.5 };
    Charge { scope: scope.to_owned(), partition, units: Units { read: units, write: 0.0 } }
}

/// Started kilobytes, at least one.
fn kilobytes(bytes: usize) -> f64 {
    bytes.max(1).div_ceil(1024) as f64
}

/// The string value of attribute `name` of an item in DynamoDB JSON.
pub fn string_attribute(item: &Value, name: &str) -> Option<String> {
    item.get(name)?.get("S")?.as_str().map(str::to_owned)
}

/// An item's size as DynamoDB counts it: each attribute's name in bytes plus its value's size.
pub fn item_size(item: &Value) -> usize {
    item.as_object()
        .map_or(0, |attributes| attributes.iter().map(|(name, value)| name.len() + value_size(value)).sum())
}

/// A value's size: strings and binaries by length, numbers by their significant digits (about
/// one byte per two digits, plus one), maps and lists 3 bytes plus their elements (1 byte each).
fn value_size(value: &Value) -> usize {
    let Some((kind, inner)) = value.as_object().and_then(|o| o.iter().next()) else { return 0 };
    match kind.as_str() {
        "S" | "B" => inner.as_str().map_or(0, str::len),
        "N" => inner.as_str().map_or(1, |n| n.trim_start_matches('-').replace('.', "").len().div_ceil(2) + 1),
        "BOOL" | "NULL" => 1,
        "SS" | "BS" => {
            inner.as_array().map_or(0, |all| all.iter().filter_map(Value::as_str).map(str::len).sum())
        }
        "NS" => inner.as_array().map_or(0, |all| all.len() * 3),
        "L" => 3 + inner.as_array().map_or(0, |all| all.iter().map(|v| 1 + value_size(v)).sum()),
        "M" => {
            3 + inner.as_object().map_or(0, |all| all.iter().map(|(k, v)| 1 + k.len() + value_size(v)).sum())
        }
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event(confirmed: u32, bucket: &str) -> Value {
        json!({
            "pk": {"S": "EVENT#1"}, "sk": {"S": "EVENT"},
            "gsi1pk": {"S": "USER#9"}, "gsi2pk": {"S": bucket},
            "confirmed_count": {"N": confirmed.to_string()},
            "description": {"S": "x".repeat(1500)}
        })
    }

    #[test]
    fn sizes_follow_the_documented_rules() {
        assert_eq!(item_size(&json!({"ab": {"S": "xyz"}})), 5);
        assert_eq!(item_size(&json!({"n": {"N": "12345"}})), 1 + 4);
        assert_eq!(item_size(&json!({"b": {"BOOL": true}})), 2);
        assert_eq!(item_size(&json!({"m": {"M": {"k": {"S": "v"}}}})), 1 + 3 + 1 + 1 + 1);
    }

    #[test]
    fn a_counter_update_rewrites_every_index_copy_of_the_item() {
        let (old, new) = (event(1, "TIME#2027-03"), event(2, "TIME#2027-03"));
        let charges = write_charges(Some(&old), Some(&new), true);
        let scopes: Vec<(&str, &str, f64)> =
            charges.iter().map(|c| (c.scope.as_str(), c.partition.as_str(), c.units.write)).collect();
        assert_eq!(
            scopes,
            [("table", "EVENT#1", 4.0), ("gsi1", "USER#9", 4.0), ("gsi2", "TIME#2027-03", 4.0)],
            "about 1.6 KB: 2 units each, twice in a transaction"
        );
    }

    #[test]
    fn moving_an_index_key_is_a_delete_and_a_put() {
        let charges = write_charges(Some(&event(1, "TIME#2027-03")), Some(&event(1, "TIME#2027-04")), false);
        let gsi2: Vec<&str> =
            charges.iter().filter(|c| c.scope == "gsi2").map(|c| c.partition.as_str()).collect();
        assert_eq!(gsi2, ["TIME#2027-03", "TIME#2027-04"]);
    }

    #[test]
    fn an_unchanged_item_writes_no_index() {
        let charges = write_charges(Some(&event(1, "T")), Some(&event(1, "T")), false);
        assert_eq!(charges.len(), 1);
    }

    #[test]
    fn reads_are_4_kb_units_halved_when_eventually_consistent() {
        let item = json!({"d": {"S": "x".repeat(5000)}});
        assert_eq!(read_charge("gsi2", "P".into(), &[&item], false).units.read, 1.0);
        assert_eq!(read_charge("table", "P".into(), &[&item, &item], true).units.read, 3.0);
    }

    #[test]
    fn a_partition_past_its_limit_in_one_second_is_throttled() {
        let meter = Meter::default();
        let hot = ("table".to_owned(), "HOT".to_owned());
        let charge = |write: f64| Charge {
            scope: hot.0.clone(),
            partition: hot.1.clone(),
            units: Units { read: 0.0, write },
        };
        meter.charge(&[charge(600.0)]);
        assert!(!meter.over_limit(std::slice::from_ref(&hot), true));
        meter.charge(&[charge(600.0)]);
        assert!(meter.over_limit(std::slice::from_ref(&hot), true), "1,200 units in a second on one key");
        assert!(!meter.over_limit(std::slice::from_ref(&hot), false), "reads have their own limit");
        assert!(!meter.over_limit(&[("table".into(), "COLD".into())], true));
        assert_eq!(meter.totals()[&hot].write, 1200.0);
        meter.reset();
        assert!(meter.totals().is_empty() && !meter.over_limit(std::slice::from_ref(&hot), true));
        meter.saturate(hot.clone());
        assert!(meter.over_limit(std::slice::from_ref(&hot), true), "held at the limit");
        meter.release(&hot);
        assert!(!meter.over_limit(&[hot], true));
    }
}
