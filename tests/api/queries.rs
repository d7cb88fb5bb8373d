//! No N+1: the statement count a request reports in `Server-Timing` depends on the include
//! paths, never on the page size (auth + page + one query per include path segment).

use crate::helpers::*;

/// 120 users in one account, 10 teams, every user in 2 teams; signed in as the owner.
async fn seeded() -> (TestApp, String) {
    let app = spawn_app().await;
    app.seed(1, 120, 10, 2);
    let token = app
        .sign_in("seed-0", "user-0@seed-0.test", "password-0")
        .await;
    (app, token)
}

#[tokio::test]
async fn users_with_includes_cost_the_same_statements_for_10_or_100_rows() {
    let (app, token) = seeded().await;
    for (include, segments) in [
        ("", 0),
        ("account", 1),
        ("teams", 1),
        ("teams,account", 2),
        ("teams.users", 2),
        ("teams.users,account_memberships", 3),
        ("teams.users.teams", 3),
    ] {
        let mut counts = Vec::new();
        for size in [10, 100] {
            let resp = app
                .get(
                    &format!("/users?include={include}&page[size]={size}"),
                    &token,
                )
                .await;
            resp.assert_status(200);
            assert_eq!(resp.ids().len(), size);
            if include.contains("teams") {
                assert!(
                    !included_of(&resp.body, "team").is_empty(),
                    "nothing included for {include}"
                );
            }
            counts.push(queries(&resp));
        }
        assert_eq!(counts[0], counts[1], "include={include}: {counts:?}");
        assert_eq!(counts[0], 2 + segments, "include={include}");
    }
    // The same with cursor pagination, deep in the list.
    let first = app
        .get_cursor("/users?include=teams,account&page[size]=100", &token)
        .await;
    let next = first.body["links"]["next"].as_str().unwrap();
    let second = app.get(next, &token).await;
    second.assert_status(200);
    assert_eq!(second.ids().len(), 20);
    assert_eq!(queries(&first), 4);
    assert_eq!(queries(&second), 4);
}

#[tokio::test]
async fn teams_with_users_cost_the_same_statements_for_2_or_10_teams() {
    let (app, token) = seeded().await;
    let mut counts = Vec::new();
    for size in [2, 10] {
        let resp = app
            .get(&format!("/teams?include=users&page[size]={size}"), &token)
            .await;
        resp.assert_status(200);
        assert_eq!(resp.ids().len(), size);
        // Every seeded user is in two of the ten teams: 24 users per team.
        for team in resp.body["data"].as_array().unwrap() {
            assert_eq!(
                team["relationships"]["users"]["data"]
                    .as_array()
                    .unwrap()
                    .len(),
                24,
                "{team}"
            );
        }
        counts.push(queries(&resp));
    }
    assert_eq!(counts, [3, 3]);

    let resp = app
        .get("/teams?include=users.teams,account&page[size]=10", &token)
        .await;
    resp.assert_status(200);
    assert_eq!(queries(&resp), 5);
}

#[tokio::test]
async fn single_resources_and_related_collections_do_not_grow_with_their_data() {
    let (app, token) = seeded().await;
    let users = app.get("/users?page[size]=2", &token).await;
    let id = users.ids()[1].clone();
    let one = app
        .get(&format!("/users/{id}?include=teams.users"), &token)
        .await;
    one.assert_status(200);
    // Auth, the user, its teams, their users.
    assert_eq!(queries(&one), 4);

    let teams = app.get("/teams?page[size]=1", &token).await;
    let team = teams.ids()[0].clone();
    let mut counts = Vec::new();
    for size in [5, 24] {
        let resp = app
            .get(
                &format!("/teams/{team}/users?include=teams&page[size]={size}"),
                &token,
            )
            .await;
        resp.assert_status(200);
        assert_eq!(resp.ids().len(), size);
        counts.push(queries(&resp));
    }
    assert_eq!(counts[0], counts[1], "{counts:?}");
}

#[tokio::test]
async fn teams_and_a_users_teams_cost_the_same_statements_at_any_page_size() {
    let app = spawn_app().await;
    // One account, 100 users, 60 teams, every user in 12 teams.
    app.seed(1, 100, 60, 12);
    let token = app
        .sign_in("seed-0", "user-0@seed-0.test", "password-0")
        .await;
    for (include, segments) in [("", 0), ("users", 1), ("users,team_memberships", 2)] {
        let mut counts = Vec::new();
        for size in [5, 50] {
            let resp = app
                .get(
                    &format!("/teams?include={include}&page[size]={size}"),
                    &token,
                )
                .await;
            resp.assert_status(200);
            assert_eq!(resp.ids().len(), size);
            if !include.is_empty() {
                assert!(!included_of(&resp.body, "user").is_empty(), "{include}");
            }
            counts.push(queries(&resp));
        }
        assert_eq!(counts[0], counts[1], "include={include}: {counts:?}");
        assert_eq!(counts[0], 2 + segments, "include={include}");
    }

    let me = app.get("/me", &token).await;
    let me = me.body["data"]["id"].as_str().unwrap().to_owned();
    for (include, segments) in [("", 0), ("users", 1), ("users,team_memberships", 2)] {
        let mut counts = Vec::new();
        for size in [3, 12] {
            let resp = app
                .get(
                    &format!("/users/{me}/teams?include={include}&page[size]={size}"),
                    &token,
                )
                .await;
            resp.assert_status(200);
            assert_eq!(resp.ids().len(), size, "{}", resp.text);
            counts.push(queries(&resp));
        }
        assert_eq!(counts[0], counts[1], "include={include}: {counts:?}");
        // Auth, the user, the page; one per include segment.
        assert_eq!(counts[0], 3 + segments, "include={include}");
    }
}
