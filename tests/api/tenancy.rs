//! SPEC §2 `not_found` and §3/§4: another account's resources are invisible — 404 by id,
//! absent from lists, includes and related endpoints — except to a platform admin.

use serde_json::{Value, json};

use crate::helpers::*;

struct Two {
    acme: Tenant,
    globex: Tenant,
    globex_user: String,
    globex_team: String,
    acme_team: String,
    acme_user: String,
}

async fn two_accounts(app: &TestApp) -> Two {
    let acme = app.tenant("acme", false).await;
    let globex = app.tenant("globex", false).await;
    let globex_user = app
        .create_user(
            &globex.token,
            json!({"name": "Gus Globex", "email": "gus@globex.test"}),
            Value::Null,
        )
        .await;
    let acme_user = app
        .create_user(
            &acme.token,
            json!({"name": "Amy Acme", "email": "amy@acme.test"}),
            Value::Null,
        )
        .await;
    let globex_team = app.insert_team(&globex.account_id, "Globex Team");
    app.add_to_team(&globex_team, &globex_user, "member");
    let acme_team = app.insert_team(&acme.account_id, "Acme Team");
    app.add_to_team(&acme_team, &acme_user, "member");
    // A row that breaks the rules (a team of acme with a member of globex only): even
    // then, nothing of globex may reach an acme caller.
    app.add_to_team(&acme_team, &globex_user, "member");
    Two {
        acme,
        globex,
        globex_user,
        globex_team,
        acme_team,
        acme_user,
    }
}

#[tokio::test]
async fn another_accounts_resources_are_404_by_id() {
    let app = spawn_app().await;
    let t = two_accounts(&app).await;
    let token = &t.acme.token;
    for path in [
        format!("/users/{}", t.globex_user),
        format!("/users/{}", t.globex.user_id),
        format!("/accounts/{}", t.globex.account_id),
        format!("/teams/{}", t.globex_team),
    ] {
        app.get(&path, token).await.assert_error(404, "not_found");
    }
    // Not 403 for writes either.
    app.patch(
        &format!("/users/{}", t.globex_user),
        token,
        &json!({"data": {"type": "user", "id": t.globex_user, "attributes": {"name": "Pwned"}}}),
    )
    .await
    .assert_error(404, "not_found");
    app.delete(&format!("/users/{}", t.globex_user), token)
        .await
        .assert_error(404, "not_found");
    let still = app
        .get(&format!("/users/{}", t.globex_user), &t.globex.token)
        .await;
    still.assert_status(200);
    assert_eq!(still.body["data"]["attributes"]["name"], "Gus Globex");
}

#[tokio::test]
async fn another_accounts_resources_are_absent_from_lists() {
    let app = spawn_app().await;
    let t = two_accounts(&app).await;
    let token = &t.acme.token;
    let globex_ids = [
        t.globex_user.clone(),
        t.globex.user_id.clone(),
        t.globex.account_id.clone(),
        t.globex_team.clone(),
    ];
    let users = app.get("/users?page[size]=100", token).await;
    let mut ids = users.ids();
    ids.sort();
    let mut expected = vec![t.acme.user_id.clone(), t.acme_user.clone()];
    expected.sort();
    assert_eq!(ids, expected);
    assert_eq!(users.body["meta"]["total"], 2);
    for path in [
        "/accounts",
        "/teams",
        "/account_memberships?page[size]=100",
        "/users?filter[q]=globex",
        "/users?filter[email]=gus@globex.test",
        "/devices",
        "/sessions",
    ] {
        let resp = app.get(path, token).await;
        resp.assert_status(200);
        for id in &globex_ids {
            assert!(!resp.text.contains(id.as_str()), "{path}: {}", resp.text);
        }
    }
    assert_eq!(
        app.get("/accounts", token).await.ids(),
        vec![t.acme.account_id.clone()]
    );
    assert_eq!(
        app.get("/teams", token).await.ids(),
        vec![t.acme_team.clone()]
    );
    // Asking for another account's collection shows nothing of it.
    let resp = app
        .get(
            &format!("/users?filter[account]={}", t.globex.account_id),
            token,
        )
        .await;
    if resp.status.is_success() {
        let shown = resp.ids();
        for id in &globex_ids {
            assert!(!shown.contains(id), "{}", resp.text);
        }
    }
}

#[tokio::test]
async fn another_accounts_users_never_appear_in_includes_or_linkage() {
    let app = spawn_app().await;
    let t = two_accounts(&app).await;
    let token = &t.acme.token;
    for path in [
        "/teams?include=users".to_owned(),
        format!("/teams/{}?include=users.teams", t.acme_team),
        "/users?include=teams.users".to_owned(),
        format!("/teams/{}/users", t.acme_team),
        format!("/teams/{}/relationships/users", t.acme_team),
        format!("/accounts/{}?include=users", t.acme.account_id),
        format!("/accounts/{}/users", t.acme.account_id),
    ] {
        let resp = app.get(&path, token).await;
        resp.assert_status(200);
        assert!(
            !resp.text.contains(&t.globex_user),
            "{path} shows a globex user: {}",
            resp.text
        );
    }
    let team = app
        .get(&format!("/teams/{}?include=users", t.acme_team), token)
        .await;
    assert_eq!(
        ids(&team.body["data"]["relationships"]["users"]["data"]),
        vec![t.acme_user.clone()]
    );
}

#[tokio::test]
async fn related_and_relationship_endpoints_of_another_account_are_404() {
    let app = spawn_app().await;
    let t = two_accounts(&app).await;
    let token = &t.acme.token;
    for path in [
        format!("/users/{}/teams", t.globex_user),
        format!("/users/{}/account", t.globex_user),
        format!("/users/{}/account_memberships", t.globex_user),
        format!("/users/{}/relationships/teams", t.globex_user),
        format!("/users/{}/relationships/account", t.globex_user),
        format!("/teams/{}/users", t.globex_team),
        format!("/teams/{}/relationships/users", t.globex_team),
        format!("/accounts/{}/users", t.globex.account_id),
        format!("/accounts/{}/teams", t.globex.account_id),
        format!("/accounts/{}/relationships/users", t.globex.account_id),
    ] {
        app.get(&path, token).await.assert_error(404, "not_found");
    }
}

#[tokio::test]
async fn a_platform_admin_reads_any_account_by_id_and_by_filter() {
    let app = spawn_app().await;
    let t = two_accounts(&app).await;
    let root = app.tenant("root", true).await;
    let user = app
        .get(&format!("/users/{}", t.globex_user), &root.token)
        .await;
    user.assert_status(200);
    assert_eq!(user.body["data"]["attributes"]["email"], "gus@globex.test");
    let list = app
        .get(
            &format!("/users?filter[account]={}", t.globex.account_id),
            &root.token,
        )
        .await;
    list.assert_status(200);
    let mut ids = list.ids();
    ids.sort();
    let mut expected = vec![t.globex.user_id.clone(), t.globex_user.clone()];
    expected.sort();
    assert_eq!(ids, expected);
    // Without the filter: its own account.
    let own = app.get("/users", &root.token).await;
    assert_eq!(own.ids(), vec![root.user_id.clone()]);
    // An ordinary owner cannot do the same.
    app.get(&format!("/users/{}", t.acme.user_id), &t.globex.token)
        .await
        .assert_error(404, "not_found");
}

#[tokio::test]
async fn sign_in_is_per_account() {
    let app = spawn_app().await;
    let t = two_accounts(&app).await;
    // The globex owner's credentials do not open acme.
    let resp = app
        .try_sign_in("acme", &t.globex.email, OWNER_PASSWORD)
        .await;
    resp.assert_error(401, "invalid_credentials");
    // A token is for the account it signed in to.
    let me = app.get("/users", &t.globex.token).await;
    assert!(!me.ids().contains(&t.acme.user_id));
}

#[tokio::test]
async fn a_guest_is_a_user_of_the_account_that_added_it() {
    let app = spawn_app().await;
    let t = two_accounts(&app).await;
    let password = "guest-password-1";
    let guest = app
        .create_user(
            &t.globex.token,
            json!({"name": "Gina Guest", "email": "gina@globex.test", "password": password}),
            Value::Null,
        )
        .await;
    app.add_to_account(&t.acme.account_id, &guest, "member");

    // Listed and readable in acme, with its acme membership only.
    let users = app.get("/users?page[size]=100", &t.acme.token).await;
    assert!(users.ids().contains(&guest), "{}", users.text);
    let shown = app
        .get(
            &format!("/users/{guest}?include=account_memberships"),
            &t.acme.token,
        )
        .await;
    shown.assert_status(200);
    let memberships = included_of(&shown.body, "account_membership");
    assert_eq!(memberships.len(), 1, "{}", shown.text);
    let membership = memberships.values().next().unwrap();
    assert_eq!(
        membership["relationships"]["account"]["data"]["id"],
        t.acme.account_id
    );
    // Its home account stays its `account`.
    assert_eq!(
        shown.body["data"]["relationships"]["account"]["data"]["id"],
        t.globex.account_id
    );

    // It signs in to either account; its acme session sees acme.
    let token = app.sign_in("acme", "gina@globex.test", password).await;
    let acme_users = app.get("/users?page[size]=100", &token).await;
    assert!(acme_users.ids().contains(&t.acme.user_id));
    assert!(!acme_users.ids().contains(&t.globex_user));
    app.sign_in("globex", "gina@globex.test", password).await;
}

#[tokio::test]

async fn a_guests_email_is_taken_in_the_account_that_added_it() {
    let app = spawn_app().await;
    let t = two_accounts(&app).await;
    app.add_to_account(&t.acme.account_id, &t.globex_user, "member");
    // "unique among the account's non-discarded users", and the users of an account are
    // those with a membership in it.
    let resp = app
        .try_create_user(
            &t.acme.token,
            json!({"name": "Gus Again", "email": "GUS@globex.test"}),
            Value::Null,
        )
        .await;
    resp.assert_error(409, "taken");
    assert_eq!(resp.error()["source"]["pointer"], "/data/attributes/email");
}

#[tokio::test]
async fn devices_are_read_by_their_user_and_account_admins_only() {
    let app = spawn_app().await;
    let t = two_accounts(&app).await;
    let (member_id, member) = app
        .member(&t.acme.token, "acme", "Mia", "mia@acme.test", "member")
        .await;
    let mine = app.insert_device(&member_id, "apns-mia");
    let owners = app.insert_device(&t.acme.user_id, "apns-owner");
    let foreign = app.insert_device(&t.globex_user, "apns-gus");

    let own_list = app.get("/devices", &member).await;
    own_list.assert_status(200);
    assert_eq!(own_list.ids(), vec![mine.clone()]);
    app.get(&format!("/devices/{owners}"), &member)
        .await
        .assert_error(404, "not_found");
    let included = app.get("/users?include=devices", &member).await;
    included.assert_status(200);
    let devices: Vec<String> = included_of(&included.body, "device").into_keys().collect();
    assert_eq!(devices, vec![mine.clone()]);

    let admin_list = app.get("/devices", &t.acme.token).await;
    let mut got = admin_list.ids();
    got.sort();
    let mut want = vec![mine.clone(), owners.clone()];
    want.sort();
    assert_eq!(got, want);
    let device = app.get(&format!("/devices/{mine}"), &t.acme.token).await;
    device.assert_status(200);
    assert_eq!(device.body["data"]["attributes"]["device_type"], "ios");
    assert_eq!(
        device.body["data"]["relationships"]["user"]["data"]["id"],
        member_id
    );
    // The owner reads them, but they are the member's to manage.
    assert_eq!(
        device.body["data"]["meta"]["permissions"]["actions"],
        json!({"edit": false, "delete": false})
    );
    app.get(&format!("/devices/{foreign}"), &t.acme.token)
        .await
        .assert_error(404, "not_found");
}
