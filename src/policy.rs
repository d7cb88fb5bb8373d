//! Who may see and do what — one module, in the spirit of Pundit. Per resource type:
//! - `scope`, the SQL restriction of what a caller may see (Pundit's `Scope#resolve`),
//!   which every query on the type — list, lookup, include, related collection, filter —
//!   goes through (`Resource::scope` delegates here);
//! - an `Action` enum (declared with `actions!`, which also gives the type's schema its
//!   action names) and one `decide`, used both to enforce (`Decision::enforce`) and to
//!   fill `meta.permissions.actions` (`actions`), so the two can never disagree;
//! - a plain `create` where creating is a permission (an action on a collection).
//!
//! Roles: account `owner` / `admin` / `member`, team `maintainer` / `member`, and the
//! `platform_admin` flag.

use crate::auth::Caller;
use crate::db::SqlBuilder;
use crate::domain::{AccountRole, UserStatus};
use crate::jsonapi::error::ApiError;

/// Declares a type's actions once: the `Action` enum, its names (SPEC's, in the order
/// of `meta.permissions.actions`) and `ACTIONS` for the type's schema — so a name can
/// neither be misspelt in one place nor missing from another.
macro_rules! actions {
    ($($variant:ident => $name:literal),+ $(,)?) => {
        /// Every action on this type, in the order of `meta.permissions.actions`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Action {
            $($variant),+
        }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$variant),+];

            pub fn name(self) -> &'static str {
                match self {
                    $(Action::$variant => $name),+
                }
            }

            pub fn parse(name: &str) -> Option<Action> {
                Self::ALL.iter().copied().find(|a| a.name() == name)
            }
        }

        impl Named for Action {
            fn name(self) -> &'static str {
                Action::name(self)
            }
        }

        /// The action names, for the type's schema (`meta.permissions.actions`).
        pub const ACTIONS: &[&str] = &[$($name),+];
    };
}

/// `meta.permissions.actions` from a type's `decide`: every action, allowed or not.
fn permissions<A: Named + Copy>(
    all: &[A],
    decide: impl Fn(A) -> Decision,
) -> Vec<(&'static str, bool)> {
    all.iter()
        .map(|&a| (a.name(), decide(a).allowed()))
        .collect()
}

/// What `permissions` needs of an action: its name.
trait Named {
    fn name(self) -> &'static str;
}

/// The facts about a user that its permissions depend on.
pub struct UserFacts<'a> {
    pub id: &'a str,
    pub status: UserStatus,
    /// The user owns the caller's account.
    pub owner: bool,
    /// The user's home account: only its admins manage the user (its status,
    /// password and profile are global). Another account that added the user as a
    /// guest removes the membership instead.
    pub home_account_id: &'a str,
}

fn is_admin(caller: &Caller) -> bool {
    caller.platform_admin || caller.role.is_admin()
}

/// May `caller` manage `target` at all (as opposed to only reading it)? Platform admins
/// manage everyone. Otherwise only users whose home is the caller's account: owners
/// manage them all, admins members and admins.
fn manages(caller: &Caller, target: &UserFacts<'_>) -> bool {
    if caller.platform_admin {
        return true;
    }
    if target.home_account_id != caller.account_id {
        return false;
    }
    caller.role == AccountRole::Owner || (caller.role == AccountRole::Admin && !target.owner)
}

/// The answer to "may the caller do this, now?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// The caller's role does not allow it: 403 `forbidden`.
    Forbidden,
    /// The role would allow it, the resource's status does not: 409 `invalid_transition`.
    InvalidTransition,
}

impl Decision {
    fn from(role_allows: bool, status_allows: bool) -> Self {
        match (role_allows, status_allows) {
            (false, _) => Decision::Forbidden,
            (true, false) => Decision::InvalidTransition,
            (true, true) => Decision::Allowed,
        }
    }

    /// A refusal (or not) for the resource's status alone, whoever asks: 409
    /// `invalid_transition` when `allowed` is false.
    pub fn from_status(allowed: bool) -> Self {
        Decision::from(true, allowed)
    }

    pub fn allowed(self) -> bool {
        self == Decision::Allowed
    }

    /// Enforcement: the error for a refusal.
    pub fn enforce(self, action: &str) -> Result<(), ApiError> {
        match self {
            Decision::Allowed => Ok(()),
            Decision::Forbidden => Err(ApiError::forbidden(format!(
                "You may not {action} this resource."
            ))),
            Decision::InvalidTransition => Err(ApiError::new(
                crate::jsonapi::error::ErrorCode::InvalidTransition,
                format!("`{action}` is not possible from the resource's current status."),
            )),
        }
    }
}

/// Which soft-deleted rows a query sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discarded {
    /// Live rows only: the default everywhere.
    Exclude,
    Only,
    All,
}

/// What a query may see: the caller, the account whose rows it lists (`None`: any
/// account — a platform admin's lookup by id) and which soft-deleted rows.
#[derive(Debug, Clone)]
pub struct Scope<'a> {
    pub caller: &'a Caller,
    pub account_id: Option<String>,
    pub discarded: Discarded,
}

impl<'a> Scope<'a> {
    /// The caller's own account, live rows.
    pub fn live(caller: &'a Caller) -> Self {
        Scope {
            caller,
            account_id: Some(caller.account_id.clone()),
            discarded: Discarded::Exclude,
        }
    }
}

/// The scope of a lookup by id: admins also see soft-deleted rows (to restore them);
/// platform admins see every account.
pub fn single_scope(caller: &Caller) -> Scope<'_> {
    let mut scope = live_single_scope(caller);
    if caller.platform_admin || caller.is_account_admin() {
        scope.discarded = Discarded::All;
    }
    scope
}

/// The scope of a lookup by id that only live rows answer: the owner of a related or
/// relationship endpoint, the target of a change, a body's linkage. A soft-deleted row
/// is 404 here even for admins, who may only GET it by id (to restore it, SPEC §3).
pub fn live_single_scope(caller: &Caller) -> Scope<'_> {
    let mut scope = Scope::live(caller);
    if caller.platform_admin {
        scope.account_id = None;
    }
    scope
}

pub mod user {
    use super::*;

    /// The ids of the live users `scope` may see, as a subquery: what a filter naming
    /// users may match through (`FilterSql::Through`).
    pub fn visible_ids(q: &mut SqlBuilder, scope: &Scope<'_>) {
        q.sql("SELECT users.id FROM users WHERE users.discarded_at IS NULL");
        self::scope(q, scope);
    }

    /// The users of an account: its home users, plus guests when it has any. Without
    /// guests the condition is `users.account_id = ?` alone, which the account-leading
    /// indexes answer in sort order without touching other accounts' rows.
    pub fn scope(q: &mut SqlBuilder, scope: &Scope<'_>) {
        let Some(account_id) = &scope.account_id else {
            return;
        };
        let own_account = *account_id == scope.caller.account_id;
        if own_account && !scope.caller.account_has_guests {
            q.sql(" AND users.account_id = ").bind(account_id.clone());
        } else {
            q.sql(" AND (users.account_id = ")
                .bind(account_id.clone())
                .sql(" OR users.id IN (SELECT m.user_id FROM account_memberships m WHERE m.account_id = ")
                .bind(account_id.clone())
                .sql("))");
        }
    }

    actions! {
        Edit => "edit",
        Delete => "delete",
        Invite => "invite",
        RevokeInvitation => "revoke_invitation",
        Deactivate => "deactivate",
        Reactivate => "reactivate",
        Block => "block",
        Unblock => "unblock",
        Restore => "restore",
        ChangePassword => "change_password",
    }

    /// The one rule per action: who (role) and from which status (transition).
    pub fn decide(caller: &Caller, action: Action, u: &UserFacts<'_>) -> Decision {
        use UserStatus::*;
        let own = caller.user_id == u.id;
        let admin = is_admin(caller) && manages(caller, u);
        let status = u.status;
        match action {
            Action::Edit => Decision::from(own || admin, status != Deleted),
            Action::Delete => Decision::from(admin && !own, status != Deleted),
            Action::Invite => Decision::from(admin, matches!(status, Created | Invited)),
            Action::RevokeInvitation => Decision::from(admin, status == Invited),
            Action::Deactivate => Decision::from(admin && !own, status == Active),
            Action::Reactivate => Decision::from(admin, status == Deactivated),
            Action::Block => Decision::from(
                caller.platform_admin && !own,
                !matches!(status, Deleted | Blocked),
            ),
            Action::Unblock => Decision::from(caller.platform_admin, status == Blocked),
            Action::Restore => Decision::from(admin, status == Deleted),
            // Nobody sets an owner's password but the owner (and platform admins).
            Action::ChangePassword => Decision::from(
                own || (admin && (caller.platform_admin || !u.owner)),
                status != Deleted,
            ),
        }
    }

    /// `meta.permissions.actions` of a user.
    pub fn actions(caller: &Caller, u: &UserFacts<'_>) -> Vec<(&'static str, bool)> {
        permissions(Action::ALL, |a| decide(caller, a, u))
    }

    /// May the caller create users in its account?
    pub fn create(caller: &Caller) -> bool {
        is_admin(caller)
    }
}

pub mod account {
    use super::*;

    /// The accounts the caller belongs to (home and guest); every account for platform
    /// admins.
    pub fn scope(q: &mut SqlBuilder, scope: &Scope<'_>) {
        if !scope.caller.platform_admin {
            q.sql(" AND accounts.id IN (SELECT a.account_id FROM account_memberships a WHERE a.user_id = ")
                .bind(scope.caller.user_id.clone())
                .sql(")");
        }
    }

    actions! {
        Edit => "edit",
        Delete => "delete",
    }

    /// Account admins edit their account, owners delete it; platform admins any.
    pub fn decide(caller: &Caller, action: Action, account_id: &str) -> Decision {
        let own = caller.account_id == account_id;
        Decision::from(
            caller.platform_admin
                || match action {
                    Action::Edit => own && caller.role.is_admin(),
                    Action::Delete => own && caller.role == AccountRole::Owner,
                },
            true,
        )
    }

    pub fn actions(caller: &Caller, account_id: &str) -> Vec<(&'static str, bool)> {
        permissions(Action::ALL, |a| decide(caller, a, account_id))
    }
}

pub mod team {
    use super::*;

    /// The ids of the live teams `scope` may see, as a subquery: what a filter naming
    /// teams may match through (`FilterSql::Through`).
    pub fn visible_ids(q: &mut SqlBuilder, scope: &Scope<'_>) {
        q.sql("SELECT teams.id FROM teams WHERE teams.discarded_at IS NULL");
        self::scope(q, scope);
    }

    /// The teams of the scope's account.
    pub fn scope(q: &mut SqlBuilder, scope: &Scope<'_>) {
        if let Some(account_id) = &scope.account_id {
            q.sql(" AND teams.account_id = ").bind(account_id.clone());
        }
    }

    actions! {
        Edit => "edit",
        Delete => "delete",
        ManageMembers => "manage_members",
    }

    /// Admins create teams.
    pub fn create(caller: &Caller) -> bool {
        is_admin(caller)
    }

    /// What a team's permissions depend on besides the caller.
    #[derive(Debug, Clone, Copy)]
    pub struct Facts {
        /// The caller maintains this team.
        pub maintainer: bool,
        /// Soft-deleted: admins still see it, and nothing can be done to it (409
        /// `invalid_transition`, as for a deleted user).
        pub deleted: bool,
    }

    /// Admins do everything; a team's maintainers edit it and manage its members.
    pub fn decide(caller: &Caller, action: Action, team: Facts) -> Decision {
        let role_allows = is_admin(caller)
            || match action {
                Action::Edit | Action::ManageMembers => team.maintainer,
                Action::Delete => false,
            };
        Decision::from(role_allows, !team.deleted)
    }

    pub fn actions(caller: &Caller, team: Facts) -> Vec<(&'static str, bool)> {
        permissions(Action::ALL, |a| decide(caller, a, team))
    }
}

pub mod account_membership {
    use super::*;

    /// The memberships of the scope's account whose users are not deleted.
    pub fn scope(q: &mut SqlBuilder, scope: &Scope<'_>) {
        if let Some(account_id) = &scope.account_id {
            q.sql(" AND account_memberships.account_id = ")
                .bind(account_id.clone());
        }
        // Memberships of deleted users are gone with them.
        q.sql(" AND EXISTS (SELECT 1 FROM users du WHERE du.id = account_memberships.user_id AND du.discarded_at IS NULL)");
    }

    actions! {
        Edit => "edit",
        Delete => "delete",
    }

    /// Adding a user to an account by id is for platform admins only: anyone else joins
    /// another account by accepting an invitation (its own consent), so that no account
    /// can reach into another's users.
    pub fn create(caller: &Caller) -> bool {
        caller.platform_admin
    }
    /// Giving a membership `role` (on a change, the new role): owners and platform
    /// admins grant any role, admins all but `owner`.
    pub fn grant(caller: &Caller, role: AccountRole) -> bool {
        caller.platform_admin
            || caller.role == AccountRole::Owner
            || (caller.role == AccountRole::Admin && role != AccountRole::Owner)
    }

    /// What a membership's permissions depend on besides the caller.
    pub struct Facts<'a> {
        pub account_id: &'a str,
        pub user_id: &'a str,
        pub role: AccountRole,
        /// The membership in the user's home account: removed only with the user.
        pub is_home: bool,
        /// The only active owner: may be neither demoted nor removed.
        pub last_owner: bool,
    }

    /// The one rule per action.
    /// - A membership is acted on from a session in its account (a role there is what
    ///   gives power over it), or by a platform admin: the one an invitation's acceptance
    ///   creates, answered to a session in the user's home account, is not that
    ///   session's to change.
    /// - Changing or removing one needs the power to grant its role (`grant`); the new
    ///   role of a change is checked with `grant` too.
    /// - The last owner is neither demoted nor removed, and a home membership goes only
    ///   with its user (409 — enforced by the handlers, `false` here).
    /// - A guest may always leave.
    pub fn decide(caller: &Caller, action: Action, m: &Facts<'_>) -> Decision {
        let in_session_account = caller.platform_admin || caller.account_id == m.account_id;
        let manages = grant(caller, m.role);
        let allowed = in_session_account
            && match action {
                Action::Edit => manages && !m.last_owner,
                Action::Delete => {
                    let leaving = caller.user_id == m.user_id && !m.is_home;
                    leaving || (manages && !m.last_owner && !m.is_home)
                }
            };
        Decision::from(allowed, true)
    }

    pub fn actions(caller: &Caller, m: &Facts<'_>) -> Vec<(&'static str, bool)> {
        permissions(Action::ALL, |a| decide(caller, a, m))
    }
}

pub mod account_invitation {
    use super::*;

    /// The invitations of the scope's account (who may read them at all: `read`).
    pub fn scope(q: &mut SqlBuilder, scope: &Scope<'_>) {
        if let Some(account_id) = &scope.account_id {
            q.sql(" AND account_invitations.account_id = ")
                .bind(account_id.clone());
        }
    }

    actions! {
        Delete => "delete",
    }

    /// An account's invitations are its admins' business (and platform admins').
    pub fn read(caller: &Caller) -> bool {
        is_admin(caller)
    }
    /// Admins invite as `member` or `admin` (a guest is never an owner).
    pub fn create(caller: &Caller) -> bool {
        is_admin(caller)
    }
    pub fn decide(caller: &Caller, action: Action) -> Decision {
        match action {
            Action::Delete => Decision::from(is_admin(caller), true),
        }
    }
    pub fn actions(caller: &Caller) -> Vec<(&'static str, bool)> {
        permissions(Action::ALL, |a| decide(caller, a))
    }
}

pub mod team_membership {
    use super::*;

    /// The memberships of the scope's account's live teams whose users are not deleted.
    pub fn scope(q: &mut SqlBuilder, scope: &Scope<'_>) {
        // Visible when its team is a live team of the account and its user is not deleted.
        q.sql(" AND EXISTS (SELECT 1 FROM teams st WHERE st.id = team_memberships.team_id AND st.discarded_at IS NULL");
        if let Some(account_id) = &scope.account_id {
            q.sql(" AND st.account_id = ").bind(account_id.clone());
        }
        q.sql(") AND EXISTS (SELECT 1 FROM users su WHERE su.id = team_memberships.user_id AND su.discarded_at IS NULL)");
    }

    actions! {
        Edit => "edit",
        Delete => "delete",
    }

    /// `maintainer_of_team`: the caller maintains the membership's team. Whoever manages
    /// a team's members changes and removes its memberships.
    pub fn decide(caller: &Caller, action: Action, maintainer_of_team: bool) -> Decision {
        // Memberships are seen only in live teams.
        let team = super::team::Facts {
            maintainer: maintainer_of_team,
            deleted: false,
        };
        let manages = super::team::decide(caller, super::team::Action::ManageMembers, team);
        match action {
            Action::Edit | Action::Delete => manages,
        }
    }
    pub fn actions(caller: &Caller, maintainer_of_team: bool) -> Vec<(&'static str, bool)> {
        permissions(Action::ALL, |a| decide(caller, a, maintainer_of_team))
    }
}

pub mod device {
    use super::*;

    /// A user's own devices; an admin also those of the users homed in its account.
    pub fn scope(q: &mut SqlBuilder, scope: &Scope<'_>) {
        let caller = scope.caller;
        if caller.platform_admin {
            return;
        }
        if caller.role.is_admin() {
            // Admins read the devices of the live users homed in their account, and
            // their own. A guest's devices stay private to its home account: another
            // account that the user joined sees the user, not its push tokens.
            q.sql(" AND (devices.user_id = ")
                .bind(caller.user_id.clone())
                .sql(
                    " OR devices.user_id IN (SELECT du.id FROM users du \
                     WHERE du.discarded_at IS NULL AND du.account_id = ",
                )
                .bind(caller.account_id.clone())
                .sql("))");
        } else {
            q.sql(" AND devices.user_id = ")
                .bind(caller.user_id.clone());
        }
    }

    actions! {
        Edit => "edit",
        Delete => "delete",
    }

    /// A user manages its own devices; the admins of its home account can only read
    /// them (see `DeviceResource::scope`).
    pub fn decide(caller: &Caller, action: Action, owner_id: &str) -> Decision {
        match action {
            Action::Edit | Action::Delete => Decision::from(caller.user_id == owner_id, true),
        }
    }
    pub fn actions(caller: &Caller, owner_id: &str) -> Vec<(&'static str, bool)> {
        permissions(Action::ALL, |a| decide(caller, a, owner_id))
    }
}

/// Turns a policy answer into the 403 the contract gives for what a caller can see
/// but may not do.
pub fn authorize(allowed: bool, action: &str) -> Result<(), ApiError> {
    if allowed {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "You may not {action} this resource."
        )))
    }
}

pub mod audit_event {
    use super::*;

    /// The events of the scope's account (who may read them at all: `read`).
    pub fn scope(q: &mut SqlBuilder, scope: &Scope<'_>) {
        if let Some(account_id) = &scope.account_id {
            q.sql(" AND audit_events.account_id = ")
                .bind(account_id.clone());
        }
    }

    /// The audit log is for account admins and owners (and platform admins).
    pub fn read(caller: &Caller) -> bool {
        is_admin(caller)
    }
}

pub mod session {
    use super::*;

    /// A caller sees only its own live sessions — platform admins included.
    pub fn scope(q: &mut SqlBuilder, scope: &Scope<'_>) {
        q.sql(" AND sessions.user_id = ")
            .bind(scope.caller.user_id.clone())
            .sql(" AND sessions.revoked_at IS NULL AND sessions.expires_at > ")
            .bind(scope.caller.now);
    }
}
