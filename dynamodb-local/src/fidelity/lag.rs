//! Index lag: a global secondary index shows a write only some time after the table took it
//! (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.Writes>:
//! "the changes are propagated asynchronously"), while DynamoDB Local updates indexes at once.
//!
//! The proxy keeps, for each item written in the last `lag`, the image it had before; a Query on
//! an index then answers with the item as it was `lag` ago: an item created since is left out,
//! an item changed since shows its earlier image (or is left out if that image was not in the
//! partition read). Not modelled: an item deleted within `lag` disappears from the index at once
//! (it should linger), and an earlier image is not re-checked against the query's sort-key
//! condition or filter.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::lock;
use super::request::{ItemKey, item_key};

/// When an item was written, and its image before (`None`: there was no item).
type Write = (Instant, Option<Value>);

/// Recent writes, item by item, oldest first.
#[derive(Default)]
pub struct RecentWrites {
    writes: Mutex<HashMap<ItemKey, Vec<Write>>>,
}

impl RecentWrites {
    /// Records that `key` was just changed from `before`.
    pub fn record(&self, key: ItemKey, before: Option<Value>, lag: Duration) {
        let now = Instant::now();
        let mut writes = lock(&self.writes);
        if writes.len() > 10_000 {
            writes.retain(|_, history| history.iter().any(|(at, _)| now.duration_since(*at) < lag));
        }
        let history = writes.entry(key).or_default();
        history.retain(|(at, _)| now.duration_since(*at) < lag);
        history.push((now, before));
    }

    /// Lets every write show in the indexes at once, as if the lag had passed.
    pub fn settle(&self) {
        lock(&self.writes).clear();
    }

    /// The image of `key` as an index shows it now: `None` when nothing was written within
    /// `lag` (the item as read is current); `Some(image)` otherwise, `Some(None)` when the item
    /// did not exist `lag` ago.
    fn visible(&self, key: &ItemKey, lag: Duration) -> Option<Option<Value>> {
        let writes = lock(&self.writes);
        let now = Instant::now();
        let (_, before) = writes.get(key)?.iter().find(|(at, _)| now.duration_since(*at) < lag)?;
        Some(before.clone())
    }

    /// Rewrites a Query answer from index `index` (whose partition key attribute is `index_pk`)
    /// as the index looked `lag` ago.
    pub fn age_answer(&self, table: &str, index_pk: &str, answer: &mut Value, lag: Duration) {
        let Some(items) = answer.get_mut("Items").and_then(Value::as_array_mut) else { return };
        items.retain_mut(|item| {
            let Some(key) = item_key(Some(table), item) else { return true };
            match self.visible(&key, lag) {
                None => true,
                Some(None) => false,
                Some(Some(before)) if before.get(index_pk) != item.get(index_pk) => false,
                Some(Some(before)) => {
                    // Only the attributes the query asked for (those the current image shows).
                    let shown: serde_json::Map<String, Value> = before
                        .as_object()
                        .into_iter()
                        .flatten()
                        .filter(|(name, _)| item.get(name.as_str()).is_some())
                        .map(|(name, value)| (name.clone(), value.clone()))
                        .collect();
                    *item = Value::Object(shown);
                    true
                }
            }
        });
        let count = items.len();
        answer["Count"] = Value::from(count);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn key(pk: &str) -> ItemKey {
        ("t".into(), json!({"S": pk}).to_string(), json!({"S": "S"}).to_string())
    }

    fn item(pk: &str, bucket: &str, title: &str) -> Value {
        json!({"pk": {"S": pk}, "sk": {"S": "S"}, "gsi2pk": {"S": bucket}, "title": {"S": title}})
    }

    #[test]
    fn an_index_answers_as_it_was_before_recent_writes() {
        let recent = RecentWrites::default();
        let lag = Duration::from_secs(60);
        recent.record(key("NEW"), None, lag);
        recent.record(key("EDITED"), Some(item("EDITED", "TIME#1", "old title")), lag);
        recent.record(key("EDITED"), Some(item("EDITED", "TIME#1", "middle title")), lag);
        recent.record(key("MOVED"), Some(item("MOVED", "TIME#0", "moved")), lag);
        let mut answer = json!({"Items": [
            item("OLD", "TIME#1", "untouched"),
            item("NEW", "TIME#1", "created"),
            item("EDITED", "TIME#1", "new title"),
            item("MOVED", "TIME#1", "moved")
        ], "Count": 4});
        recent.age_answer("t", "gsi2pk", &mut answer, lag);
        let titles: Vec<&str> =
            answer["Items"].as_array().unwrap().iter().map(|i| i["title"]["S"].as_str().unwrap()).collect();
        assert_eq!(titles, ["untouched", "old title"]);
        assert_eq!(answer["Count"], 2);

        recent.settle();
        let mut answer = json!({"Items": [item("NEW", "TIME#1", "created")], "Count": 1});
        recent.age_answer("t", "gsi2pk", &mut answer, lag);
        assert_eq!(answer["Count"], 1, "settled writes show");
    }

    #[test]
    fn writes_older_than_the_lag_show() {
        let recent = RecentWrites::default();
        recent.record(key("NEW"), None, Duration::ZERO);
        let mut answer = json!({"Items": [item("NEW", "TIME#1", "created")], "Count": 1});
        recent.age_answer("t", "gsi2pk", &mut answer, Duration::ZERO);
        assert_eq!(answer["Count"], 1);
    }
}
