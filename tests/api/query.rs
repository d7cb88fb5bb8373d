//! SPEC §3 on `/users`: filters, sorts, sparse fieldsets, includes, both pagination
//! styles.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::{Value, json};

use crate::helpers::*;

/// The users of `acme`, made so that every filter and sort has something to tell apart:
/// distinct creation times, a shared name, a null email, every reachable status, some
/// sign-ins, a later update, teams, and one deleted user.
struct People {
    owner: Owner,
    ids: HashMap<&'static str, String>,
    created_at: HashMap<&'static str, String>,
    platform: String,
    design: String,
    empty_team: String,
}

impl People {
    fn id(&self, name: &str) -> String {
        self.ids[name].clone()
    }
    fn set(&self, names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| self.id(n)).collect()
    }
}

async fn people(app: &TestApp) -> People {
    let owner = app.owner().await;
    let mut ids = HashMap::new();
    let mut created_at = HashMap::new();
    ids.insert("owner", owner.user_id.clone());
    let specs: [(&str, Value, Value); 8] = [
        (
            "ada",
            json!({"name": "Ada Lovelace", "email": "ada@acme.test", "identifier": "emp-1",
                   "password": "ada-password-1"}),
            Value::Null,
        ),
        (
            "grace",
            json!({"name": "Grace Hopper", "email": "Grace@ACME.test", "identifier": "emp-2"}),
            Value::Null,
        ),
        (
            "alan",
            json!({"name": "Alan Turing", "email": "alan@acme.test"}),
            json!({"invite": true}),
        ),
        (
            "sam1",
            json!({"name": "Sam Same", "email": "sam1@acme.test", "password": "sam-password-1"}),
            Value::Null,
        ),
        (
            "sam2",
            json!({"name": "Sam Same", "email": "sam2@acme.test"}),
            Value::Null,
        ),
        (
            "edsger",
            json!({"name": "Edsger Dijkstra", "email": "edsger@acme.test",
                   "password": "edsger-password"}),
            Value::Null,
        ),
        (
            "barbara",
            json!({"name": "Barbara Liskov", "identifier": "emp-7"}),
            Value::Null,
        ),
        (
            "zed",
            json!({"name": "Zed Deleted", "email": "zed@acme.test"}),
            Value::Null,
        ),
    ];
    for (key, attributes, meta) in specs {
        app.clock.advance(10);
        let resp = app.try_create_user(&owner.token, attributes, meta).await;
        resp.assert_status(201);
        ids.insert(key, resp.body["data"]["id"].as_str().unwrap().to_owned());
        created_at.insert(
            key,
            resp.body["data"]["attributes"]["created_at"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    app.clock.advance(10);
    app.sign_in("acme", "ada@acme.test", "ada-password-1").await;
    app.clock.advance(10);
    app.sign_in("acme", "edsger@acme.test", "edsger-password")
        .await;
    app.set_status(&ids["edsger"], "deactivated");
    app.clock.advance(10);
    app.patch(
        &format!("/users/{}", ids["grace"]),
        &owner.token,
        &json!({"data": {"type": "user", "id": ids["grace"], "attributes": {"timezone": "America/New_York"}}}),
    )
    .await
    .assert_status(200);

    let platform = app.insert_team(&owner.account_id, "Platform");
    let design = app.insert_team(&owner.account_id, "Design");
    let empty_team = app.insert_team(&owner.account_id, "Empty");
    app.add_to_team(&platform, &ids["ada"], "maintainer");
    app.add_to_team(&platform, &ids["grace"], "member");
    app.add_to_team(&design, &ids["grace"], "maintainer");
    app.add_to_team(&design, &owner.user_id, "member");
    app.add_to_team(&design, &ids["zed"], "member");

    app.delete(&format!("/users/{}", ids["zed"]), &owner.token)
        .await
        .assert_status(204);
    People {
        owner,
        ids,
        created_at,
        platform,
        design,
        empty_team,
    }
}

const LIVE: [&str; 8] = [
    "owner", "ada", "grace", "alan", "sam1", "sam2", "edsger", "barbara",
];

/// The set of ids a filtered list returns (checking `meta.total` too).
async fn ids_of(app: &TestApp, token: &str, path: &str) -> BTreeSet<String> {
    let resp = app.get(path, token).await;
    resp.assert_status(200);
    let ids = resp.ids();
    assert_eq!(resp.body["meta"]["total"], ids.len(), "{path}");
    let set: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(set.len(), ids.len(), "duplicates in {path}");
    set
}

#[tokio::test]
async fn filters_on_several_values_take_quotes_backslashes_and_braces_literally() {
    // Several values are bound as one array parameter; its quoting must not let a value
    // that looks like array syntax match anything but itself.
    let app = spawn_app().await;
    let owner = app.owner().await;
    let mut ids = std::collections::HashMap::new();
    for identifier in [r#"say "hi""#, r"back\slash", "{brace}", "NULL", "plain"] {
        let id = app
            .create_user(
                &owner.token,
                json!({"name": "Someone", "identifier": identifier}),
                Value::Null,
            )
            .await;
        ids.insert(identifier, id);
    }
    let expect =
        |names: &[&str]| -> BTreeSet<String> { names.iter().map(|n| ids[n].clone()).collect() };
    let cases: [(&str, &[&str]); 3] = [
        (
            "filter[identifier]=say%20%22hi%22,back%5Cslash,%7Bbrace%7D,NULL",
            &[r#"say "hi""#, r"back\slash", "{brace}", "NULL"],
        ),
        ("filter[identifier]=NULL,nothing", &["NULL"]),
        ("filter[identifier]=%7Bbrace%7D,%22,%5C", &["{brace}"]),
    ];
    for (query, names) in cases {
        let resp = app.get(&format!("/users?{query}"), &owner.token).await;
        resp.assert_status(200);
        let found: BTreeSet<String> = crate::helpers::ids(&resp.body["data"])
            .into_iter()
            .collect();
        assert_eq!(found, expect(names), "{query}");
    }
}

#[tokio::test]
async fn every_user_filter_selects_what_it_says() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let token = p.owner.token.clone();
    let cases: Vec<(String, Vec<&str>)> = vec![
        ("filter[status]=active".into(), vec!["owner", "ada", "sam1"]),
        (
            "filter[status]=active,invited".into(),
            vec!["owner", "ada", "sam1", "alan"],
        ),
        (
            "filter[status]=created".into(),
            vec!["grace", "sam2", "barbara"],
        ),
        ("filter[status]=deactivated".into(), vec!["edsger"]),
        ("filter[email]=ADA@ACME.TEST".into(), vec!["ada"]),
        ("filter[email]=grace@acme.test".into(), vec!["grace"]),
        (
            "filter[email]=ada@acme.test,alan@acme.test".into(),
            vec!["ada", "alan"],
        ),
        ("filter[email]=ada@acme".into(), vec![]),
        ("filter[identifier]=emp-2".into(), vec!["grace"]),
        (
            "filter[identifier]=emp-1,emp-7".into(),
            vec!["ada", "barbara"],
        ),
        ("filter[name]=LOVE".into(), vec!["ada"]),
        ("filter[name]=sam%20s".into(), vec!["sam1", "sam2"]),
        ("filter[name]=%25".into(), vec![]),
        ("filter[name]=_".into(), vec![]),
        ("filter[q]=hopper".into(), vec!["grace"]),
        ("filter[q]=SAM2".into(), vec!["sam2"]),
        (
            "filter[q]=acme.test".into(),
            vec!["owner", "ada", "grace", "alan", "sam1", "sam2", "edsger"],
        ),
        (
            format!(
                "filter[created_at][gte]={}&filter[created_at][lt]={}",
                p.created_at["ada"], p.created_at["alan"]
            ),
            vec!["ada", "grace"],
        ),
        (
            format!(
                "filter[created_at][gt]={}&filter[created_at][lte]={}",
                p.created_at["ada"], p.created_at["alan"]
            ),
            vec!["grace", "alan"],
        ),
        (
            format!("filter[created_at]={}", p.created_at["sam1"]),
            vec!["sam1"],
        ),
        (
            format!("filter[created_at][lt]={}", p.created_at["ada"]),
            vec!["owner"],
        ),
        (format!("filter[team]={}", p.platform), vec!["ada", "grace"]),
        (
            format!("filter[team]={},{}", p.platform, p.design),
            vec!["ada", "grace", "owner"],
        ),
        (format!("filter[team]={}", p.empty_team), vec![]),
        ("filter[discarded]=only".into(), vec!["zed"]),
        (
            "filter[discarded]=all".into(),
            LIVE.iter().copied().chain(["zed"]).collect(),
        ),
        (
            "filter[status]=active&filter[name]=sam".into(),
            vec!["sam1"],
        ),
        (
            format!("filter[team]={}&filter[status]=created", p.design),
            vec!["grace"],
        ),
    ];
    for (query, expected) in cases {
        let got = ids_of(&app, &token, &format!("/users?{query}&page[size]=100")).await;
        assert_eq!(got, p.set(&expected), "{query}");
    }
}

#[tokio::test]
async fn a_time_filter_accepts_offsets_and_is_compared_in_utc() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let ada = time(&json!(p.created_at["ada"]));
    // The same instant two hours east of UTC (`+` percent-encoded).
    let shifted = (ada + chrono::Duration::hours(2))
        .format("%Y-%m-%dT%H:%M:%S%.6f%%2B02:00")
        .to_string();
    let got = ids_of(
        &app,
        &p.owner.token,
        &format!("/users?filter[created_at]={shifted}"),
    )
    .await;
    assert_eq!(got, p.set(&["ada"]));
}

#[tokio::test]
async fn malformed_or_unknown_filters_are_400_naming_the_parameter() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    for (query, parameter) in [
        ("filter[status]=sleeping", "filter[status]"),
        ("filter[status]=active,", "filter[status]"),
        (
            "filter[created_at][gte]=yesterday",
            "filter[created_at][gte]",
        ),
        (
            "filter[created_at][after]=2026-01-01T00:00:00Z",
            "filter[created_at][after]",
        ),
        ("filter[team]=not-a-uuid", "filter[team]"),
        ("filter[nope]=1", "filter[nope]"),
        ("filter[name][gte]=a", "filter[name][gte]"),
        ("filter[discarded]=some", "filter[discarded]"),
        ("sort=nope", "sort"),
        ("sort=password", "sort"),
        ("sort=", "sort"),
        ("page[number]=0", "page[number]"),
        ("page[size]=0", "page[size]"),
        ("page[size]=ten", "page[size]"),
        ("page[offset]=3", "page[offset]"),
        ("fields[user]=password", "fields[user]"),
        ("fields[user]=nope", "fields[user]"),
        ("fields[nope]=name", "fields[nope]"),
        ("include=nope", "include"),
        ("include=teams.nope", "include"),
    ] {
        let resp = app.get(&format!("/users?{query}"), &owner.token).await;
        resp.assert_error(400, "invalid_parameter");
        assert_eq!(
            resp.error()["source"],
            json!({"parameter": parameter}),
            "{query}: {}",
            resp.text
        );
    }
}

/// The key a user sorts by, as the server should compare it (`None`: null).
fn sort_key(user: &Value, field: &str) -> Option<String> {
    let attributes = &user["attributes"];
    if field == "alive" {
        let alive =
            ["active", "created", "invited"].contains(&attributes["status"].as_str().unwrap());
        return Some(if alive { "0" } else { "1" }.to_owned());
    }
    // Timestamps are fixed-width, so their text order is their time order.
    attributes[field].as_str().map(str::to_owned)
}

/// Checks that `list` is ordered by `field` (descending with `-`), nulls together at one
/// end, ties broken by ascending id. Returns whether nulls came first.
#[track_caller]
fn assert_sorted(list: &[Value], sort: &str) -> Option<bool> {
    let (field, descending) = match sort.strip_prefix('-') {
        Some(f) => (f, true),
        None => (sort, false),
    };
    let keyed: Vec<(Option<String>, String)> = list
        .iter()
        .map(|u| (sort_key(u, field), u["id"].as_str().unwrap().to_owned()))
        .collect();
    let nulls = keyed.iter().filter(|(k, _)| k.is_none()).count();
    let nulls_first = (nulls > 0 && nulls < keyed.len()).then(|| keyed[0].0.is_none());
    let mut expected = keyed.clone();
    expected.sort_by(|(ka, ia), (kb, ib)| {
        let by_key = match (ka, kb) {
            (None, None) => std::cmp::Ordering::Equal,
            (None, Some(_)) => {
                if nulls_first == Some(true) {
                    std::cmp::Ordering::Less
                } else {
                    std::cmp::Ordering::Greater
                }
            }
            (Some(_), None) => {
                if nulls_first == Some(true) {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Less
                }
            }
            (Some(a), Some(b)) => {
                if descending {
                    b.cmp(a)
                } else {
                    a.cmp(b)
                }
            }
        };
        by_key.then_with(|| ia.cmp(ib))
    });
    assert_eq!(keyed, expected, "sort={sort}");
    nulls_first
}

#[tokio::test]
async fn every_user_sort_orders_with_ties_broken_by_id() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let all = ids_of(&app, &p.owner.token, "/users?page[size]=100").await;
    for field in [
        "name",
        "email",
        "status",
        "created_at",
        "updated_at",
        "last_sign_in_at",
        "alive",
    ] {
        let mut nulls_first = Vec::new();
        for sort in [field.to_owned(), format!("-{field}")] {
            let resp = app
                .get(
                    &format!("/users?sort={sort}&page[size]=100"),
                    &p.owner.token,
                )
                .await;
            resp.assert_status(200);
            let list = resp.body["data"].as_array().unwrap();
            assert_eq!(
                list.iter()
                    .map(|u| u["id"].as_str().unwrap().to_owned())
                    .collect::<BTreeSet<_>>(),
                all,
                "sort={sort}"
            );
            nulls_first.push(assert_sorted(list, &sort));
        }
        // Descending is the reverse order of the key, nulls included.
        if let [Some(asc), Some(desc)] = nulls_first[..] {
            assert_ne!(asc, desc, "nulls at the same end for {field} and -{field}");
        }
    }
    // Several keys: status, then newest first.
    let resp = app
        .get(
            "/users?sort=status,-created_at&page[size]=100",
            &p.owner.token,
        )
        .await;
    let list = resp.body["data"].as_array().unwrap();
    let pairs: Vec<(String, String)> = list
        .iter()
        .map(|u| {
            (
                u["attributes"]["status"].as_str().unwrap().to_owned(),
                u["attributes"]["created_at"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut expected = pairs.clone();
    expected.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    assert_eq!(pairs, expected);

    // Known orders, stated outright.
    let resp = app.get("/users?sort=created_at", &p.owner.token).await;
    assert_eq!(resp.ids(), LIVE.iter().map(|n| p.id(n)).collect::<Vec<_>>());
    let resp = app
        .get("/users?sort=-updated_at&page[size]=1", &p.owner.token)
        .await;
    assert_eq!(resp.ids(), vec![p.id("grace")]);
    let resp = app
        .get("/users?sort=-alive&page[size]=1", &p.owner.token)
        .await;
    assert_eq!(resp.ids(), vec![p.id("edsger")]);
    let mut sams = vec![p.id("sam1"), p.id("sam2")];
    sams.sort();
    let resp = app
        .get("/users?sort=-name&filter[name]=sam", &p.owner.token)
        .await;
    assert_eq!(resp.ids(), sams, "ties by ascending id, even descending");
}

#[tokio::test]
async fn sparse_fieldsets_keep_only_the_fields_asked_for() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let resp = app.get("/users?fields[user]=name", &p.owner.token).await;
    resp.assert_status(200);
    for user in resp.body["data"].as_array().unwrap() {
        let keys: Vec<&String> = user["attributes"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["name"], "{user}");
        assert!(user.get("relationships").is_none(), "{user}");
        assert!(user["links"]["self"].is_string());
    }

    let resp = app
        .get(
            &format!(
                "/users/{}?include=teams&fields[user]=email,teams&fields[team]=name",
                p.id("grace")
            ),
            &p.owner.token,
        )
        .await;
    resp.assert_status(200);
    let user = &resp.body["data"];
    let keys: Vec<&String> = user["attributes"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["email"]);
    let relationships: Vec<&String> = user["relationships"].as_object().unwrap().keys().collect();
    assert_eq!(relationships, ["teams"]);
    for team in resp.body["included"].as_array().unwrap() {
        let keys: Vec<&String> = team["attributes"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["name"]);
        assert!(team.get("relationships").is_none());
    }
}

/// JSON:API full linkage: every included resource is reached from primary data through
/// relationship linkage in the document; each resource appears once; primary data is
/// not repeated in `included`.
#[track_caller]
fn assert_full_linkage(body: &Value) {
    let primary: Vec<&Value> = match &body["data"] {
        Value::Array(items) => items.iter().collect(),
        one @ Value::Object(_) => vec![one],
        other => panic!("no primary data: {other}"),
    };
    let key = |r: &Value| {
        (
            r["type"].as_str().unwrap().to_owned(),
            r["id"].as_str().unwrap().to_owned(),
        )
    };
    let included = body["included"].as_array().expect("included");
    let mut all: HashMap<(String, String), &Value> = HashMap::new();
    for resource in primary.iter().copied().chain(included.iter()) {
        assert!(
            all.insert(key(resource), resource).is_none(),
            "{:?} appears twice",
            key(resource)
        );
    }
    let mut reached: HashSet<(String, String)> = primary.iter().map(|r| key(r)).collect();
    let mut frontier: Vec<&Value> = primary.clone();
    while let Some(resource) = frontier.pop() {
        let Some(relationships) = resource["relationships"].as_object() else {
            continue;
        };
        for relationship in relationships.values() {
            let targets: Vec<&Value> = match &relationship["data"] {
                Value::Array(items) => items.iter().collect(),
                one @ Value::Object(_) => vec![one],
                _ => vec![],
            };
            for target in targets {
                let k = key(target);
                if let Some(found) = all.get(&k)
                    && reached.insert(k)
                {
                    frontier.push(found);
                }
            }
        }
    }
    for resource in included {
        assert!(
            reached.contains(&key(resource)),
            "{:?} is included but not linked",
            key(resource)
        );
    }
}

fn linkage(resource: &Value, relationship: &str) -> BTreeSet<String> {
    let data = &resource["relationships"][relationship]["data"];
    assert!(
        data.is_array(),
        "{relationship} linkage missing: {resource}"
    );
    ids(data).into_iter().collect()
}

#[tokio::test]
async fn include_account_links_every_user_to_the_one_account() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let resp = app.get("/users?include=account", &p.owner.token).await;
    resp.assert_status(200);
    assert_eq!(
        included_keys(&resp.body),
        [("account".to_owned(), p.owner.account_id.clone())]
    );
    assert_eq!(resp.body["included"][0]["attributes"]["slug"], "acme");
    for user in resp.body["data"].as_array().unwrap() {
        assert_eq!(
            user["relationships"]["account"]["data"],
            json!({"type": "account", "id": p.owner.account_id})
        );
    }
    assert_full_linkage(&resp.body);
}

#[tokio::test]
async fn include_teams_gives_each_users_teams_once() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let resp = app
        .get("/users?include=teams&page[size]=100", &p.owner.token)
        .await;
    resp.assert_status(200);
    let expected: HashMap<String, BTreeSet<String>> = LIVE
        .iter()
        .map(|n| {
            let teams: Vec<&String> = match *n {
                "ada" => vec![&p.platform],
                "grace" => vec![&p.platform, &p.design],
                "owner" => vec![&p.design],
                _ => vec![],
            };
            (p.id(n), teams.into_iter().cloned().collect())
        })
        .collect();
    for user in resp.body["data"].as_array().unwrap() {
        let id = user["id"].as_str().unwrap();
        assert_eq!(linkage(user, "teams"), expected[id], "teams of {id}");
    }
    let mut included = included_keys(&resp.body);
    included.sort();
    let mut want = vec![
        ("team".to_owned(), p.platform.clone()),
        ("team".to_owned(), p.design.clone()),
    ];
    want.sort();
    assert_eq!(included, want);
    assert_full_linkage(&resp.body);
}

#[tokio::test]
async fn nested_includes_link_through_every_level_without_duplicates() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let resp = app
        .get(
            &format!("/users/{}?include=teams.users", p.id("ada")),
            &p.owner.token,
        )
        .await;
    resp.assert_status(200);
    assert_full_linkage(&resp.body);
    let teams = included_of(&resp.body, "team");
    let users = included_of(&resp.body, "user");
    assert_eq!(
        teams.keys().cloned().collect::<BTreeSet<_>>(),
        BTreeSet::from([p.platform.clone()])
    );
    assert_eq!(
        linkage(teams[&p.platform], "users"),
        p.set(&["ada", "grace"])
    );
    // Ada is primary data, so only Grace is included.
    assert_eq!(
        users.keys().cloned().collect::<BTreeSet<_>>(),
        p.set(&["grace"])
    );

    // Every path of a collection; a deleted member (zed) appears nowhere.
    let resp = app
        .get(
            "/users?include=teams.users,account_memberships,account&page[size]=100",
            &p.owner.token,
        )
        .await;
    resp.assert_status(200);
    assert_full_linkage(&resp.body);
    assert!(
        !resp.text.contains(&p.id("zed")),
        "a deleted user is linked"
    );
    let teams = included_of(&resp.body, "team");
    assert_eq!(
        linkage(teams[&p.design], "users"),
        p.set(&["grace", "owner"])
    );
    let memberships = included_of(&resp.body, "account_membership");
    assert_eq!(memberships.len(), LIVE.len());
    for user in resp.body["data"].as_array().unwrap() {
        let mine = linkage(user, "account_memberships");
        assert_eq!(mine.len(), 1, "{user}");
        let membership = memberships[mine.iter().next().unwrap()];
        assert_eq!(
            membership["relationships"]["user"]["data"]["id"],
            user["id"]
        );
        assert_eq!(
            membership["relationships"]["account"]["data"]["id"],
            p.owner.account_id
        );
        let role = membership["attributes"]["role"].as_str().unwrap();
        let expected_role = if user["id"] == p.owner.user_id {
            "owner"
        } else {
            "member"
        };
        assert_eq!(role, expected_role);
    }

    // Three levels are allowed, four are not.
    app.get("/users?include=teams.users.teams", &p.owner.token)
        .await
        .assert_status(200);
    let resp = app
        .get("/users?include=teams.users.teams.users", &p.owner.token)
        .await;
    resp.assert_error(400, "invalid_parameter");
    assert_eq!(resp.error()["source"]["parameter"], "include");
}

#[tokio::test]
async fn offset_pagination_has_total_and_first_prev_next_last_links() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let everyone = app
        .get("/users?sort=created_at&page[size]=100", &p.owner.token)
        .await
        .ids();
    assert_eq!(everyone.len(), 8);

    let first = app
        .get("/users?sort=created_at&page[size]=3", &p.owner.token)
        .await;
    first.assert_status(200);
    assert_eq!(first.body["meta"]["total"], 8);
    let links = &first.body["links"];
    let base = app.api_base();
    let at = |n: u32| format!("{base}/users?sort=created_at&page[number]={n}&page[size]=3");
    assert_eq!(links["first"], at(1));
    assert_eq!(links["prev"], Value::Null);
    assert_eq!(links["next"], at(2));
    assert_eq!(links["last"], at(3));

    // Following `next` visits everyone once, in order.
    let mut seen = first.ids();
    let mut next = links["next"].as_str().map(str::to_owned);
    let mut last = first;
    while let Some(url) = next {
        last = app.get(&url, &p.owner.token).await;
        last.assert_status(200);
        assert_eq!(last.body["meta"]["total"], 8);
        seen.extend(last.ids());
        next = last.body["links"]["next"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, everyone);
    assert_eq!(last.ids().len(), 2);
    assert_eq!(last.body["links"]["prev"], at(2));
    assert_eq!(last.body["links"]["last"], at(3));
    assert_eq!(last.body["links"]["self"], at(3));

    // Past the end: empty, still counted.
    let beyond = app
        .get(
            "/users?sort=created_at&page[size]=3&page[number]=9",
            &p.owner.token,
        )
        .await;
    beyond.assert_status(200);
    assert_eq!(beyond.body["data"], json!([]));
    assert_eq!(beyond.body["meta"]["total"], 8);

    // The default page size is 25.
    let default = app.get("/users", &p.owner.token).await;
    assert_eq!(
        default.body["links"]["first"],
        format!("{base}/users?page[number]=1&page[size]=25")
    );
}

/// Walks a cursor-paginated list forwards from its first page (asked for by the
/// profile), then backwards from the last page; returns both walks.
async fn walk(app: &TestApp, token: &str, query: &str) -> (Vec<String>, Vec<String>) {
    let first = app.get_cursor(&format!("/users?{query}"), token).await;
    first.assert_status(200);
    assert!(first.body["meta"].get("total").is_none(), "{}", first.text);
    assert_eq!(first.body["links"]["prev"], Value::Null, "{query}");
    let mut pages = vec![first];
    loop {
        let page = pages.last().unwrap();
        for resource in page.body["data"].as_array().unwrap() {
            assert!(
                resource["meta"]["page"]["cursor"].is_string(),
                "no cursor: {resource}"
            );
        }
        let Some(next) = page.body["links"]["next"].as_str().map(str::to_owned) else {
            break;
        };
        assert!(next.contains("page[after]="), "{next}");
        assert!(pages.len() < 50, "no end in sight");
        // Without the profile: `page[after]` alone selects cursor pagination.
        let page = app.get(&next, token).await;
        page.assert_status(200);
        assert!(page.body["meta"].get("total").is_none());
        pages.push(page);
    }
    let forwards: Vec<String> = pages.iter().flat_map(Resp::ids).collect();

    let mut backwards_pages: Vec<Vec<String>> = vec![pages.last().unwrap().ids()];
    let mut prev = pages.last().unwrap().body["links"]["prev"]
        .as_str()
        .map(str::to_owned);
    while let Some(url) = prev {
        assert!(url.contains("page[before]="), "{url}");
        assert!(backwards_pages.len() < 50, "no start in sight");
        let page = app.get(&url, token).await;
        page.assert_status(200);
        assert!(page.body["links"]["next"].is_string(), "{}", page.text);
        backwards_pages.push(page.ids());
        prev = page.body["links"]["prev"].as_str().map(str::to_owned);
    }
    backwards_pages.reverse();
    (forwards, backwards_pages.concat())
}

#[tokio::test]
async fn cursor_pagination_walks_a_list_both_ways_without_gaps_or_repeats() {
    let app = spawn_app().await;
    let p = people(&app).await;
    for sort in [
        "",
        "sort=name",
        "sort=-name",
        "sort=email",
        "sort=-email",
        "sort=last_sign_in_at",
        "sort=-last_sign_in_at",
        "sort=alive,-created_at",
        "sort=status",
    ] {
        let everything = app
            .get(&format!("/users?{sort}&page[size]=100"), &p.owner.token)
            .await
            .ids();
        assert_eq!(everything.len(), 8);
        for size in [1, 3] {
            let query = format!("{sort}&page[size]={size}");
            let (forwards, backwards) = walk(&app, &p.owner.token, &query).await;
            assert_eq!(forwards, everything, "forwards, {query}");
            assert_eq!(backwards, everything, "backwards, {query}");
        }
    }
    // With a filter, the cursor walk covers just the matches.
    let (forwards, backwards) =
        walk(&app, &p.owner.token, "filter[status]=created&page[size]=2").await;
    let created = app
        .get("/users?filter[status]=created", &p.owner.token)
        .await
        .ids();
    assert_eq!(forwards, created);
    assert_eq!(backwards, created);
}

#[tokio::test]
async fn an_empty_cursor_page_has_null_links() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let resp = app
        .get_cursor("/users?filter[status]=invited", &owner.token)
        .await;
    resp.assert_status(200);
    assert_eq!(resp.body["data"], json!([]));
    assert_eq!(resp.body["links"]["prev"], Value::Null);
    assert_eq!(resp.body["links"]["next"], Value::Null);
}

#[tokio::test]
async fn a_page_size_over_100_is_400_with_max_size() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    for resp in [
        app.get_cursor("/users?page[size]=101", &owner.token).await,
        app.get("/users?page[size]=101", &owner.token).await,
        app.get("/users?page[size]=99999999999", &owner.token).await,
    ] {
        resp.assert_error(400, "invalid_parameter");
        let error = resp.error();
        assert_eq!(error["source"]["parameter"], "page[size]");
        assert_eq!(error["meta"]["page"]["maxSize"], 100, "{}", resp.text);
        assert_eq!(
            error["links"]["type"],
            "https://jsonapi.org/profiles/ethanresnick/cursor-pagination/max-size-exceeded"
        );
    }
    app.get("/users?page[size]=100", &owner.token)
        .await
        .assert_status(200);
}

#[tokio::test]
async fn an_invalid_cursor_is_400_naming_its_parameter() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let by_name = app
        .get_cursor("/users?sort=name&page[size]=2", &p.owner.token)
        .await;
    let cursor = by_name.body["data"][1]["meta"]["page"]["cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    // The cursor works where it came from.
    app.get(
        &format!("/users?sort=name&page[after]={cursor}"),
        &p.owner.token,
    )
    .await
    .assert_status(200);
    for (query, parameter) in [
        ("page[after]=garbage".to_owned(), "page[after]"),
        ("page[before]=garbage".to_owned(), "page[before]"),
        ("page[after]=W10".to_owned(), "page[after]"),
        (
            format!("sort=created_at&page[after]={cursor}"),
            "page[after]",
        ),
        (format!("page[after]={cursor}"), "page[after]"),
    ] {
        let resp = app.get(&format!("/users?{query}"), &p.owner.token).await;
        resp.assert_error(400, "invalid_parameter");
        assert_eq!(
            resp.error()["source"]["parameter"],
            parameter,
            "{query}: {}",
            resp.text
        );
    }
}

#[tokio::test]
async fn a_comma_in_a_text_filter_means_or() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let got = ids_of(&app, &p.owner.token, "/users?filter[name]=lovelace,hopper").await;
    assert_eq!(got, p.set(&["ada", "grace"]));
    let got = ids_of(&app, &p.owner.token, "/users?filter[q]=turing,sam2@").await;
    assert_eq!(got, p.set(&["alan", "sam2"]));
}

#[tokio::test]
async fn soft_deleted_users_are_left_out_of_related_collections_and_linkage() {
    let app = spawn_app().await;
    let p = people(&app).await;
    for path in [
        format!("/teams/{}/users", p.design),
        format!("/teams/{}/relationships/users", p.design),
        format!("/teams/{}?include=users", p.design),
        "/teams?include=users,team_memberships.user".to_owned(),
        format!("/accounts/{}/users?page[size]=100", p.owner.account_id),
        "/account_memberships?page[size]=100".to_owned(),
        "/team_memberships?page[size]=100".to_owned(),
    ] {
        let resp = app.get(&path, &p.owner.token).await;
        resp.assert_status(200);
        assert!(
            !resp.text.contains(&p.id("zed")),
            "{path} shows a deleted user: {}",
            resp.text
        );
    }
    let design = app
        .get(&format!("/teams/{}/users", p.design), &p.owner.token)
        .await;
    assert_eq!(
        design.ids().into_iter().collect::<BTreeSet<_>>(),
        p.set(&["grace", "owner"])
    );
    assert_eq!(design.body["meta"]["total"], 2);
}

#[tokio::test]
async fn text_filters_ignore_case_beyond_ascii() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let emile = app
        .create_user(
            &owner.token,
            json!({"name": "Émile Zola", "email": "emile@acme.test"}),
            Value::Null,
        )
        .await;
    let mut wrong = Vec::new();
    for query in [
        "filter[name]=%C3%89mile",
        "filter[name]=%C3%A9mile",
        "filter[q]=%C3%89MILE",
        "filter[name]=zola",
    ] {
        let got = app.get(&format!("/users?{query}"), &owner.token).await;
        got.assert_status(200);
        if got.ids() != vec![emile.clone()] {
            wrong.push(format!("{query} → {:?}", got.ids()));
        }
    }
    assert!(wrong.is_empty(), "\u{c9}mile Zola not found: {wrong:#?}");
}

/// No stored text holds a NUL and PostgreSQL cannot compare text that does: a NUL in a
/// filter value is the client's mistake (400 naming the parameter) on both backends,
/// never a server error. (Found by schemathesis, README "Property-based testing".)
#[tokio::test]
async fn a_nul_in_a_filter_value_is_a_400_naming_the_parameter() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    for (path, parameter) in [
        ("/users?filter[email]=a%00b", "filter[email]"),
        ("/users?filter[name]=%00", "filter[name]"),
        ("/users?filter[q]=ada,%00x", "filter[q]"),
        (
            "/audit_events?filter[action]=user.created%00",
            "filter[action]",
        ),
        ("/accounts?filter[slug]=%00", "filter[slug]"),
    ] {
        let resp = app.get(path, &owner.token).await;
        resp.assert_error(400, "invalid_parameter");
        assert_eq!(resp.error()["source"]["parameter"], parameter, "{path}");
    }
}
