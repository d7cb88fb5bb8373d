//! Who may do what — one module, in the spirit of Pundit: a function per action per
//! resource type, used both to enforce (`authorize`) and to fill
//! `meta.permissions.actions` (`*_actions`), so the two can never disagree. What a caller
//! may *see* (the scopes) is in each resource's `scope`, which follows the rules stated
//! here: a caller sees its session's account; a platform admin may act on any account.
//!
//! Roles: account `owner` / `admin` / `member`, team `maintainer` / `member`, and the
//! `platform_admin` flag.

use crate::auth::Caller;
use crate::domain::{AccountRole, UserStatus};
use crate::jsonapi::error::ApiError;

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

pub mod user {
    use super::*;

    /// Every action on a user, in the order of `meta.permissions.actions`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Action {
        Edit,
        Delete,
        Invite,
        RevokeInvitation,
        Deactivate,
        Reactivate,
        Block,
        Unblock,
        Restore,
        ChangePassword,
    }

    impl Action {
        pub const ALL: [Action; 10] = [
            Action::Edit,
            Action::Delete,
            Action::Invite,
            Action::RevokeInvitation,
            Action::Deactivate,
            Action::Reactivate,
            Action::Block,
            Action::Unblock,
            Action::Restore,
            Action::ChangePassword,
        ];

        pub fn name(self) -> &'static str {
            match self {
                Action::Edit => "edit",
                Action::Delete => "delete",
                Action::Invite => "invite",
                Action::RevokeInvitation => "revoke_invitation",
                Action::Deactivate => "deactivate",
                Action::Reactivate => "reactivate",
                Action::Block => "block",
                Action::Unblock => "unblock",
                Action::Restore => "restore",
                Action::ChangePassword => "change_password",
            }
        }

        pub fn parse(name: &str) -> Option<Action> {
            Action::ALL.into_iter().find(|a| a.name() == name)
        }
    }

    pub const ACTIONS: &[&str] = &[
        "edit",
        "delete",
        "invite",
        "revoke_invitation",
        "deactivate",
        "reactivate",
        "block",
        "unblock",
        "restore",
        "change_password",
    ];

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
        Action::ALL
            .iter()
            .map(|&a| (a.name(), decide(caller, a, u).allowed()))
            .collect()
    }

    /// May the caller create users in its account?
    pub fn create(caller: &Caller) -> bool {
        is_admin(caller)
    }
}

pub mod account {
    use super::*;

    pub fn edit(caller: &Caller, account_id: &str) -> bool {
        caller.platform_admin || (caller.account_id == account_id && caller.role.is_admin())
    }
    pub fn delete(caller: &Caller, account_id: &str) -> bool {
        caller.platform_admin
            || (caller.account_id == account_id && caller.role == AccountRole::Owner)
    }
    pub fn actions(caller: &Caller, account_id: &str) -> Vec<(&'static str, bool)> {
        vec![
            ("edit", edit(caller, account_id)),
            ("delete", delete(caller, account_id)),
        ]
    }
}

pub mod team {
    use super::*;

    pub fn create(caller: &Caller) -> bool {
        is_admin(caller)
    }
    /// `maintainer`: the caller maintains this team.
    pub fn edit(caller: &Caller, maintainer: bool) -> bool {
        is_admin(caller) || maintainer
    }
    pub fn delete(caller: &Caller) -> bool {
        is_admin(caller)
    }
    pub fn manage_members(caller: &Caller, maintainer: bool) -> bool {
        is_admin(caller) || maintainer
    }
    pub fn actions(caller: &Caller, maintainer: bool) -> Vec<(&'static str, bool)> {
        vec![
            ("edit", edit(caller, maintainer)),
            ("delete", delete(caller)),
            ("manage_members", manage_members(caller, maintainer)),
        ]
    }
}

pub mod account_membership {
    use super::*;

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
    /// Changing or removing a membership that has `role` (changing *to* a role is
    /// checked with `grant`).
    pub fn edit(caller: &Caller, role: AccountRole) -> bool {
        grant(caller, role)
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

    /// A membership is acted on from a session in its account (a role there is what
    /// gives power over it), or by a platform admin. A membership shown elsewhere — the
    /// one an invitation's acceptance creates, answered to a session in the user's
    /// home account — is not the caller's to change through that session.
    fn in_session_account(caller: &Caller, m: &Facts<'_>) -> bool {
        caller.platform_admin || caller.account_id == m.account_id
    }

    /// Changing its role (the new role is checked with `grant`); never the last owner's.
    pub fn update(caller: &Caller, m: &Facts<'_>) -> bool {
        in_session_account(caller, m) && edit(caller, m.role) && !m.last_owner
    }

    /// Removing it: admins remove guests (never a home membership, never the last
    /// owner); a guest may always leave.
    pub fn delete(caller: &Caller, m: &Facts<'_>) -> bool {
        let leaving = caller.user_id == m.user_id && !m.is_home;
        in_session_account(caller, m)
            && (leaving || (edit(caller, m.role) && !m.last_owner && !m.is_home))
    }

    pub fn actions(caller: &Caller, m: &Facts<'_>) -> Vec<(&'static str, bool)> {
        vec![("edit", update(caller, m)), ("delete", delete(caller, m))]
    }
}

pub mod account_invitation {
    use super::*;

    pub const ACTIONS: &[&str] = &["delete"];

    /// An account's invitations are its admins' business (and platform admins').
    pub fn read(caller: &Caller) -> bool {
        is_admin(caller)
    }
    /// Admins invite as `member` or `admin` (a guest is never an owner).
    pub fn create(caller: &Caller) -> bool {
        is_admin(caller)
    }
    pub fn decide_delete(caller: &Caller) -> Decision {
        Decision::from(is_admin(caller), true)
    }
    pub fn actions(caller: &Caller) -> Vec<(&'static str, bool)> {
        vec![("delete", decide_delete(caller).allowed())]
    }
}

pub mod team_membership {
    use super::*;

    /// `maintainer_of_team`: the caller maintains the membership's team.
    pub fn edit(caller: &Caller, maintainer_of_team: bool) -> bool {
        super::team::manage_members(caller, maintainer_of_team)
    }
    pub fn actions(caller: &Caller, maintainer_of_team: bool) -> Vec<(&'static str, bool)> {
        let allowed = edit(caller, maintainer_of_team);
        vec![("edit", allowed), ("delete", allowed)]
    }
}

pub mod device {
    use super::*;

    /// A user manages its own devices; the admins of its home account can only read
    /// them (see `DeviceResource::scope`).
    pub fn edit(caller: &Caller, owner_id: &str) -> bool {
        caller.user_id == owner_id
    }
    pub fn actions(caller: &Caller, owner_id: &str) -> Vec<(&'static str, bool)> {
        vec![
            ("edit", edit(caller, owner_id)),
            ("delete", edit(caller, owner_id)),
        ]
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

    /// The audit log is for account admins and owners (and platform admins).
    pub fn read(caller: &Caller) -> bool {
        is_admin(caller)
    }
}
