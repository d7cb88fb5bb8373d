//! Issue 8's rules that keep one account from another (SPEC §2, §4): guests only by
//! consent (account invitations), a guest never an owner, a guest may leave, deleting a
//! user ends its guest memberships, a guest's devices private to its home account, body
//! linkages the caller cannot see answered 404 before 403 and 422, and filters that name
//! other resources matching only what the caller may see. Each test tries to break the
//! rule it is named after, as account `acme` (A) against `globex` (B).

use diesel::prelude::*;
use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::*;
use roster::db::schema::{account_invitations, account_memberships};

const GUS_PASSWORD: &str = "gus-password-1";

/// Two accounts and a platform admin: acme (owner, admin `adam`, member `mia`, team
/// `Acme Team`), globex (owner, member `gus@globex.test` with a device, team `Globex
/// Team` with gus in it), root (platform admin).
struct World {
    app: TestApp,
    acme: Tenant,
    adam: (String, String),
    mia: (String, String),
    acme_team: String,
    globex: Tenant,
    gus: String,
    /// gus signed in to its home account.
    gus_home: String,
    gus_device: String,
    globex_team: String,
    root: Tenant,
}

async fn world() -> World {
    let app = spawn_app().await;
    let acme = app.tenant("acme", false).await;
    let globex = app.tenant("globex", false).await;
    let root = app.tenant("root", true).await;
    let adam = app
        .member(&acme.token, "acme", "Adam", "adam@acme.test", "admin")
        .await;
    let mia = app
        .member(&acme.token, "acme", "Mia", "mia@acme.test", "member")
        .await;
    let gus = app
        .create_user(
            &globex.token,
            json!({"name": "Gus", "email": "gus@globex.test", "password": GUS_PASSWORD}),
            Value::Null,
        )
        .await;
    let gus_home = app.sign_in("globex", "gus@globex.test", GUS_PASSWORD).await;
    let device = app
        .post(
            "/devices",
            Some(&gus_home),
            &json!({"data": {"type": "device", "attributes": {
                "device_type": "ios", "sub_type": "iphone", "token": "gus-push-token"}}}),
        )
        .await;
    device.assert_status(201);
    let gus_device = device.body["data"]["id"].as_str().expect("id").to_owned();
    let acme_team = app.insert_team(&acme.account_id, "Acme Team");
    let globex_team = app.insert_team(&globex.account_id, "Globex Team");
    app.add_to_team(&globex_team, &gus, "member");
    World {
        app,
        acme,
        adam,
        mia,
        acme_team,
        globex,
        gus,
        gus_home,
        gus_device,
        globex_team,
        root,
    }
}

impl World {
    /// gus joins acme as `role` by accepting acme's owner's invitation; returns the
    /// membership's id and gus's session in acme.
    async fn gus_joins_acme(&self, role: &str) -> (String, String) {
        let membership = self
            .app
            .join_as_guest(&self.acme.token, &self.gus_home, "gus@globex.test", role)
            .await;
        let token = self
            .app
            .sign_in("acme", "gus@globex.test", GUS_PASSWORD)
            .await;
        (membership, token)
    }
}

fn membership_doc(user: &str, role: &str) -> Value {
    json!({"data": {"type": "account_membership", "attributes": {"role": role},
            "relationships": {"user": {"data": {"type": "user", "id": user}}}}})
}

fn invitation_doc(email: &str, role: &str) -> Value {
    json!({"data": {"type": "account_invitation", "attributes": {"email": email, "role": role}}})
}

/// Acme's audit events with this action on this target, as `token` lists them.
async fn events(app: &TestApp, token: &str, action: &str, target: &str) -> Resp {
    let resp = app
        .get(
            &format!("/audit_events?filter[action]={action}&filter[target]={target}"),
            token,
        )
        .await;
    resp.assert_status(200);
    resp
}

/// The error as a client sees it, without what differs by request.
fn error_shape(resp: &Resp) -> (u16, Value) {
    (resp.status.as_u16(), resp.body.clone())
}

// ---------------------------------------------------------------------------------
// Guests only by consent

#[tokio::test]
async fn an_account_admin_cannot_add_another_accounts_user_by_id() {
    let w = world().await;
    for token in [&w.acme.token, &w.adam.1] {
        // B's user is invisible to A: 404 at the linkage, exactly as for no user at all.
        let hidden = w
            .app
            .post(
                "/account_memberships",
                Some(token),
                &membership_doc(&w.gus, "member"),
            )
            .await;
        assert_pointer(&hidden, 404, "not_found", "/data/relationships/user");
        let nobody = w
            .app
            .post(
                "/account_memberships",
                Some(token),
                &membership_doc(&uuid::Uuid::now_v7().to_string(), "member"),
            )
            .await;
        assert_eq!(error_shape(&hidden), error_shape(&nobody));
        // A user A can see: adding by id is for platform admins.
        w.app
            .post(
                "/account_memberships",
                Some(token),
                &membership_doc(&w.mia.0, "admin"),
            )
            .await
            .assert_error(403, "forbidden");
    }
    // Nothing was added: gus, its email and its push tokens stay out of A's reach.
    let memberships: i64 = account_memberships::table
        .filter(account_memberships::user_id.eq(&w.gus))
        .count()
        .get_result(&mut w.app.db())
        .expect("count");
    assert_eq!(memberships, 1);
    w.app
        .get(&format!("/users/{}", w.gus), &w.acme.token)
        .await
        .assert_error(404, "not_found");
    w.app
        .get(&format!("/devices/{}", w.gus_device), &w.acme.token)
        .await
        .assert_error(404, "not_found");
    // A platform admin may — into an account that exists and is not deleted.
    let side = w.app.tenant("side", false).await;
    w.app
        .delete(&format!("/accounts/{}", side.account_id), &side.token)
        .await
        .assert_status(204);
    for account in [uuid::Uuid::now_v7().to_string(), side.account_id.clone()] {
        let resp = w
            .app
            .post(
                "/account_memberships",
                Some(&w.root.token),
                &json!({"data": {"type": "account_membership",
                        "relationships": {
                            "user": {"data": {"type": "user", "id": w.gus}},
                            "account": {"data": {"type": "account", "id": account}}}}}),
            )
            .await;
        assert_pointer(&resp, 404, "not_found", "/data/relationships/account");
    }
    w.app
        .post(
            "/account_memberships",
            Some(&w.root.token),
            &json!({"data": {"type": "account_membership", "attributes": {"role": "member"},
                    "relationships": {
                        "user": {"data": {"type": "user", "id": w.gus}},
                        "account": {"data": {"type": "account", "id": w.acme.account_id}}}}}),
        )
        .await
        .assert_status(201);
}

#[tokio::test]
async fn a_user_joins_another_account_only_by_accepting_its_invitation() {
    let w = world().await;
    let created = w
        .app
        .post(
            "/account_invitations",
            Some(&w.acme.token),
            &invitation_doc("Gus@Globex.TEST", "admin"),
        )
        .await;
    created.assert_status(201);
    let data = &created.body["data"];
    let id = data["id"].as_str().expect("id").to_owned();
    assert_eq!(created.header("location"), data["links"]["self"].as_str());
    assert_eq!(data["type"], "account_invitation");
    assert_eq!(data["attributes"]["email"], "Gus@Globex.TEST");
    assert_eq!(data["attributes"]["role"], "admin");
    assert_eq!(data["attributes"]["accepted_at"], Value::Null);
    assert!(
        data["attributes"].get("token").is_none(),
        "{}",
        created.text
    );
    let expires = time(&data["attributes"]["expires_at"]);
    let made = time(&data["attributes"]["created_at"]);
    assert_eq!(expires - made, chrono::Duration::days(7));
    assert_eq!(
        data["relationships"]["account"]["data"]["id"],
        w.acme.account_id.as_str()
    );
    assert_eq!(
        data["relationships"]["inviter"]["data"]["id"],
        w.acme.user_id.as_str()
    );
    assert_eq!(data["relationships"]["user"]["data"], Value::Null);
    assert_eq!(
        data["meta"]["permissions"]["actions"],
        json!({"delete": true})
    );
    let token = created.body["meta"]["invitation"]["token"]
        .as_str()
        .expect("meta.invitation.token")
        .to_owned();
    assert!(token.len() >= 32, "{token}");
    assert_eq!(
        created.body["meta"]["invitation"]["expires_at"],
        data["attributes"]["expires_at"]
    );
    // Stored hashed, never shown again.
    let stored: String = account_invitations::table
        .find(&id)
        .select(account_invitations::token_hash)
        .first(&mut w.app.db())
        .expect("stored");
    assert!(!stored.contains(&token));
    let shown = w
        .app
        .get(&format!("/account_invitations/{id}"), &w.acme.token)
        .await;
    shown.assert_status(200);
    let listed = w.app.get("/account_invitations", &w.acme.token).await;
    assert_eq!(listed.ids(), vec![id.clone()]);
    let log = w
        .app
        .get("/audit_events?page[size]=100", &w.acme.token)
        .await;
    for text in [&shown.text, &listed.text, &log.text] {
        assert!(!text.contains(&token), "the token leaked: {text}");
    }

    // Nobody but the user with that email can use the token: the same 404 as no token.
    let unknown = w
        .app
        .try_accept_account_invitation(&w.mia.1, "no-such-token")
        .await;
    assert_pointer(&unknown, 404, "not_found", "/data/attributes/token");
    for someone_else in [&w.mia.1, &w.acme.token, &w.globex.token, &w.root.token] {
        let resp = w
            .app
            .try_accept_account_invitation(someone_else, &token)
            .await;
        assert_eq!(error_shape(&resp), error_shape(&unknown));
    }
    w.app
        .post(
            "/account_invitations/accept",
            None,
            &json!({"data": {"type": "account_invitation_acceptance",
                    "attributes": {"token": token}}}),
        )
        .await
        .assert_error(401, "unauthorized");

    // gus, signed in to its home account, accepts.
    let accepted = w
        .app
        .try_accept_account_invitation(&w.gus_home, &token)
        .await;
    accepted.assert_status(201);
    let membership = &accepted.body["data"];
    assert_eq!(membership["type"], "account_membership");
    assert_eq!(membership["attributes"]["role"], "admin");
    assert_eq!(
        membership["relationships"]["user"]["data"]["id"],
        w.gus.as_str()
    );
    assert_eq!(
        membership["relationships"]["account"]["data"]["id"],
        w.acme.account_id.as_str()
    );
    assert_eq!(
        accepted.header("location"),
        membership["links"]["self"].as_str()
    );
    // Not through this session, which is in gus's home account (it leaves from a
    // session in acme: `a_guest_may_leave_an_account`).
    assert_eq!(
        membership["meta"]["permissions"]["actions"],
        json!({"edit": false, "delete": false})
    );
    w.app
        .delete(
            membership["links"]["self"].as_str().expect("self"),
            &w.gus_home,
        )
        .await
        .assert_error(404, "not_found");
    let membership_id = membership["id"].as_str().expect("id").to_owned();
    // Single use.
    let again = w
        .app
        .try_accept_account_invitation(&w.gus_home, &token)
        .await;
    assert_eq!(error_shape(&again), error_shape(&unknown));

    let shown = w
        .app
        .get(&format!("/account_invitations/{id}"), &w.acme.token)
        .await;
    assert!(shown.body["data"]["attributes"]["accepted_at"].is_string());
    assert_eq!(
        shown.body["data"]["relationships"]["user"]["data"]["id"],
        w.gus.as_str()
    );
    // gus is a user of acme now, and signs in to it with its own password.
    let in_acme = w.app.sign_in("acme", "gus@globex.test", GUS_PASSWORD).await;
    let users = w.app.get("/users?page[size]=100", &w.acme.token).await;
    assert!(users.ids().contains(&w.gus));
    w.app
        .get("/audit_events", &in_acme)
        .await
        .assert_status(200);
    // Each step is in acme's log, by whom it was done.
    for (action, target, actor) in [
        ("account_invitation.created", &id, &w.acme.user_id),
        ("account_invitation.accepted", &id, &w.gus),
        ("account_membership.created", &membership_id, &w.gus),
    ] {
        let events = events(&w.app, &w.acme.token, action, target).await;
        assert_eq!(events.ids().len(), 1, "{action}: {}", events.text);
        assert_eq!(
            events.body["data"][0]["relationships"]["actor"]["data"]["id"],
            actor.as_str(),
            "{action}"
        );
    }
}

#[tokio::test]
async fn an_invitation_answer_does_not_depend_on_whether_the_email_exists() {
    let w = world().await;
    let mut shapes = Vec::new();
    for email in ["gus@globex.test", "nobody@nowhere.test"] {
        let resp = w
            .app
            .post(
                "/account_invitations",
                Some(&w.acme.token),
                &invitation_doc(email, "member"),
            )
            .await;
        resp.assert_status(201);
        let id = resp.body["data"]["id"].as_str().expect("id");
        let mut body: Value =
            serde_json::from_str(&resp.text.replace(id, "ID")).expect("a document");
        body["data"]["attributes"]["email"] = Value::Null;
        for time in ["created_at", "expires_at"] {
            body["data"]["attributes"][time] = Value::Null;
        }
        body["meta"]["invitation"] = Value::Null;
        body["links"] = Value::Null;
        shapes.push((body, queries(&resp)));
    }
    assert_eq!(shapes[0], shapes[1]);
    // An invitation per email at a time; a user of the account already has its place.
    w.app
        .post(
            "/account_invitations",
            Some(&w.acme.token),
            &invitation_doc("GUS@globex.test", "admin"),
        )
        .await
        .assert_error(409, "taken");
    let member = w
        .app
        .post(
            "/account_invitations",
            Some(&w.acme.token),
            &invitation_doc("mia@acme.test", "member"),
        )
        .await;
    assert_pointer(&member, 409, "taken", "/data/attributes/email");
}

#[tokio::test]
async fn expired_revoked_and_used_invitations_are_404() {
    let w = world().await;
    // Revoked by deleting it.
    let (id, token) = w
        .app
        .invite_to_account(&w.acme.token, "gus@globex.test", "member")
        .await;
    w.app
        .delete(&format!("/account_invitations/{id}"), &w.adam.1)
        .await
        .assert_status(204);
    let events = events(&w.app, &w.acme.token, "account_invitation.deleted", &id).await;
    assert_eq!(events.ids().len(), 1, "{}", events.text);
    assert_pointer(
        &w.app
            .try_accept_account_invitation(&w.gus_home, &token)
            .await,
        404,
        "not_found",
        "/data/attributes/token",
    );
    w.app
        .get(&format!("/account_invitations/{id}"), &w.acme.token)
        .await
        .assert_error(404, "not_found");

    // Expired after seven days.
    let (_, token) = w
        .app
        .invite_to_account(&w.acme.token, "gus@globex.test", "member")
        .await;
    w.app.clock.advance(7 * 24 * 3600 + 1);
    let gus_home = w
        .app
        .sign_in("globex", "gus@globex.test", GUS_PASSWORD)
        .await;
    w.app
        .try_accept_account_invitation(&gus_home, &token)
        .await
        .assert_error(404, "not_found");
    // An expired invitation does not block a new one.
    let acme = w.app.sign_in("acme", &w.acme.email, OWNER_PASSWORD).await;
    let (_, token) = w
        .app
        .invite_to_account(&acme, "gus@globex.test", "member")
        .await;
    w.app
        .try_accept_account_invitation(&gus_home, &token)
        .await
        .assert_status(201);
}

#[tokio::test]
async fn only_admins_see_and_manage_an_accounts_invitations() {
    let w = world().await;
    let (id, _) = w
        .app
        .invite_to_account(&w.acme.token, "someone@else.test", "member")
        .await;
    // A plain member: not its business.
    w.app
        .post(
            "/account_invitations",
            Some(&w.mia.1),
            &invitation_doc("x@y.test", "member"),
        )
        .await
        .assert_error(403, "forbidden");
    w.app
        .get("/account_invitations", &w.mia.1)
        .await
        .assert_error(403, "forbidden");
    w.app
        .delete(&format!("/account_invitations/{id}"), &w.mia.1)
        .await
        .assert_error(403, "forbidden");
    // Another account: it does not exist.
    let globex_list = w.app.get("/account_invitations", &w.globex.token).await;
    globex_list.assert_status(200);
    assert!(globex_list.ids().is_empty());
    for resp in [
        w.app
            .get(&format!("/account_invitations/{id}"), &w.globex.token)
            .await,
        w.app
            .delete(&format!("/account_invitations/{id}"), &w.globex.token)
            .await,
    ] {
        resp.assert_error(404, "not_found");
    }
    // …nor can it invite into acme.
    let into_acme = w
        .app
        .post(
            "/account_invitations",
            Some(&w.globex.token),
            &json!({"data": {"type": "account_invitation",
                    "attributes": {"email": "x@y.test"},
                    "relationships": {"account": {"data": {"type": "account", "id": w.acme.account_id}}}}}),
        )
        .await;
    assert_pointer(&into_acme, 404, "not_found", "/data/relationships/account");
    // Who invited and who accepted are the server's to say.
    let forged = w
        .app
        .post(
            "/account_invitations",
            Some(&w.acme.token),
            &json!({"data": {"type": "account_invitation",
                    "attributes": {"email": "x@y.test"},
                    "relationships": {"inviter": {"data": {"type": "user", "id": w.mia.0}}}}}),
        )
        .await;
    assert_pointer(&forged, 403, "forbidden", "/data/relationships/inviter");
    // An admin and a platform admin may.
    let root_list = w
        .app
        .get(
            &format!("/account_invitations?filter[account]={}", w.acme.account_id),
            &w.root.token,
        )
        .await;
    assert_eq!(root_list.ids(), vec![id.clone()]);
    w.app
        .delete(&format!("/account_invitations/{id}"), &w.root.token)
        .await
        .assert_status(204);
}

#[tokio::test]
async fn a_guest_is_never_an_owner() {
    let w = world().await;
    let owner_invite = w
        .app
        .post(
            "/account_invitations",
            Some(&w.acme.token),
            &invitation_doc("gus@globex.test", "owner"),
        )
        .await;
    assert_pointer(
        &owner_invite,
        422,
        "validation_failed",
        "/data/attributes/role",
    );

    let (membership, _) = w.gus_joins_acme("admin").await;
    for token in [&w.acme.token, &w.root.token] {
        let promoted = w
            .app
            .patch(
                &format!("/account_memberships/{membership}"),
                token,
                &json!({"data": {"type": "account_membership", "id": membership,
                        "attributes": {"role": "owner"}}}),
            )
            .await;
        assert_pointer(&promoted, 422, "validation_failed", "/data/attributes/role");
    }
    let shown = w
        .app
        .get(&format!("/account_memberships/{membership}"), &w.acme.token)
        .await;
    assert_eq!(shown.body["data"]["attributes"]["role"], "admin");

    // Not even a platform admin adds a guest as an owner.
    let other = w
        .app
        .create_user(
            &w.globex.token,
            json!({"name": "Gia", "email": "gia@globex.test"}),
            Value::Null,
        )
        .await;
    let doc = |role: &str| {
        json!({"data": {"type": "account_membership", "attributes": {"role": role},
                "relationships": {
                    "user": {"data": {"type": "user", "id": other}},
                    "account": {"data": {"type": "account", "id": w.acme.account_id}}}}})
    };
    let as_owner = w
        .app
        .post("/account_memberships", Some(&w.root.token), &doc("owner"))
        .await;
    assert_pointer(&as_owner, 422, "validation_failed", "/data/attributes/role");

    // So globex manages its own user whatever acme did: no `last_owner` in the way.
    let gus = &w.gus;
    w.app
        .post(
            &format!("/users/{gus}/actions/deactivate"),
            Some(&w.globex.token),
            &Value::Null,
        )
        .await;
    let status = w.app.get(&format!("/users/{gus}"), &w.globex.token).await;
    assert_eq!(status.body["data"]["attributes"]["status"], "deactivated");
    w.app
        .delete(&format!("/users/{gus}"), &w.globex.token)
        .await
        .assert_status(204);
}

#[tokio::test]
async fn the_migration_demotes_existing_guest_owners_to_admins() {
    use diesel::connection::SimpleConnection;
    use diesel_migrations::MigrationHarness;
    let database = TestDatabase::new();
    let mut conn = roster::db::establish(&database.url).expect("connect");
    // The schema as it was before the rule: every migration but the guests' one.
    for _ in 0..4 {
        match &mut conn {
            roster::db::DbConnection::Sqlite(c) => c
                .run_next_migration(roster::db::SQLITE_MIGRATIONS)
                .map(drop),
            roster::db::DbConnection::Postgresql(c) => c
                .run_next_migration(roster::db::POSTGRES_MIGRATIONS)
                .map(drop),
        }
        .expect("migration");
    }
    let now = "2026-11-01 10:00:00";
    conn.batch_execute(&format!(
        "INSERT INTO accounts (id, name, slug, created_at, updated_at) VALUES
           ('a', 'A', 'aaa', '{now}', '{now}'), ('b', 'B', 'bbb', '{now}', '{now}');
         INSERT INTO users (id, account_id, name, status, timezone, preferences, created_at, updated_at) VALUES
           ('ua', 'a', 'Home owner', 'active', 'UTC', '{{}}', '{now}', '{now}'),
           ('ub', 'b', 'Guest owner', 'active', 'UTC', '{{}}', '{now}', '{now}');
         INSERT INTO account_memberships (id, account_id, user_id, role, created_at, updated_at) VALUES
           ('ma', 'a', 'ua', 'owner', '{now}', '{now}'),
           ('mb', 'b', 'ub', 'owner', '{now}', '{now}'),
           ('mg', 'a', 'ub', 'owner', '{now}', '{now}');
         INSERT INTO accounts (id, name, slug, created_at, updated_at) VALUES
           ('c', 'C', 'ccc', '{now}', '{now}');
         INSERT INTO account_memberships (id, account_id, user_id, role, created_at, updated_at) VALUES
           ('mc', 'c', 'ub', 'owner', '{now}', '{now}');
         INSERT INTO audit_events (id, account_id, actor_id, action, target_type, target_id, changes, occurred_at) VALUES
           ('e', 'c', 'ub', 'account.created', 'account', 'c', '{{}}', '{now}');"
    ))
    .expect("rows of the old schema");
    roster::db::run_migrations(&mut conn).expect("the guests' migration");
    let roles: Vec<(String, String)> = account_memberships::table
        .select((account_memberships::id, account_memberships::role))
        .order(account_memberships::id)
        .load(&mut conn)
        .expect("roles");
    assert_eq!(
        roles,
        // `mc`: ub created account c itself (`POST /accounts`); it stays its owner.
        [
            ("ma", "owner"),
            ("mb", "owner"),
            ("mc", "owner"),
            ("mg", "admin")
        ]
        .map(|(id, role)| (id.to_owned(), role.to_owned()))
    );
}

#[tokio::test]
async fn an_account_a_user_created_does_not_stand_in_the_way_of_its_home() {
    let w = world().await;
    // gus creates an account of its own: its owner, though homed in globex.
    let created = w
        .app
        .post(
            "/accounts",
            Some(&w.gus_home),
            &json!({"data": {"type": "account", "attributes": {"name": "Gus Co", "slug": "gus-co"}}}),
        )
        .await;
    created.assert_status(201);
    let gus_co = created.body["data"]["id"].as_str().expect("id").to_owned();
    // globex still deactivates, reactivates and deletes its user.
    let gus = &w.gus;
    for action in ["deactivate", "reactivate"] {
        w.app
            .post(
                &format!("/users/{gus}/actions/{action}"),
                Some(&w.globex.token),
                &Value::Null,
            )
            .await
            .assert_status(200);
    }
    w.app
        .delete(&format!("/users/{gus}"), &w.globex.token)
        .await
        .assert_status(204);
    // Its ownership of the account it created ended with it.
    let left: i64 = account_memberships::table
        .filter(account_memberships::user_id.eq(gus))
        .filter(account_memberships::account_id.eq(&gus_co))
        .count()
        .get_result(&mut w.app.db())
        .expect("count");
    assert_eq!(left, 0);
}

#[tokio::test]
async fn a_guest_may_leave_an_account() {
    let w = world().await;
    let (membership, in_acme) = w.gus_joins_acme("member").await;
    // Not a plain member's to remove, nor any of gus's other business.
    w.app
        .delete(&format!("/account_memberships/{membership}"), &w.mia.1)
        .await
        .assert_error(403, "forbidden");
    let shown = w
        .app
        .get(&format!("/account_memberships/{membership}"), &in_acme)
        .await;
    assert_eq!(
        shown.body["data"]["meta"]["permissions"]["actions"],
        json!({"edit": false, "delete": true})
    );
    // Its home membership is not its to remove.
    let home = w
        .app
        .get(
            &format!("/account_memberships?filter[user]={}", w.gus),
            &w.gus_home,
        )
        .await;
    let home_id = home.ids()[0].clone();
    let home_shown = w
        .app
        .get(&format!("/account_memberships/{home_id}"), &w.gus_home)
        .await;
    assert_eq!(
        home_shown.body["data"]["meta"]["permissions"]["actions"]["delete"],
        false
    );
    w.app
        .delete(&format!("/account_memberships/{home_id}"), &w.gus_home)
        .await
        .assert_error(403, "forbidden");

    w.app
        .delete(&format!("/account_memberships/{membership}"), &in_acme)
        .await
        .assert_status(204);
    w.app
        .get("/me", &in_acme)
        .await
        .assert_error(401, "unauthorized");
    w.app.get("/me", &w.gus_home).await.assert_status(200);
    let events = events(
        &w.app,
        &w.acme.token,
        "account_membership.deleted",
        &membership,
    )
    .await;
    assert_eq!(
        events.body["data"][0]["relationships"]["actor"]["data"]["id"],
        w.gus.as_str()
    );
}

#[tokio::test]
async fn deleting_a_user_ends_its_guest_memberships() {
    let w = world().await;
    let (membership, _) = w.gus_joins_acme("admin").await;
    w.app
        .post(
            &format!("/teams/{}/relationships/users", w.acme_team),
            Some(&w.acme.token),
            &json!({"data": [{"type": "user", "id": w.gus}]}),
        )
        .await
        .assert_status(204);
    w.app
        .delete(&format!("/users/{}", w.gus), &w.globex.token)
        .await
        .assert_status(204);
    let users = w.app.get("/users?page[size]=100", &w.acme.token).await;
    assert!(!users.ids().contains(&w.gus));
    w.app
        .get(&format!("/account_memberships/{membership}"), &w.acme.token)
        .await
        .assert_error(404, "not_found");
    let team = w
        .app
        .get(
            &format!("/teams/{}/relationships/users", w.acme_team),
            &w.acme.token,
        )
        .await;
    assert_eq!(team.body["data"], json!([]));
    let events = events(
        &w.app,
        &w.acme.token,
        "account_membership.deleted",
        &membership,
    )
    .await;
    assert_eq!(events.ids().len(), 1, "{}", events.text);
    // Restored at home, it is not a guest of acme again.
    w.app
        .post(
            &format!("/users/{}/actions/restore", w.gus),
            Some(&w.globex.token),
            &Value::Null,
        )
        .await
        .assert_status(200);
    let left: Vec<String> = account_memberships::table
        .filter(account_memberships::user_id.eq(&w.gus))
        .select(account_memberships::account_id)
        .load(&mut w.app.db())
        .expect("memberships");
    assert_eq!(left, vec![w.globex.account_id.clone()]);
}

#[tokio::test]
async fn a_guests_devices_stay_private_to_its_home_account() {
    let w = world().await;
    let (_, in_acme) = w.gus_joins_acme("admin").await;
    let device = format!("/devices/{}", w.gus_device);
    for token in [&w.acme.token, &w.adam.1] {
        w.app
            .get(&device, token)
            .await
            .assert_error(404, "not_found");
        let listed = w.app.get("/devices", token).await;
        assert!(!listed.ids().contains(&w.gus_device), "{}", listed.text);
        let related = w.app.get(&format!("/users/{}/devices", w.gus), token).await;
        related.assert_status(200);
        assert_eq!(related.body["data"], json!([]));
        let included = w
            .app
            .get(&format!("/users/{}?include=devices", w.gus), token)
            .await;
        included.assert_status(200);
        assert!(
            !included.text.contains("gus-push-token"),
            "{}",
            included.text
        );
    }
    // Its home account's admins read them; gus itself anywhere.
    w.app.get(&device, &w.globex.token).await.assert_status(200);
    w.app.get(&device, &in_acme).await.assert_status(200);
    w.app.get(&device, &w.gus_home).await.assert_status(200);
}

#[tokio::test]
async fn concurrent_acceptances_of_one_invitation_make_one_membership() {
    let w = world().await;
    let (_, token) = w
        .app
        .invite_to_account(&w.acme.token, "gus@globex.test", "member")
        .await;
    let attempts = (0..12).map(|_| w.app.try_accept_account_invitation(&w.gus_home, &token));
    let mut statuses: Vec<u16> = join_all(attempts)
        .await
        .iter()
        .map(|r| r.status.as_u16())
        .collect();
    statuses.sort_unstable();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 404 || *s == 409),
        "{statuses:?}"
    );
    let memberships: i64 = account_memberships::table
        .filter(account_memberships::user_id.eq(&w.gus))
        .filter(account_memberships::account_id.eq(&w.acme.account_id))
        .count()
        .get_result(&mut w.app.db())
        .expect("count");
    assert_eq!(memberships, 1);
}

#[tokio::test]
async fn concurrent_invitations_of_one_email_make_one_open_invitation() {
    let w = world().await;
    let doc = invitation_doc("gus@globex.test", "member");
    let attempts = (0..12).map(|i| {
        let token = if i % 2 == 0 { &w.acme.token } else { &w.adam.1 };
        w.app.post("/account_invitations", Some(token), &doc)
    });
    let results = join_all(attempts).await;
    let created = results.iter().filter(|r| r.status == 201).count();
    assert_eq!(
        created,
        1,
        "{:?}",
        results.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(
        results
            .iter()
            .all(|r| r.status == 201 || r.error_code() == "taken")
    );
}

// ---------------------------------------------------------------------------------
// 404 for what the caller cannot see, before anything else

#[tokio::test]
async fn a_linkage_the_caller_cannot_see_is_404_before_403_and_422() {
    let w = world().await;
    let team_membership = |user: &str, team: &str, role: &str| {
        json!({"data": {"type": "team_membership", "attributes": {"role": role},
                "relationships": {
                    "user": {"data": {"type": "user", "id": user}},
                    "team": {"data": {"type": "team", "id": team}}}}})
    };
    let nobody = uuid::Uuid::now_v7().to_string();
    // B's user in A's team: not "must be a member of the account" (422) but 404, the
    // same 404 as for no user at all — for an owner and for a member with a bad role.
    for (token, role) in [(&w.acme.token, "member"), (&w.mia.1, "boss")] {
        let hidden = w
            .app
            .post(
                "/team_memberships",
                Some(token),
                &team_membership(&w.gus, &w.acme_team, role),
            )
            .await;
        assert_pointer(&hidden, 404, "not_found", "/data/relationships/user");
        let absent = w
            .app
            .post(
                "/team_memberships",
                Some(token),
                &team_membership(&nobody, &w.acme_team, role),
            )
            .await;
        assert_eq!(error_shape(&hidden), error_shape(&absent));
    }
    // Visible user, no permission: 403; then the role: 422.
    w.app
        .post(
            "/team_memberships",
            Some(&w.mia.1),
            &team_membership(&w.adam.0, &w.acme_team, "boss"),
        )
        .await
        .assert_error(403, "forbidden");
    assert_pointer(
        &w.app
            .post(
                "/team_memberships",
                Some(&w.acme.token),
                &team_membership(&w.adam.0, &w.acme_team, "boss"),
            )
            .await,
        422,
        "validation_failed",
        "/data/attributes/role",
    );
    // B's team.
    assert_pointer(
        &w.app
            .post(
                "/team_memberships",
                Some(&w.acme.token),
                &team_membership(&w.mia.0, &w.globex_team, "member"),
            )
            .await,
        404,
        "not_found",
        "/data/relationships/team",
    );
    // Relationship endpoints point at the member, and change nothing.
    for method in [
        reqwest::Method::POST,
        reqwest::Method::PATCH,
        reqwest::Method::DELETE,
    ] {
        let resp = w
            .app
            .request(
                method.clone(),
                &format!("/teams/{}/relationships/users", w.acme_team),
                Some(&w.acme.token),
                &[("content-type", JSONAPI)],
                Some(
                    serde_json::to_vec(&json!({"data": [
                        {"type": "user", "id": w.mia.0},
                        {"type": "user", "id": w.gus}]}))
                    .expect("json"),
                ),
            )
            .await;
        assert_pointer(&resp, 404, "not_found", "/data/1");
    }
    let members = w
        .app
        .get(
            &format!("/teams/{}/relationships/users", w.acme_team),
            &w.acme.token,
        )
        .await;
    assert_eq!(members.body["data"], json!([]));
    let teams_of_mia = w
        .app
        .post(
            &format!("/users/{}/relationships/teams", w.mia.0),
            Some(&w.acme.token),
            &json!({"data": [{"type": "team", "id": w.globex_team}]}),
        )
        .await;
    assert_pointer(&teams_of_mia, 404, "not_found", "/data/0");
    // A device for someone else: 404 if the caller cannot see them, 403 if it can.
    let device = |user: &str| {
        json!({"data": {"type": "device", "attributes": {"device_type": "web", "token": "t"},
                "relationships": {"user": {"data": {"type": "user", "id": user}}}}})
    };
    assert_pointer(
        &w.app
            .post("/devices", Some(&w.mia.1), &device(&w.gus))
            .await,
        404,
        "not_found",
        "/data/relationships/user",
    );
    assert_pointer(
        &w.app
            .post("/devices", Some(&w.mia.1), &device(&w.adam.0))
            .await,
        403,
        "forbidden",
        "/data/relationships/user",
    );
}

#[tokio::test]
async fn filters_that_name_other_resources_match_only_what_the_caller_sees() {
    let w = world().await;
    // gus is a guest of A and a member of B's team.
    w.gus_joins_acme("member").await;
    w.app
        .post(
            &format!("/teams/{}/relationships/users", w.acme_team),
            Some(&w.acme.token),
            &json!({"data": [{"type": "user", "id": w.mia.0}]}),
        )
        .await
        .assert_status(204);
    for token in [&w.acme.token, &w.mia.1] {
        let through_b = w
            .app
            .get(&format!("/users?filter[team]={}", w.globex_team), token)
            .await;
        through_b.assert_status(200);
        assert_eq!(through_b.ids(), Vec::<String>::new(), "{}", through_b.text);
        let through_a = w
            .app
            .get(&format!("/users?filter[team]={}", w.acme_team), token)
            .await;
        assert_eq!(through_a.ids(), vec![w.mia.0.clone()]);
    }
    // B sees its own team's members.
    let in_b = w
        .app
        .get(
            &format!("/users?filter[team]={}", w.globex_team),
            &w.globex.token,
        )
        .await;
    assert_eq!(in_b.ids(), vec![w.gus.clone()]);
    // A deleted user's teams are not a plain member's to find.
    w.app
        .delete(&format!("/users/{}", w.mia.0), &w.acme.token)
        .await
        .assert_status(204);
    let member = w
        .app
        .member(&w.acme.token, "acme", "Max", "max@acme.test", "member")
        .await;
    let teams = w
        .app
        .get(&format!("/teams?filter[user]={}", w.mia.0), &member.1)
        .await;
    teams.assert_status(200);
    assert!(teams.ids().is_empty(), "{}", teams.text);
}

// ---------------------------------------------------------------------------------
// Owners

#[tokio::test]
async fn an_owner_may_step_down_while_another_owner_remains() {
    let w = world().await;
    let second = w
        .app
        .member(&w.acme.token, "acme", "Second", "second@acme.test", "owner")
        .await;
    let memberships = w
        .app
        .get(
            &format!("/account_memberships?filter[user]={}", w.acme.user_id),
            &w.acme.token,
        )
        .await;
    let mine = memberships.ids()[0].clone();
    assert_eq!(
        memberships.body["data"][0]["meta"]["permissions"]["actions"]["edit"],
        true
    );
    let doc = |id: &str, role: &str| json!({"data": {"type": "account_membership", "id": id, "attributes": {"role": role}}});
    w.app
        .patch(
            &format!("/account_memberships/{mine}"),
            &w.acme.token,
            &doc(&mine, "admin"),
        )
        .await
        .assert_status(200);
    // Now the second owner is the last one.
    let theirs = w
        .app
        .get(
            &format!("/account_memberships?filter[user]={}", second.0),
            &second.1,
        )
        .await;
    assert_eq!(
        theirs.body["data"][0]["meta"]["permissions"]["actions"],
        json!({"edit": false, "delete": false})
    );
    let id = theirs.ids()[0].clone();
    w.app
        .patch(
            &format!("/account_memberships/{id}"),
            &second.1,
            &doc(&id, "member"),
        )
        .await
        .assert_error(409, "last_owner");
}
