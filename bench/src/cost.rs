//! What each main endpoint costs in capacity units, in the table and in each index, beside its
//! floor: the fewest units the data it must read or write needs, sent as bare calls through the
//! same meter. For a registration the floor is the registration item with the two index entries
//! its lists need, plus a counter on a small item that no index holds.

use std::collections::BTreeMap;
use std::future::Future;

use dynamodb_local::fidelity::throughput::Units;
use dynamodb_local::fidelity::{Behaviours, Fidelity};
use serde_json::{Value, json};
use shared::domain::{Id, Instant};
use shared::store::conditions;
use shared::store::keys::Key;
use shared::store::tx::{Write, n, s};

use crate::fixtures::{self, Result, Served};
use crate::floor::{self, Registrant};
use crate::overhead::Context;
use crate::report::{Report, heading};

/// Requests per endpoint; units are averaged over them.
const SAMPLES: usize = 20;

/// Units per request by scope (table, gsi1, ...), averaged over `SAMPLES` runs of `call`.
async fn metered<F, Fut>(fidelity: &Fidelity, mut call: F) -> Result<BTreeMap<String, Units>>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    fidelity.reset_units();
    for i in 0..SAMPLES {
        call(i).await?;
    }
    let mut by_scope: BTreeMap<String, Units> = BTreeMap::new();
    for ((scope, _), units) in fidelity.units() {
        let entry = by_scope.entry(scope).or_default();
        entry.read += units.read / SAMPLES as f64;
        entry.write += units.write / SAMPLES as f64;
    }
    Ok(by_scope)
}

fn total(by_scope: &BTreeMap<String, Units>) -> Units {
    by_scope
        .values()
        .fold(Units::default(), |sum, u| Units { read: sum.read + u.read, write: sum.write + u.write })
}

fn line(by_scope: &BTreeMap<String, Units>) -> String {
    let parts: Vec<String> = by_scope
        .iter()
        .map(|(scope, u)| match (u.write > 0.0, u.read > 0.0) {
            (true, true) => format!("{scope} {:.1}W {:.1}R", u.write, u.read),
            (true, false) => format!("{scope} {:.1}W", u.write),
            _ => format!("{scope} {:.1}R", u.read),
        })
        .collect();
    parts.join(", ")
}

fn compare(name: &str, api: &BTreeMap<String, Units>, floor: &BTreeMap<String, Units>, report: &mut Report) {
    let (a, f) = (total(api), total(floor));
    let ratio = |x: f64, y: f64| if y > 0.0 { format!("{:.1}x", x / y) } else { "-".to_owned() };
    println!("\n  {name}");
    println!("    API    {:>5.1} WCU {:>5.1} RCU   ({})", a.write, a.read, line(api));
    println!("    floor  {:>5.1} WCU {:>5.1} RCU   ({})", f.write, f.read, line(floor));
    println!("    API ÷ floor: writes {}, reads {}", ratio(a.write, f.write), ratio(a.read, f.read));
    report.add(
        "cost",
        name,
        format!(
            "{:.1} WCU {:.1} RCU vs floor {:.1} WCU {:.1} RCU (writes {}, reads {})",
            a.write,
            a.read,
            f.write,
            f.read,
            ratio(a.write, f.write),
            ratio(a.read, f.read)
        ),
    );
}

/// Sends `writes` as one bare transaction (a floor's calls).
async fn transact(client: &aws_sdk_dynamodb::Client, table: &str, writes: Vec<Write>) -> Result<()> {
    let items =
        writes.into_iter().map(|w| w.into_transact(table)).collect::<std::result::Result<Vec<_>, _>>()?;
    floor::register(client, items, false).await.map(|_| ())
}

async fn send(request: reqwest::RequestBuilder, expect: u16) -> Result<Value> {
    let response = request.send().await?;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or_default();
    if status != expect {
        return Err(format!("expected {expect}, got {status}: {body}").into());
    }
    Ok(body)
}

pub async fn bench(ctx: &Context<'_>, report: &mut Report) -> Result<()> {
    heading(
        "Capacity units per request: each endpoint beside its floor",
        &format!(
            "Units as AWS documents them (the fidelity proxy's meter), in the table and each index, averaged over\n\
             {SAMPLES} requests each. The floor: the fewest units the data needs, sent as bare calls through the\n\
             same meter (for a registration: the registration item with its two index entries, and a counter on\n\
             a small item no index holds)."
        ),
    );
    let (table, _setup) = fixtures::fresh_table(ctx.endpoint, "cost").await?;
    let fidelity =
        Fidelity::start(&ctx.proxy.endpoint, Behaviours { metering: true, ..Behaviours::none() }).await;
    let served = Served::start(&table, &fidelity.endpoint).await?;
    let bare = fixtures::bare_client(&fidelity.endpoint);
    let http = ctx.http;
    let organizer = fixtures::users(&served.state, "organizer", 1).await?.remove(0);
    let people = fixtures::users(&served.state, "attendee", SAMPLES * 2).await?;
    let starts = chrono::Utc::now() + chrono::Duration::days(30);
    let event_body = |title: String, capacity: usize| {
        json!({"title": title, "description": "A day of talks, workshops and conversations. ".repeat(8),
               "starts_at": starts.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
               "location": "Lisbon", "capacity": capacity, "category": "conference"})
    };

    // POST /events, beside a PutItem of the same item (with its index keys) under a new id.
    let created = std::sync::Mutex::new(Vec::new());
    let api = metered(&fidelity, |i| {
        let request = http
            .post(served.url("/events"))
            .bearer_auth(&organizer.token)
            .json(&event_body(format!("Event {i}"), SAMPLES));
        let created = &created;
        async move {
            let body = send(request, 201).await?;
            let id = body["id"].as_str().ok_or("an event id")?.to_owned();
            created.lock().map_err(|_| "a poisoned lock")?.push(id);
            Ok(())
        }
    })
    .await?;
    let created = created.into_inner().map_err(|_| "a poisoned lock")?;
    let stored = bare
        .get_item()
        .table_name(&table)
        .key("pk", s(format!("EVENT#{}", created[0])))
        .key("sk", s("EVENT"))
        .consistent_read(true)
        .send()
        .await?
        .item
        .ok_or("the created event")?;
    let floor_units = metered(&fidelity, |_| {
        let mut copy = stored.clone();
        copy.insert("pk".into(), s(format!("EVENT#{}", Id::new())));
        let put = bare.put_item().table_name(&table).set_item(Some(copy));
        async move { Ok(put.send().await.map(|_| ())?) }
    })
    .await?;
    compare("POST /events", &api, &floor_units, report);

    // GET /events/{id}, beside the bare reads of the event and its seat shards.
    let event = created[0].clone();
    let api = metered(&fidelity, |_| {
        let request = http.get(served.url(&format!("/events/{event}")));
        async move { send(request, 200).await.map(|_| ()) }
    })
    .await?;
    let event_id = Id::parse(&event).ok_or("an event id")?;
    // As stored: an event without the attribute has the one shard.
    let shards = stored.get("seat_shards").and_then(|v| v.as_n().ok()).map_or(Ok(1), |n| n.parse())?;
    let floor_units = metered(&fidelity, |_| floor::get_event(&bare, &table, event_id, shards)).await?;
    compare("GET /events/{id}", &api, &floor_units, report);

    // POST /events/{id}/registrations for a seat, beside the minimal registration transaction.
    let roomy = send(
        http.post(served.url("/events"))
            .bearer_auth(&organizer.token)
            .json(&event_body("Roomy".into(), 1000)),
        201,
    )
    .await?["id"]
        .as_str()
        .ok_or("an event id")?
        .to_owned();
    let api = metered(&fidelity, |i| {
        let request =
            http.post(served.url(&format!("/events/{roomy}/registrations"))).bearer_auth(&people[i].token);
        async move { send(request, 201).await.map(|_| ()) }
    })
    .await?;
    let counter = Key { pk: format!("EVENT#{}", Id::new()), sk: "SEATS".into() };
    bare.put_item()
        .table_name(&table)
        .item("pk", s(&counter.pk))
        .item("sk", s(&counter.sk))
        .item("confirmed_count", n(0))
        .item("capacity", n(1000))
        .send()
        .await?;
    let floor_event = Id::new();
    let floor_units = metered(&fidelity, |i| {
        let who = Registrant {
            event: floor_event,
            event_starts_at: Instant::now().plus_seconds(30 * 86_400),
            user: people[SAMPLES + i].id,
            username: &people[SAMPLES + i].username,
            shard: 0,
        };
        let writes = floor::registration_item(&who, Instant::now()).map(|item| {
            vec![
                Write::update(counter.clone(), "SET confirmed_count = confirmed_count + :one")
                    .when(conditions::below_capacity())
                    .value(":one", n(1)),
                Write::put(item).when(conditions::absent()),
                Write::check(shared::store::keys::user(who.user), conditions::exists()),
            ]
        });
        let (bare, table) = (&bare, &table);
        async move { transact(bare, table, writes?).await }
    })
    .await?;
    compare("POST /events/{id}/registrations (a seat)", &api, &floor_units, report);

    // DELETE /events/{id}/registrations/me with nobody waiting, beside deleting the registration
    // and giving the seat back on the small counter item.
    let api = metered(&fidelity, |i| {
        let request = http
            .delete(served.url(&format!("/events/{roomy}/registrations/me")))
            .bearer_auth(&people[i].token);
        async move {
            let response = request.send().await?;
            if response.status().as_u16() != 204 {
                return Err(format!("cancel answered {}", response.status()).into());
            }
            Ok(())
        }
    })
    .await?;
    let floor_units = metered(&fidelity, |i| {
        let writes = vec![
            Write::delete(shared::store::keys::registration(floor_event, people[SAMPLES + i].id)),
            Write::update(counter.clone(), "SET confirmed_count = confirmed_count - :one")
                .value(":one", n(1)),
        ];
        let (bare, table) = (&bare, &table);
        async move { transact(bare, table, writes).await }
    })
    .await?;
    compare("DELETE /events/{id}/registrations/me", &api, &floor_units, report);

    // GET /events/upcoming (a page of 20), beside one eventually consistent Query of 21 of the
    // same event items read together: the organizer's, whose gsi1 partition holds them all (the
    // time index spreads a month over shards, so no one partition of it holds a page).
    let api = metered(&fidelity, |_| {
        let request = http.get(served.url("/events/upcoming?limit=20"));
        async move { send(request, 200).await.map(|_| ()) }
    })
    .await?;
    let floor_units = metered(&fidelity, |_| {
        let query = bare
            .query()
            .table_name(&table)
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :pk AND begins_with(gsi1sk, :events)")
            .expression_attribute_values(":pk", s(format!("USER#{}", organizer.id)))
            .expression_attribute_values(":events", s("EVENT#"))
            .limit(21);
        async move { Ok(query.send().await.map(|_| ())?) }
    })
    .await?;
    compare("GET /events/upcoming (20 per page)", &api, &floor_units, report);

    // PATCH /events/{id} (the title), beside an UpdateItem of the title.
    let api = metered(&fidelity, |i| {
        let request = http
            .patch(served.url(&format!("/events/{}", created[i])))
            .bearer_auth(&organizer.token)
            .json(&json!({"title": format!("Edited {i}")}));
        async move { send(request, 200).await.map(|_| ()) }
    })
    .await?;
    let floor_units = metered(&fidelity, |i| {
        let update = bare
            .update_item()
            .table_name(&table)
            .key("pk", s(format!("EVENT#{}", created[i])))
            .key("sk", s("EVENT"))
            .update_expression("SET title = :t")
            .expression_attribute_values(":t", s(format!("Edited again {i}")));
        async move { Ok(update.send().await.map(|_| ())?) }
    })
    .await?;
    compare("PATCH /events/{id} (title)", &api, &floor_units, report);
    Ok(())
}
