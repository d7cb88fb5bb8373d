//! Membership roles.

string_enum! {
    /// A user's role in an account.
    pub enum AccountRole {
        Owner => "owner",
        Admin => "admin",
        Member => "member",
    }
}

impl AccountRole {
    /// Whether the role administers the account (owners can do all an admin can).
    pub fn is_admin(self) -> bool {
        matches!(self, Self::Owner | Self::Admin)
    }
}

string_enum! {
    /// A user's role in a team.
    pub enum TeamRole {
        Maintainer => "maintainer",
        Member => "member",
    }
}

#[cfg(test)]
mod tests {
    use super::super::DomainError;
    use super::*;

    #[test]
    fn account_roles_round_trip() {
        assert_eq!(AccountRole::ALL, ["owner", "admin", "member"]);
        for (role, name) in AccountRole::VARIANTS.iter().zip(AccountRole::ALL) {
            assert_eq!(AccountRole::parse(name), Ok(*role));
            assert_eq!(role.as_str(), *name);
            assert_eq!(role.to_string(), *name);
            assert_eq!(
                serde_json::to_string(role).expect("serializes"),
                format!("\"{name}\"")
            );
        }
        assert_eq!("admin".parse::<AccountRole>(), Ok(AccountRole::Admin));
    }

    #[test]
    fn account_role_admin_check() {
        assert!(AccountRole::Owner.is_admin());
        assert!(AccountRole::Admin.is_admin());
        assert!(!AccountRole::Member.is_admin());
    }

    #[test]
    fn team_roles_round_trip() {
        assert_eq!(TeamRole::ALL, ["maintainer", "member"]);
        for (role, name) in TeamRole::VARIANTS.iter().zip(TeamRole::ALL) {
            assert_eq!(TeamRole::parse(name), Ok(*role));
            assert_eq!(role.to_string(), *name);
        }
    }

    #[test]
    fn unknown_roles_name_the_allowed_values() {
        for bad in [
            "",
            "Owner",
            "OWNER",
            " owner",
            "owner ",
            "root",
            "maintainer",
        ] {
            assert_eq!(
                AccountRole::parse(bad),
                Err(DomainError::new("must be one of: owner, admin, member")),
                "{bad:?}"
            );
        }
        for bad in ["owner", "admin", "Member", ""] {
            assert_eq!(
                TeamRole::parse(bad),
                Err(DomainError::new("must be one of: maintainer, member")),
                "{bad:?}"
            );
        }
    }
}
