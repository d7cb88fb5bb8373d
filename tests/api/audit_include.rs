//! SPEC §4 audit_event: `include=target` includes whichever resource each event's target
//! is — users, teams, memberships, devices, accounts, invitations, sessions — each once,
//! seen through its own type's visibility rules, loaded with one statement per target
//! type on the page (never one per event). A path below `target` (`target.account`) is
//! refused: the relationship may point at any type, so the server does not follow it.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::helpers::*;

// ---------------------------------------------------------------------------------
// Helpers of this file

type Key = (String, String);

/// The `(type, id)` of each primary event's `target` linkage, in order.
fn target_linkage(data: &Value) -> Vec<Key> {
    let events: Vec<&Value> = match data {
        Value::Array(events) => events.iter().collect(),
        one => vec![one],
    };
    events
        .iter()
        .map(|event| {
            let linkage = &event["relationships"]["target"]["data"];
            (
                linkage["type"].as_str().expect("target type").to_owned(),
                linkage["id"].as_str().expect("target id").to_owned(),
            )
        })
        .collect()
}

/// `included` as `(type, id)`, asserting that no resource is there twice.
#[track_caller]
fn included_once(body: &Value) -> BTreeSet<Key> {
    let keys = included_keys(body);
    let set: BTreeSet<Key> = keys.iter().cloned().collect();
    assert_eq!(set.len(), keys.len(), "a resource included twice: {keys:?}");
    set
}

/// `POST` of a new resource of `type_name`; returns its id.
async fn create(app: &TestApp, token: &str, path: &str, type_name: &str, doc: Value) -> String {
    let mut body = json!({"data": doc});
    body["data"]["type"] = json!(type_name);
    let resp = app.post(path, Some(token), &body).await;
    resp.assert_status(201);
    resp.body["data"]["id"].as_str().expect("id").to_owned()
}

async fn create_team(app: &TestApp, token: &str, name: &str) -> String {
    create(
        app,
        token,
        "/teams",
        "team",
        json!({"attributes": {"name": name}}),
    )
    .await
}

async fn create_device(app: &TestApp, token: &str, push_token: &str) -> String {
    create(
        app,
        token,
        "/devices",
        "device",
        json!({"attributes": {"device_type": "web", "token": push_token}}),
    )
    .await
}

/// The id of the one event with this action and target.
async fn event_id(app: &TestApp, token: &str, action: &str, target: &str) -> String {
    match audit_events(app, token, action, target).await.as_slice() {
        [event] => event["id"].as_str().expect("id").to_owned(),
        events => panic!("{action} of {target}: {events:?}"),
    }
}

const ADA_PASSWORD: &str = "ada-password-1";
const GUS_PASSWORD: &str = "gus-password-1";

/// Acme's audit log with targets of every kind, some of which its owner may not see.
struct World {
    app: TestApp,
    owner: Owner,
    ada: String,
    /// Soft-deleted: its events stay, it is included nowhere.
    gone_team: String,
    /// Deleted (soft) by the owner.
    gone_user: String,
    /// Ada's own session: sessions are private to their user.
    ada_session: String,
    /// The guest's session in acme.
    gus_session: String,
    /// A device of a guest homed in globex, created while signed in to acme: devices
    /// are private to their user's home account.
    guest_device: String,
}

async fn world() -> World {
    let app = spawn_app().await;
    // `account.created` (bootstrap) and `session.created` (the owner signs in).
    let owner = app.owner().await;
    let token = owner.token.clone();
    let ada = app
        .create_user(
            &token,
            json!({"name": "Ada", "email": "ada@acme.test", "password": ADA_PASSWORD}),
            Value::Null,
        )
        .await;
    let ada_signed_in = app.try_sign_in("acme", "ada@acme.test", ADA_PASSWORD).await;
    ada_signed_in.assert_status(201);
    let ada_session = ada_signed_in.body["data"]["id"]
        .as_str()
        .expect("session id")
        .to_owned();

    let team = create_team(&app, &token, "Platform").await;
    create(
        &app,
        &token,
        "/team_memberships",
        "team_membership",
        json!({"attributes": {"role": "member"}, "relationships": {
            "user": {"data": {"type": "user", "id": ada}},
            "team": {"data": {"type": "team", "id": team}}}}),
    )
    .await;
    create_device(&app, &token, "owner-push-token").await;
    app.invite_to_account(&token, "ivy@elsewhere.test", "member")
        .await;
    app.patch(
        &format!("/accounts/{}", owner.account_id),
        &token,
        &json!({"data": {"type": "account", "id": owner.account_id,
                "attributes": {"name": "Acme Inc."}}}),
    )
    .await
    .assert_status(200);
    let memberships = app
        .get(&format!("/account_memberships?filter[user]={ada}"), &token)
        .await;
    let ada_membership = memberships.ids().pop().expect("ada's membership");
    app.patch(
        &format!("/account_memberships/{ada_membership}"),
        &token,
        &json!({"data": {"type": "account_membership", "id": ada_membership,
                "attributes": {"role": "admin"}}}),
    )
    .await
    .assert_status(200);

    let gone_team = create_team(&app, &token, "Gone").await;
    app.delete(&format!("/teams/{gone_team}"), &token)
        .await
        .assert_status(204);
    let gone_user = app
        .create_user(&token, json!({"name": "Gone User"}), Value::Null)
        .await;
    app.delete(&format!("/users/{gone_user}"), &token)
        .await
        .assert_status(204);

    // Gus, homed in globex, joins acme as a guest and registers a device while signed
    // in to acme: the event is acme's, the device is not acme's to see.
    let globex = app.tenant("globex", false).await;
    app.create_user(
        &globex.token,
        json!({"name": "Gus", "email": "gus@globex.test", "password": GUS_PASSWORD}),
        Value::Null,
    )
    .await;
    let gus_home = app.sign_in("globex", "gus@globex.test", GUS_PASSWORD).await;
    app.join_as_guest(&token, &gus_home, "gus@globex.test", "member")
        .await;
    let gus_in_acme = app
        .try_sign_in("acme", "gus@globex.test", GUS_PASSWORD)
        .await;
    gus_in_acme.assert_status(201);
    let gus_session = gus_in_acme.body["data"]["id"]
        .as_str()
        .expect("session id")
        .to_owned();
    let gus_token = gus_in_acme.body["data"]["attributes"]["token"]
        .as_str()
        .expect("token");
    let guest_device = create_device(&app, gus_token, "gus-push-token").await;

    World {
        app,
        owner,
        ada,
        gone_team,
        gone_user,
        ada_session,
        gus_session,
        guest_device,
    }
}

// ---------------------------------------------------------------------------------
// Tests

#[tokio::test]
async fn include_target_includes_each_visible_target_once_whatever_its_type() {
    let w = world().await;
    let token = &w.owner.token;
    let resp = w
        .app
        .get("/audit_events?include=target&page[size]=100", token)
        .await;
    resp.assert_status(200);
    let linkage = target_linkage(&resp.body["data"]);
    let types: BTreeSet<&str> = linkage.iter().map(|(t, _)| t.as_str()).collect();
    let every_type = [
        "account",
        "account_invitation",
        "account_membership",
        "device",
        "session",
        "team",
        "team_membership",
        "user",
    ];
    assert_eq!(types, BTreeSet::from(every_type), "the scenario's targets");

    // What the owner may see of each target, asked of the target's own endpoint: a
    // live resource it may read is included, anything else is not.
    let distinct: BTreeSet<Key> = linkage.iter().cloned().collect();
    let mut expected: BTreeMap<Key, Value> = BTreeMap::new();
    for (type_name, id) in &distinct {
        let own = w.app.get(&format!("/{type_name}s/{id}"), token).await;
        let live = own.body["data"]["attributes"]["discarded_at"].is_null();
        if own.status == 200 && live {
            expected.insert((type_name.clone(), id.clone()), own.body["data"].clone());
        }
    }
    for (type_name, id) in [
        ("team", &w.gone_team),
        ("user", &w.gone_user),
        ("session", &w.ada_session),
        ("session", &w.gus_session),
        ("device", &w.guest_device),
    ] {
        let key = (type_name.to_owned(), id.clone());
        assert!(distinct.contains(&key), "no event targets {key:?}");
        assert!(!expected.contains_key(&key), "{key:?} is visible");
    }
    assert_eq!(
        included_once(&resp.body),
        expected.keys().cloned().collect::<BTreeSet<Key>>()
    );
    // Each included target is the resource its own endpoint shows the caller.
    for resource in resp.body["included"].as_array().expect("included") {
        let key = (
            resource["type"].as_str().expect("type").to_owned(),
            resource["id"].as_str().expect("id").to_owned(),
        );
        assert_eq!(Some(resource), expected.get(&key), "{key:?}");
    }
    assert!(
        included_of(&resp.body, "user").contains_key(&w.ada),
        "ada: {}",
        resp.text
    );
}

#[tokio::test]
async fn targets_the_caller_may_not_see_are_not_included_but_stay_linked() {
    let w = world().await;
    let token = &w.owner.token;
    for (action, type_name, target) in [
        ("team.deleted", "team", &w.gone_team),
        ("team.created", "team", &w.gone_team),
        ("user.deleted", "user", &w.gone_user),
        ("session.created", "session", &w.ada_session),
        ("session.created", "session", &w.gus_session),
        ("device.created", "device", &w.guest_device),
    ] {
        let event = event_id(&w.app, token, action, target).await;
        for path in [
            format!("/audit_events/{event}?include=target"),
            format!("/audit_events?filter[target]={target}&include=target"),
        ] {
            let resp = w.app.get(&path, token).await;
            resp.assert_status(200);
            assert_eq!(
                target_linkage(&resp.body["data"]).first(),
                Some(&(type_name.to_owned(), target.clone())),
                "{path}"
            );
            assert_eq!(resp.body["included"], json!([]), "{path}: {}", resp.text);
        }
    }
}

/// 10 users, 10 teams and 10 devices made by acme's owner: 30 `*.created` events of
/// three target types.
async fn thirty_events() -> (TestApp, Owner, BTreeMap<&'static str, Vec<String>>) {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let mut ids: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    for i in 0..10 {
        let user = app
            .create_user(
                &owner.token,
                json!({"name": format!("User {i}")}),
                Value::Null,
            )
            .await;
        ids.entry("user").or_default().push(user);
        let team = create_team(&app, &owner.token, &format!("Team {i}")).await;
        ids.entry("team").or_default().push(team);
        let device = create_device(&app, &owner.token, &format!("push-{i}")).await;
        ids.entry("device").or_default().push(device);
    }
    (app, owner, ids)
}

#[tokio::test]
async fn include_target_costs_one_statement_per_target_type_not_per_event() {
    let (app, owner, ids) = thirty_events().await;
    let created = "filter[action]=user.created,team.created,device.created";
    let five = [&ids["user"][..2], &ids["team"][..2], &ids["device"][..1]]
        .concat()
        .join(",");

    // Auth, the page, then one statement per target type on the page.
    for (include, extra) in [("target", 0), ("actor,target", 1)] {
        let mut counts = Vec::new();
        for (query, events) in [
            (format!("{created}&filter[target]={five}&page[size]=5"), 5),
            (format!("{created}&page[size]=25"), 25),
        ] {
            let resp = app
                .get(
                    &format!("/audit_events?{query}&include={include}"),
                    &owner.token,
                )
                .await;
            resp.assert_status(200);
            assert_eq!(resp.ids().len(), events, "{query}");
            let linkage = target_linkage(&resp.body["data"]);
            let types: BTreeSet<&str> = linkage.iter().map(|(t, _)| t.as_str()).collect();
            assert_eq!(types.len(), 3, "{query}: {types:?}");
            let targets: BTreeSet<Key> = linkage.into_iter().collect();
            // Every target, and with `actor` the owner, who made them all.
            let mut expected = targets;
            if extra == 1 {
                expected.insert(("user".to_owned(), owner.user_id.clone()));
            }
            assert_eq!(included_once(&resp.body), expected, "{query}");
            counts.push(queries(&resp));
        }
        assert_eq!(counts, vec![2 + extra + 3; 2], "include={include}");
    }

    // The count follows the number of target types on the page.
    for (types, expected) in [("user", 3), ("user,team", 4), ("user,team,device", 5)] {
        let resp = app
            .get(
                &format!("/audit_events?{created}&filter[target_type]={types}&include=target&page[size]=25"),
                &owner.token,
            )
            .await;
        resp.assert_status(200);
        assert_eq!(queries(&resp), expected, "target types {types}");
    }
    // Without include: auth and the page.
    let plain = app
        .get(
            &format!("/audit_events?{created}&page[size]=25"),
            &owner.token,
        )
        .await;
    assert_eq!(queries(&plain), 2);
}

#[tokio::test]
async fn sparse_fieldsets_apply_to_included_targets_of_each_type() {
    let w = world().await;
    let resp = w
        .app
        .get(
            "/audit_events?include=target&page[size]=100&fields[user]=name",
            &w.owner.token,
        )
        .await;
    resp.assert_status(200);
    let users = included_of(&resp.body, "user");
    assert!(users.contains_key(&w.ada), "{}", resp.text);
    for (id, user) in users {
        assert_eq!(
            user["attributes"]
                .as_object()
                .map(|a| a.keys().map(String::as_str).collect::<Vec<_>>()),
            Some(vec!["name"]),
            "{id}"
        );
        assert!(user.get("relationships").is_none(), "{user}");
    }
    // Other types keep every field.
    let teams = included_of(&resp.body, "team");
    assert!(!teams.is_empty(), "{}", resp.text);
    for team in teams.values() {
        assert!(team["attributes"]["created_at"].is_string(), "{team}");
        assert!(team["relationships"]["account"].is_object(), "{team}");
    }
}

#[tokio::test]
async fn include_target_on_a_single_event() {
    let w = world().await;
    let token = &w.owner.token;
    let event = event_id(&w.app, token, "user.created", &w.ada).await;
    let resp = w
        .app
        .get(&format!("/audit_events/{event}?include=target"), token)
        .await;
    resp.assert_status(200);
    assert_eq!(resp.body["data"]["id"], event);
    assert_eq!(
        included_once(&resp.body),
        BTreeSet::from([("user".to_owned(), w.ada.clone())])
    );

    // The owner renames itself: actor and target are one user, included once.
    w.app
        .patch(
            &format!("/users/{}", w.owner.user_id),
            token,
            &json!({"data": {"type": "user", "id": w.owner.user_id,
                    "attributes": {"name": "Olivia O."}}}),
        )
        .await
        .assert_status(200);
    let event = event_id(&w.app, token, "user.updated", &w.owner.user_id).await;
    let resp = w
        .app
        .get(
            &format!("/audit_events/{event}?include=actor,target"),
            token,
        )
        .await;
    resp.assert_status(200);
    assert_eq!(
        included_once(&resp.body),
        BTreeSet::from([("user".to_owned(), w.owner.user_id.clone())])
    );
    assert_eq!(resp.body["included"][0]["attributes"]["name"], "Olivia O.");

    // Actor and target of different types.
    let team = included_of(
        &w.app
            .get(
                "/audit_events?filter[action]=team.created&include=actor,target",
                token,
            )
            .await
            .body,
        "team",
    )
    .len();
    assert_eq!(team, 1, "the live team");
}

#[tokio::test]
async fn paths_below_target_are_refused() {
    let w = world().await;
    let token = &w.owner.token;
    let event = event_id(&w.app, token, "user.created", &w.ada).await;
    for path in [
        "/audit_events?include=target.account".to_owned(),
        "/audit_events?include=actor,target.teams.users".to_owned(),
        format!("/audit_events/{event}?include=target.account"),
    ] {
        let resp = w.app.get(&path, token).await;
        resp.assert_error(400, "invalid_parameter");
        assert_eq!(resp.error()["source"]["parameter"], "include", "{path}");
        let detail = resp.error()["detail"].as_str().unwrap_or("");
        assert!(
            detail.contains("`target`") && detail.contains("several types"),
            "{path}: {detail}"
        );
    }
    // Paths through `actor` go on as usual beside `target`.
    let resp = w
        .app
        .get(
            &format!("/audit_events/{event}?include=actor.account,target"),
            token,
        )
        .await;
    resp.assert_status(200);
    let included = included_once(&resp.body);
    assert!(included.contains(&("user".to_owned(), w.ada.clone())));
    assert!(included.contains(&("account".to_owned(), w.owner.account_id.clone())));
}

#[tokio::test]
async fn the_openapi_description_allows_include_target_on_audit_events() {
    let app = spawn_app().await;
    let doc = app.get("/api/v1/openapi.json", "").await.body;
    for path in ["/api/v1/audit_events", "/api/v1/audit_events/{id}"] {
        let parameters = doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("no parameters of GET {path}"));
        let include = parameters
            .iter()
            .find(|p| p["name"] == "include")
            .unwrap_or_else(|| panic!("no include on GET {path}"));
        let pattern = include["schema"]["pattern"].as_str().expect("pattern");
        let pattern = regex::Regex::new(pattern).expect("a pattern the regex crate reads");
        for value in [
            "target",
            "actor,target",
            "target,actor.account",
            "actor.teams",
        ] {
            assert!(pattern.is_match(value), "{path}: `{value}` ~ {pattern}");
        }
        for value in [
            "target.account",
            "actor.target",
            "targets",
            "target,",
            "users",
        ] {
            assert!(!pattern.is_match(value), "{path}: `{value}` !~ {pattern}");
        }
    }
}

// ---------------------------------------------------------------------------------
// `/audit_events/{id}/relationships/target` and `/audit_events/{id}/target`: the links
// every event's `target` carries (SPEC §2) answer, whatever the target's type.

/// The event's own `relationships.target` member.
async fn target_member(app: &TestApp, token: &str, event: &str) -> Value {
    let resp = app.get(&format!("/audit_events/{event}"), token).await;
    resp.assert_status(200);
    resp.body["data"]["relationships"]["target"].clone()
}

#[tokio::test]
async fn the_target_relationship_endpoint_gives_the_linkage_whatever_the_type() {
    let w = world().await;
    let token = &w.owner.token;
    let team = create_team(&w.app, token, "Live").await;
    for (action, type_name, target) in [
        ("user.created", "user", &w.ada),
        ("team.created", "team", &team),
        ("session.created", "session", &w.ada_session),
        // Targets the owner may not see: the linkage stays, as in the event itself.
        ("session.created", "session", &w.gus_session),
        ("team.deleted", "team", &w.gone_team),
        ("user.deleted", "user", &w.gone_user),
        ("device.created", "device", &w.guest_device),
    ] {
        let event = event_id(&w.app, token, action, target).await;
        let member = target_member(&w.app, token, &event).await;
        let link = member["links"]["self"].as_str().expect("links.self");
        let resp = w.app.get(link, token).await;
        resp.assert_status(200);
        assert_eq!(
            resp.body["data"],
            json!({"type": type_name, "id": target}),
            "{action} {target}: {}",
            resp.text
        );
        assert_eq!(resp.body["data"], member["data"], "{action}");
        assert_eq!(resp.body["links"]["self"], member["links"]["self"]);
        assert_eq!(resp.body["links"]["related"], member["links"]["related"]);
    }
}

#[tokio::test]
async fn the_target_related_endpoint_is_the_target_as_its_own_endpoint_shows_it() {
    let w = world().await;
    let token = &w.owner.token;
    let team = create_team(&w.app, token, "Live").await;
    for (action, type_name, path, target) in [
        ("user.created", "user", "users", &w.ada),
        ("team.created", "team", "teams", &team),
    ] {
        let event = event_id(&w.app, token, action, target).await;
        let member = target_member(&w.app, token, &event).await;
        let related = member["links"]["related"].as_str().expect("links.related");
        let resp = w.app.get(related, token).await;
        resp.assert_status(200);
        let own = w.app.get(&format!("/{path}/{target}"), token).await;
        own.assert_status(200);
        assert_eq!(resp.body["data"]["type"], type_name, "{}", resp.text);
        assert_eq!(resp.body["data"]["id"], target.as_str());
        assert!(
            resp.body["data"]["meta"]["permissions"]["actions"].is_object(),
            "{}",
            resp.text
        );
        assert_eq!(resp.body["data"], own.body["data"], "{action}");
        assert_eq!(resp.body["links"]["self"], related);
    }

    // `fields` of the target's type apply; `include` below the target is refused, as
    // `include=target.account` is on the event.
    let event = event_id(&w.app, token, "user.created", &w.ada).await;
    let sparse = w
        .app
        .get(
            &format!("/audit_events/{event}/target?fields[user]=name"),
            token,
        )
        .await;
    sparse.assert_status(200);
    assert_eq!(sparse.body["data"]["attributes"], json!({"name": "Ada"}));
    assert!(sparse.body["data"].get("relationships").is_none());
    for query in ["include=account", "include=teams.users"] {
        for endpoint in ["target", "relationships/target"] {
            let resp = w
                .app
                .get(&format!("/audit_events/{event}/{endpoint}?{query}"), token)
                .await;
            resp.assert_error(400, "invalid_parameter");
            assert_eq!(resp.error()["source"]["parameter"], "include");
            let detail = resp.error()["detail"].as_str().unwrap_or("");
            assert!(
                detail.contains("`audit_event.target`") && detail.contains("several types"),
                "{endpoint}?{query}: {detail}"
            );
        }
    }
    let empty = w
        .app
        .get(&format!("/audit_events/{event}/target?include="), token)
        .await;
    empty.assert_status(200);
    assert_eq!(empty.body["included"], json!([]));
}

#[tokio::test]
async fn a_target_the_caller_may_not_see_is_null_as_on_other_to_one_related_endpoints() {
    let w = world().await;
    let token = &w.owner.token;
    // Another to-one related endpoint with a target the owner may no longer see: the
    // actor of an event, deleted since.
    let (max, max_token) = w
        .app
        .member(token, "acme", "Max", "max@acme.test", "admin")
        .await;
    let team = create_team(&w.app, &max_token, "Max's").await;
    w.app
        .delete(&format!("/users/{max}"), token)
        .await
        .assert_status(204);
    let by_max = event_id(&w.app, token, "team.created", &team).await;
    let actor = w
        .app
        .get(&format!("/audit_events/{by_max}/actor"), token)
        .await;
    actor.assert_status(200);
    assert_eq!(actor.body["data"], Value::Null, "{}", actor.text);

    for (action, target) in [
        ("team.deleted", &w.gone_team),
        ("team.created", &w.gone_team),
        ("user.deleted", &w.gone_user),
        ("session.created", &w.ada_session),
        ("session.created", &w.gus_session),
        ("device.created", &w.guest_device),
    ] {
        let event = event_id(&w.app, token, action, target).await;
        let resp = w
            .app
            .get(&format!("/audit_events/{event}/target"), token)
            .await;
        resp.assert_status(200);
        assert_eq!(
            resp.body["data"],
            Value::Null,
            "{action} {target}: {}",
            resp.text
        );
        assert_eq!(
            resp.body["links"]["self"],
            format!("{}/audit_events/{event}/target", w.app.api_base()),
        );
    }
    // An event that does not exist, or another account's, is a 404 on both.
    let globex = w.app.tenant("initech", false).await;
    let event = event_id(&w.app, token, "team.deleted", &w.gone_team).await;
    for path in [
        format!("/audit_events/{event}/target"),
        format!("/audit_events/{event}/relationships/target"),
        "/audit_events/01900000-0000-7000-8000-000000000000/target".to_owned(),
    ] {
        let who = if path.contains(&event) {
            &globex.token
        } else {
            token
        };
        w.app.get(&path, who).await.assert_error(404, "not_found");
    }
}

#[tokio::test]
async fn members_may_not_read_audit_events_through_their_relationships_either() {
    let w = world().await;
    let token = &w.owner.token;
    let (_, member_token) = w
        .app
        .member(token, "acme", "Mo", "mo@acme.test", "member")
        .await;
    let event = event_id(&w.app, token, "user.created", &w.ada).await;
    for path in [
        format!("/audit_events/{event}"),
        format!("/audit_events/{event}/target"),
        format!("/audit_events/{event}/relationships/target"),
        format!("/audit_events/{event}/actor"),
        format!("/audit_events/{event}/relationships/actor"),
    ] {
        w.app
            .get(&path, &member_token)
            .await
            .assert_error(403, "forbidden");
    }
}

#[tokio::test]
async fn every_relationship_the_description_lists_for_audit_events_answers() {
    let w = world().await;
    let token = &w.owner.token;
    let event = event_id(&w.app, token, "user.created", &w.ada).await;
    let doc = w.app.get("/api/v1/openapi.json", "").await.body;
    // Each related and relationship endpoint is described as its own path.
    let paths = doc["paths"].as_object().expect("paths");
    for (template, prefix) in [
        ("/api/v1/audit_events/{id}/", ""),
        ("/api/v1/audit_events/{id}/relationships/", "relationships/"),
    ] {
        let names: Vec<&str> = paths
            .iter()
            .filter(|(_, item)| item.get("get").is_some())
            .filter_map(|(path, _)| path.strip_prefix(template))
            .filter(|rest| !rest.is_empty() && !rest.contains('/'))
            .collect();
        assert_eq!(names, ["actor", "target"], "{template}");
        for name in names {
            let resp = w
                .app
                .get(&format!("/audit_events/{event}/{prefix}{name}"), token)
                .await;
            resp.assert_status(200);
            assert!(
                resp.body["data"].is_object(),
                "{template} {name}: {}",
                resp.text
            );
        }
    }
}
