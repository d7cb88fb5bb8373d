//! Fixtures: the accounts, users, guests, teams and devices a test starts from. Made over
//! HTTP where the API can (`owner`, `tenant`, `create_user`, `member`,
//! `invite_to_account`, `join_as_guest`), with the `roster` CLI (`bootstrap_acme`,
//! `seed`), or inserted into the database where it cannot yet (`insert_team`,
//! `add_to_team`, `add_to_account`, `insert_device`, `set_status`); and `audit_events`,
//! which reads back what a write left in the audit log.

use diesel::prelude::*;
use serde_json::{Value, json};

use roster::cli::{self, SeedSize};
use roster::clock::Clock;
use roster::db::DbConnection;
use roster::db::schema::{account_memberships, devices, team_memberships, teams, users};

use super::client::Resp;
use super::database::TestApp;

pub const OWNER_PASSWORD: &str = "correct-horse-battery";

/// The signed-in owner of the `acme` account.
pub struct Owner {
    pub token: String,
    pub account_id: String,
    pub user_id: String,
    pub email: String,
}

/// An account made with `roster bootstrap`, signed in as its owner.
pub struct Tenant {
    pub token: String,
    pub account_id: String,
    pub user_id: String,
    pub email: String,
}

/// `roster bootstrap` of the owner fixture: account `acme` ("Acme") with owner
/// `owner@acme.test`, password [`OWNER_PASSWORD`].
pub fn bootstrap_acme(conn: &mut DbConnection, clock: &Clock) -> cli::Bootstrapped {
    cli::bootstrap(
        conn,
        cli::BootstrapRequest {
            account_name: "Acme",
            slug: "acme",
            owner_name: "Olivia Owner",
            email: "owner@acme.test",
            password: Some(OWNER_PASSWORD),
            platform_admin: false,
        },
        clock,
    )
    .expect("bootstrap")
}

impl TestApp {
    /// `POST /users` as sent.
    pub async fn try_create_user(&self, token: &str, attributes: Value, meta: Value) -> Resp {
        let mut document = json!({"data": {"type": "user", "attributes": attributes}});
        if !meta.is_null() {
            document["meta"] = meta;
        }
        self.post("/users", Some(token), &document).await
    }

    /// Creates a user and returns its id.
    pub async fn create_user(&self, token: &str, attributes: Value, meta: Value) -> String {
        let resp = self.try_create_user(token, attributes, meta).await;
        resp.assert_status(201);
        resp.body["data"]["id"].as_str().expect("id").to_owned()
    }

    /// Creates an active user with a password and signs it in; returns (id, token).
    pub async fn member(
        &self,
        owner_token: &str,
        slug: &str,
        name: &str,
        email: &str,
        role: &str,
    ) -> (String, String) {
        let password = "member-password-1";
        let id = self
            .create_user(
                owner_token,
                json!({"name": name, "email": email, "password": password}),
                json!({"role": role}),
            )
            .await;
        let token = self.sign_in(slug, email, password).await;
        (id, token)
    }

    /// `POST /account_invitations` in the caller's account; returns (invitation id,
    /// one-time token).
    pub async fn invite_to_account(
        &self,
        token: &str,
        email: &str,
        role: &str,
    ) -> (String, String) {
        let resp = self
            .post(
                "/account_invitations",
                Some(token),
                &json!({"data": {"type": "account_invitation",
                        "attributes": {"email": email, "role": role}}}),
            )
            .await;
        resp.assert_status(201);
        (
            resp.body["data"]["id"].as_str().expect("id").to_owned(),
            resp.body["meta"]["invitation"]["token"]
                .as_str()
                .expect("meta.invitation.token")
                .to_owned(),
        )
    }

    /// `POST /account_invitations/accept` as sent.
    pub async fn try_accept_account_invitation(&self, token: &str, invitation: &str) -> Resp {
        self.post(
            "/account_invitations/accept",
            Some(token),
            &json!({"data": {"type": "account_invitation_acceptance",
                    "attributes": {"token": invitation}}}),
        )
        .await
    }

    /// A guest by consent: `inviter_token`'s account invites `email` as `role`, and the
    /// user it belongs to accepts with `guest_token` (a session of its own). Returns the
    /// new account membership's id.
    pub async fn join_as_guest(
        &self,
        inviter_token: &str,
        guest_token: &str,
        email: &str,
        role: &str,
    ) -> String {
        let (_, invitation) = self.invite_to_account(inviter_token, email, role).await;
        let resp = self
            .try_accept_account_invitation(guest_token, &invitation)
            .await;
        resp.assert_status(201);
        resp.body["data"]["id"].as_str().expect("id").to_owned()
    }

    /// `roster bootstrap` for `slug`, then signs the owner in.
    pub async fn tenant(&self, slug: &str, platform_admin: bool) -> Tenant {
        let email = format!("owner@{slug}.test");
        let made = cli::bootstrap(
            &mut self.db(),
            cli::BootstrapRequest {
                account_name: &format!("Account {slug}"),
                slug,
                owner_name: &format!("Owner of {slug}"),
                email: &email,
                password: Some(OWNER_PASSWORD),
                platform_admin,
            },
            &self.clock,
        )
        .expect("bootstrap");
        let token = self.sign_in(slug, &email, OWNER_PASSWORD).await;
        Tenant {
            token,
            account_id: made.account_id,
            user_id: made.user_id,
            email,
        }
    }

    /// The owner fixture: account `acme` ("Acme") with owner `owner@acme.test`.
    pub async fn owner(&self) -> Owner {
        let made = bootstrap_acme(&mut self.db(), &self.clock);
        let token = self
            .sign_in("acme", "owner@acme.test", OWNER_PASSWORD)
            .await;
        Owner {
            token,
            account_id: made.account_id,
            user_id: made.user_id,
            email: "owner@acme.test".into(),
        }
    }

    /// `roster seed` into the test database.
    pub fn seed(&self, accounts: u64, users: u64, teams: u64, teams_per_user: u64) {
        cli::seed(
            &mut self.db(),
            SeedSize {
                accounts,
                users,
                teams,
                teams_per_user,
            },
        )
        .expect("seed");
    }

    /// Inserts a team (teams cannot be created over HTTP yet); returns its id.
    pub fn insert_team(&self, account_id: &str, name: &str) -> String {
        let id = uuid::Uuid::now_v7().to_string();
        let now = self.clock.now();
        diesel::insert_into(teams::table)
            .values((
                teams::id.eq(&id),
                teams::account_id.eq(account_id),
                teams::name.eq(name),
                teams::description.eq(Some(format!("The {name} team"))),
                teams::created_at.eq(now),
                teams::updated_at.eq(now),
            ))
            .execute(&mut self.db())
            .expect("insert team");
        id
    }

    /// Inserts a team membership; returns its id.
    pub fn add_to_team(&self, team_id: &str, user_id: &str, role: &str) -> String {
        let id = uuid::Uuid::now_v7().to_string();
        let now = self.clock.now();
        diesel::insert_into(team_memberships::table)
            .values((
                team_memberships::id.eq(&id),
                team_memberships::team_id.eq(team_id),
                team_memberships::user_id.eq(user_id),
                team_memberships::role.eq(role),
                team_memberships::created_at.eq(now),
                team_memberships::updated_at.eq(now),
            ))
            .execute(&mut self.db())
            .expect("insert team membership");
        id
    }

    /// Adds a user to an account as a guest (a membership outside its home account).
    pub fn add_to_account(&self, account_id: &str, user_id: &str, role: &str) -> String {
        let id = uuid::Uuid::now_v7().to_string();
        let now = self.clock.now();
        diesel::insert_into(account_memberships::table)
            .values((
                account_memberships::id.eq(&id),
                account_memberships::account_id.eq(account_id),
                account_memberships::user_id.eq(user_id),
                account_memberships::role.eq(role),
                account_memberships::created_at.eq(now),
                account_memberships::updated_at.eq(now),
            ))
            .execute(&mut self.db())
            .expect("insert account membership");
        id
    }

    /// Inserts a device of a user; returns its id.
    pub fn insert_device(&self, user_id: &str, token: &str) -> String {
        let id = uuid::Uuid::now_v7().to_string();
        let now = self.clock.now();
        diesel::insert_into(devices::table)
            .values((
                devices::id.eq(&id),
                devices::user_id.eq(user_id),
                devices::device_type.eq("ios"),
                devices::sub_type.eq(Some("iphone")),
                devices::token.eq(token),
                devices::enabled.eq(true),
                devices::created_at.eq(now),
                devices::updated_at.eq(now),
            ))
            .execute(&mut self.db())
            .expect("insert device");
        id
    }

    /// Sets a user's status in the database (states the API cannot reach yet).
    pub fn set_status(&self, user_id: &str, status: &str) {
        diesel::update(users::table.find(user_id))
            .set(users::status.eq(status))
            .execute(&mut self.db())
            .expect("update status");
    }
}

/// Audit events of `action` on `target`, newest last, as `token` lists them.
pub async fn audit_events(app: &TestApp, token: &str, action: &str, target: &str) -> Vec<Value> {
    let resp = app
        .get(
            &format!(
                "/audit_events?filter[action]={action}&filter[target]={target}&sort=occurred_at"
            ),
            token,
        )
        .await;
    resp.assert_status(200);
    resp.body["data"].as_array().expect("data").clone()
}
