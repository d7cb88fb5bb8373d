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
    /// The user's role in the caller's account (`None`: not a member of it).
    pub role: Option<AccountRole>,
}

fn is_admin(caller: &Caller) -> bool {
    caller.platform_admin || caller.role.is_admin()
}

/// May `caller` manage `target` at all (as opposed to only reading it)? Admins manage
/// members and admins; only owners (and platform admins) manage owners.
fn manages(caller: &Caller, target: &UserFacts<'_>) -> bool {
    if caller.platform_admin || caller.role == AccountRole::Owner {
        return true;
    }
    caller.role == AccountRole::Admin && target.role != Some(AccountRole::Owner)
}

pub mod user {
    use super::*;

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

    pub fn edit(caller: &Caller, u: &UserFacts<'_>) -> bool {
        u.status != UserStatus::Deleted
            && (caller.user_id == u.id || (is_admin(caller) && manages(caller, u)))
    }
    pub fn delete(caller: &Caller, u: &UserFacts<'_>) -> bool {
        u.status != UserStatus::Deleted
            && caller.user_id != u.id
            && is_admin(caller)
            && manages(caller, u)
    }
    pub fn invite(caller: &Caller, u: &UserFacts<'_>) -> bool {
        matches!(u.status, UserStatus::Created | UserStatus::Invited)
            && is_admin(caller)
            && manages(caller, u)
    }
    pub fn revoke_invitation(caller: &Caller, u: &UserFacts<'_>) -> bool {
        u.status == UserStatus::Invited && is_admin(caller) && manages(caller, u)
    }
    pub fn deactivate(caller: &Caller, u: &UserFacts<'_>) -> bool {
        u.status == UserStatus::Active
            && caller.user_id != u.id
            && is_admin(caller)
            && manages(caller, u)
    }
    pub fn reactivate(caller: &Caller, u: &UserFacts<'_>) -> bool {
        u.status == UserStatus::Deactivated && is_admin(caller) && manages(caller, u)
    }
    pub fn block(caller: &Caller, u: &UserFacts<'_>) -> bool {
        caller.platform_admin
            && caller.user_id != u.id
            && !matches!(u.status, UserStatus::Deleted | UserStatus::Blocked)
    }
    pub fn unblock(caller: &Caller, u: &UserFacts<'_>) -> bool {
        caller.platform_admin && u.status == UserStatus::Blocked
    }
    pub fn restore(caller: &Caller, u: &UserFacts<'_>) -> bool {
        u.status == UserStatus::Deleted && is_admin(caller) && manages(caller, u)
    }
    pub fn change_password(caller: &Caller, u: &UserFacts<'_>) -> bool {
        u.status != UserStatus::Deleted
            && (caller.user_id == u.id
                || (is_admin(caller)
                    && (caller.platform_admin || u.role != Some(AccountRole::Owner))))
    }

    /// `meta.permissions.actions` of a user.
    pub fn actions(caller: &Caller, u: &UserFacts<'_>) -> Vec<(&'static str, bool)> {
        vec![
            ("edit", edit(caller, u)),
            ("delete", delete(caller, u)),
            ("invite", invite(caller, u)),
            ("revoke_invitation", revoke_invitation(caller, u)),
            ("deactivate", deactivate(caller, u)),
            ("reactivate", reactivate(caller, u)),
            ("block", block(caller, u)),
            ("unblock", unblock(caller, u)),
            ("restore", restore(caller, u)),
            ("change_password", change_password(caller, u)),
        ]
    }

    /// May the caller create users in its account?
    pub fn create(caller: &Caller) -> bool {
        is_admin(caller)
    }

    /// May the caller list soft-deleted users (`filter[discarded]`) or read one by id?
    pub fn see_discarded(caller: &Caller) -> bool {
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

    /// `maintainer`: the caller maintains this team.
    pub fn actions(caller: &Caller, maintainer: bool) -> Vec<(&'static str, bool)> {
        let admin = is_admin(caller);
        vec![
            ("edit", admin || maintainer),
            ("delete", admin),
            ("manage_members", admin || maintainer),
        ]
    }
}

pub mod account_membership {
    use super::*;

    pub fn edit(caller: &Caller, role: AccountRole) -> bool {
        caller.platform_admin
            || caller.role == AccountRole::Owner
            || (caller.role == AccountRole::Admin && role != AccountRole::Owner)
    }
    pub fn actions(caller: &Caller, role: AccountRole) -> Vec<(&'static str, bool)> {
        vec![("edit", edit(caller, role)), ("delete", edit(caller, role))]
    }
}

pub mod team_membership {
    use super::*;

    pub fn actions(caller: &Caller, maintainer_of_team: bool) -> Vec<(&'static str, bool)> {
        let allowed = is_admin(caller) || maintainer_of_team;
        vec![("edit", allowed), ("delete", allowed)]
    }
}

pub mod device {
    use super::*;

    pub fn actions(caller: &Caller, owner_id: &str) -> Vec<(&'static str, bool)> {
        let own = caller.user_id == owner_id;
        vec![("edit", own), ("delete", own)]
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
