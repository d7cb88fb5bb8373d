//! SPEC §4: the read side of accounts, teams, memberships, and related / relationship
//! endpoints.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::*;

struct Org {
    owner: Owner,
    ada: String,
    bob: String,
    cy: String,
    platform: String,
    design: String,
}

async fn org(app: &TestApp) -> Org {
    let owner = app.owner().await;
    let mut made = Vec::new();
    for (name, email) in [
        ("Ada", "ada@acme.test"),
        ("Bob", "bob@acme.test"),
        ("Cy", "cy@acme.test"),
    ] {
        app.clock.advance(1);
        made.push(
            app.create_user(
                &owner.token,
                json!({"name": name, "email": email}),
                Value::Null,
            )
            .await,
        );
    }
    let platform = app.insert_team(&owner.account_id, "Platform");
    let design = app.insert_team(&owner.account_id, "Design");
    app.add_to_team(&platform, &made[0], "maintainer");
    app.add_to_team(&platform, &made[1], "member");
    app.add_to_team(&platform, &made[2], "member");
    app.add_to_team(&design, &made[1], "member");
    Org {
        owner,
        ada: made[0].clone(),
        bob: made[1].clone(),
        cy: made[2].clone(),
        platform,
        design,
    }
}

#[tokio::test]
async fn accounts_show_the_callers_account() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let list = app.get("/accounts", &o.owner.token).await;
    list.assert_status(200);
    assert_eq!(list.ids(), vec![o.owner.account_id.clone()]);
    let one = app
        .get(&format!("/accounts/{}", o.owner.account_id), &o.owner.token)
        .await;
    one.assert_status(200);
    let data = &one.body["data"];
    assert_eq!(data["type"], "account");
    assert_eq!(data["attributes"]["name"], "Acme");
    assert_eq!(data["attributes"]["slug"], "acme");
    assert_eq!(data["attributes"]["discarded_at"], Value::Null);
    time(&data["attributes"]["created_at"]);
    assert_eq!(
        data["meta"]["permissions"]["actions"],
        json!({"edit": true, "delete": true})
    );
    let users = app
        .get(
            &format!("/accounts/{}/users?page[size]=100", o.owner.account_id),
            &o.owner.token,
        )
        .await;
    users.assert_status(200);
    assert_eq!(users.body["meta"]["total"], 4);
    let teams = app
        .get(
            &format!("/accounts/{}/teams", o.owner.account_id),
            &o.owner.token,
        )
        .await;
    let got: BTreeSet<String> = teams.ids().into_iter().collect();
    assert_eq!(got, BTreeSet::from([o.platform.clone(), o.design.clone()]));

    // A member may read, not edit.
    let (_, member) = app
        .member(&o.owner.token, "acme", "Mia", "mia@acme.test", "member")
        .await;
    let one = app
        .get(&format!("/accounts/{}", o.owner.account_id), &member)
        .await;
    assert_eq!(
        one.body["data"]["meta"]["permissions"]["actions"],
        json!({"edit": false, "delete": false})
    );
}

#[tokio::test]
async fn teams_list_and_show_with_their_members() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let list = app.get("/teams?sort=name", &o.owner.token).await;
    list.assert_status(200);
    assert_eq!(list.ids(), vec![o.design.clone(), o.platform.clone()]);
    assert_eq!(list.body["meta"]["total"], 2);
    let team = &list.body["data"][1];
    assert_eq!(team["type"], "team");
    assert_eq!(team["attributes"]["name"], "Platform");
    assert_eq!(team["attributes"]["description"], "The Platform team");
    assert_eq!(
        team["relationships"]["account"]["data"],
        json!({"type": "account", "id": o.owner.account_id})
    );
    assert_eq!(
        team["meta"]["permissions"]["actions"],
        json!({"edit": true, "delete": true, "manage_members": true})
    );

    let filtered = app.get("/teams?filter[name]=plat", &o.owner.token).await;
    assert_eq!(filtered.ids(), vec![o.platform.clone()]);
    let filtered = app
        .get(&format!("/teams?filter[user]={}", o.bob), &o.owner.token)
        .await;
    let got: BTreeSet<String> = filtered.ids().into_iter().collect();
    assert_eq!(got, BTreeSet::from([o.platform.clone(), o.design.clone()]));

    let one = app
        .get(
            &format!("/teams/{}?include=users,team_memberships", o.platform),
            &o.owner.token,
        )
        .await;
    one.assert_status(200);
    let users: BTreeSet<String> = ids(&one.body["data"]["relationships"]["users"]["data"])
        .into_iter()
        .collect();
    assert_eq!(
        users,
        BTreeSet::from([o.ada.clone(), o.bob.clone(), o.cy.clone()])
    );
    assert_eq!(included_of(&one.body, "team_membership").len(), 3);
    assert_eq!(included_of(&one.body, "user").len(), 3);
}

#[tokio::test]
async fn team_permissions_follow_the_callers_team_role() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let (maintainer_id, maintainer) = app
        .member(&o.owner.token, "acme", "Max", "max@acme.test", "member")
        .await;
    app.add_to_team(&o.platform, &maintainer_id, "maintainer");
    let list = app.get("/teams?sort=name", &maintainer).await;
    let actions: Vec<&Value> = list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["meta"]["permissions"]["actions"])
        .collect();
    // Design: not maintained; Platform: maintained.
    assert_eq!(
        *actions[0],
        json!({"edit": false, "delete": false, "manage_members": false})
    );
    assert_eq!(
        *actions[1],
        json!({"edit": true, "delete": false, "manage_members": true})
    );
}

#[tokio::test]
async fn a_teams_users_support_filters_sorts_and_pages() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let path = format!("/teams/{}/users", o.platform);
    let all = app.get(&path, &o.owner.token).await;
    all.assert_status(200);
    assert_eq!(all.body["meta"]["total"], 3);
    assert_eq!(all.body["links"]["self"], app.url(&path));

    let sorted = app.get(&format!("{path}?sort=-name"), &o.owner.token).await;
    assert_eq!(
        sorted.ids(),
        vec![o.cy.clone(), o.bob.clone(), o.ada.clone()]
    );
    let filtered = app
        .get(&format!("{path}?filter[name]=b"), &o.owner.token)
        .await;
    assert_eq!(filtered.ids(), vec![o.bob.clone()]);

    let page = app
        .get(
            &format!("{path}?sort=name&page[size]=2&page[number]=2"),
            &o.owner.token,
        )
        .await;
    assert_eq!(page.ids(), vec![o.cy.clone()]);
    assert_eq!(page.body["meta"]["total"], 3);
    assert_eq!(
        page.body["links"]["first"],
        format!("{}?sort=name&page[number]=1&page[size]=2", app.url(&path))
    );
    let included = app
        .get(&format!("{path}?include=teams&sort=name"), &o.owner.token)
        .await;
    let bob = &included.body["data"][1];
    let teams: BTreeSet<String> = ids(&bob["relationships"]["teams"]["data"])
        .into_iter()
        .collect();
    assert_eq!(
        teams,
        BTreeSet::from([o.platform.clone(), o.design.clone()])
    );

    // The reverse direction.
    let bobs = app
        .get(&format!("/users/{}/teams?sort=name", o.bob), &o.owner.token)
        .await;
    assert_eq!(bobs.ids(), vec![o.design.clone(), o.platform.clone()]);
}

#[tokio::test]
async fn relationship_endpoints_give_linkage() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let path = format!("/users/{}/relationships/teams", o.bob);
    let resp = app.get(&path, &o.owner.token).await;
    resp.assert_status(200);
    assert_eq!(resp.header("content-type"), Some(JSONAPI));
    assert_eq!(resp.body["jsonapi"]["version"], "1.1");
    assert_eq!(resp.body["links"]["self"], app.url(&path));
    assert_eq!(
        resp.body["links"]["related"],
        app.url(&format!("/users/{}/teams", o.bob))
    );
    let data = resp.body["data"].as_array().unwrap();
    let mut got: Vec<(String, String)> = data
        .iter()
        .map(|d| {
            assert_eq!(d.as_object().unwrap().len(), 2, "only type and id: {d}");
            (
                d["type"].as_str().unwrap().to_owned(),
                d["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    got.sort();
    let mut want = vec![
        ("team".to_owned(), o.platform.clone()),
        ("team".to_owned(), o.design.clone()),
    ];
    want.sort();
    assert_eq!(got, want);

    let none = app
        .get(
            &format!("/users/{}/relationships/teams", o.owner.user_id),
            &o.owner.token,
        )
        .await;
    assert_eq!(none.body["data"], json!([]));

    let account = app
        .get(
            &format!("/users/{}/relationships/account", o.bob),
            &o.owner.token,
        )
        .await;
    account.assert_status(200);
    assert_eq!(
        account.body["data"],
        json!({"type": "account", "id": o.owner.account_id})
    );
    let related = app
        .get(&format!("/users/{}/account", o.bob), &o.owner.token)
        .await;
    related.assert_status(200);
    assert_eq!(related.body["data"]["id"], o.owner.account_id);
    assert_eq!(related.body["data"]["attributes"]["slug"], "acme");

    app.get(
        &format!("/users/{}/relationships/nope", o.bob),
        &o.owner.token,
    )
    .await
    .assert_error(404, "not_found");
}

#[tokio::test]
async fn account_memberships_list_with_their_users() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let (admin_id, _) = app
        .member(&o.owner.token, "acme", "Adam", "adam@acme.test", "admin")
        .await;
    let resp = app
        .get("/account_memberships?include=user,account", &o.owner.token)
        .await;
    resp.assert_status(200);
    assert_eq!(resp.body["meta"]["total"], 5);
    let users = included_of(&resp.body, "user");
    assert_eq!(users.len(), 5);
    assert_eq!(included_of(&resp.body, "account").len(), 1);
    for membership in resp.body["data"].as_array().unwrap() {
        assert_eq!(membership["type"], "account_membership");
        let user = membership["relationships"]["user"]["data"]["id"]
            .as_str()
            .unwrap();
        assert!(users.contains_key(user));
        let role = membership["attributes"]["role"].as_str().unwrap();
        let expected = if user == o.owner.user_id {
            "owner"
        } else if user == admin_id {
            "admin"
        } else {
            "member"
        };
        assert_eq!(role, expected);
    }
    let owners = app
        .get(
            "/account_memberships?filter[role]=owner,admin",
            &o.owner.token,
        )
        .await;
    assert_eq!(owners.body["meta"]["total"], 2);
    let bobs = app
        .get(
            &format!("/account_memberships?filter[user]={}", o.bob),
            &o.owner.token,
        )
        .await;
    assert_eq!(bobs.ids().len(), 1);
    assert_eq!(
        bobs.body["data"][0]["relationships"]["user"]["data"]["id"],
        o.bob
    );
}

#[tokio::test]
async fn team_memberships_list_with_users_and_teams() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let resp = app
        .get("/team_memberships?include=user,team", &o.owner.token)
        .await;
    resp.assert_status(200);
    assert_eq!(resp.body["meta"]["total"], 4);
    let users = included_of(&resp.body, "user");
    let teams = included_of(&resp.body, "team");
    assert_eq!(users.len(), 3);
    assert_eq!(teams.len(), 2);
    let mut pairs: Vec<(String, String, String)> = resp.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let user = m["relationships"]["user"]["data"]["id"]
                .as_str()
                .unwrap()
                .to_owned();
            let team = m["relationships"]["team"]["data"]["id"]
                .as_str()
                .unwrap()
                .to_owned();
            assert!(users.contains_key(&user) && teams.contains_key(&team));
            (
                team,
                user,
                m["attributes"]["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    pairs.sort();
    let mut want = vec![
        (o.platform.clone(), o.ada.clone(), "maintainer".to_owned()),
        (o.platform.clone(), o.bob.clone(), "member".to_owned()),
        (o.platform.clone(), o.cy.clone(), "member".to_owned()),
        (o.design.clone(), o.bob.clone(), "member".to_owned()),
    ];
    want.sort();
    assert_eq!(pairs, want);

    let maintainers = app
        .get("/team_memberships?filter[role]=maintainer", &o.owner.token)
        .await;
    assert_eq!(maintainers.ids().len(), 1);
    let of_design = app
        .get(
            &format!("/team_memberships?filter[team]={}", o.design),
            &o.owner.token,
        )
        .await;
    assert_eq!(of_design.ids().len(), 1);

    // A deleted user's team memberships are gone with it.
    app.delete(&format!("/users/{}", o.bob), &o.owner.token)
        .await
        .assert_status(204);
    let after = app.get("/team_memberships", &o.owner.token).await;
    assert_eq!(after.body["meta"]["total"], 2);
    let platform = app
        .get(&format!("/teams/{}/users", o.platform), &o.owner.token)
        .await;
    assert_eq!(platform.body["meta"]["total"], 2);
}

/// Every `links.self` and `links.related` a document advertises, of every type, answers
/// 200 with a JSON:API document.
#[tokio::test]
async fn every_advertised_link_resolves() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let device = app.insert_device(&o.owner.user_id, "apns-owner");
    let mut to_visit: Vec<String> = vec![
        app.url("/me?include=account,account_memberships,teams,team_memberships,devices"),
        app.url("/sessions?include=user,account"),
        app.url(&format!("/teams/{}?include=team_memberships", o.platform)),
        app.url(&format!("/devices/{device}")),
    ];
    let mut visited = std::collections::HashSet::new();
    while let Some(url) = to_visit.pop() {
        if !visited.insert(url.clone()) {
            continue;
        }
        let resp = app.get(&url, &o.owner.token).await;
        assert_eq!(resp.status.as_u16(), 200, "GET {url}: {}", resp.text);
        assert_eq!(resp.body["jsonapi"]["version"], "1.1", "{url}");
        // Links of the resources in this document (not of pages: they repeat).
        let mut resources: Vec<&Value> = match &resp.body["data"] {
            Value::Array(items) => items.iter().collect(),
            one @ Value::Object(_) => vec![one],
            _ => vec![],
        };
        if let Some(included) = resp.body["included"].as_array() {
            resources.extend(included);
        }
        for resource in resources {
            if resource.get("attributes").is_none() {
                continue; // a resource identifier
            }
            if let Some(link) = resource["links"]["self"].as_str() {
                to_visit.push(link.to_owned());
            }
            if let Some(relationships) = resource["relationships"].as_object() {
                for relationship in relationships.values() {
                    for name in ["self", "related"] {
                        if let Some(link) = relationship["links"][name].as_str() {
                            to_visit.push(link.to_owned());
                        }
                    }
                }
            }
        }
        assert!(visited.len() < 400, "too many links");
    }
    assert!(visited.len() > 40, "only {} links", visited.len());
}
