//! A user's lifecycle status.

string_enum! {
    /// Where a user is in its lifecycle. Changed only by actions (invite, activate,
    /// block, …), never written directly by a client.
    pub enum UserStatus {
        /// Exists, has not been invited yet.
        Created => "created",
        /// Has an open invitation.
        Invited => "invited",
        Active => "active",
        Deactivated => "deactivated",
        Blocked => "blocked",
        /// Soft-deleted (`discarded_at` is set); `restore` brings it back.
        Deleted => "deleted",
    }
}

impl UserStatus {
    /// The `alive` sort key: users someone still works with (active, or on the way to
    /// it) come before those switched off.
    pub fn is_alive(self) -> bool {
        matches!(self, Self::Active | Self::Created | Self::Invited)
    }

    /// Only an active user may sign in; an invited one signs in by accepting.
    pub fn can_sign_in(self) -> bool {
        self == Self::Active
    }
}

#[cfg(test)]
mod tests {
    use super::super::DomainError;
    use super::*;

    #[test]
    fn statuses_round_trip() {
        assert_eq!(
            UserStatus::ALL,
            [
                "created",
                "invited",
                "active",
                "deactivated",
                "blocked",
                "deleted"
            ]
        );
        for (status, name) in UserStatus::VARIANTS.iter().zip(UserStatus::ALL) {
            assert_eq!(UserStatus::parse(name), Ok(*status));
            assert_eq!(status.as_str(), *name);
            assert_eq!(
                serde_json::to_value(status).expect("serializes"),
                serde_json::Value::from(*name)
            );
        }
    }

    #[test]
    fn alive_and_sign_in() {
        use UserStatus::*;
        let alive: Vec<_> = UserStatus::VARIANTS
            .iter()
            .filter(|s| s.is_alive())
            .collect();
        assert_eq!(alive, [&Created, &Invited, &Active]);
        let can: Vec<_> = UserStatus::VARIANTS
            .iter()
            .filter(|s| s.can_sign_in())
            .collect();
        assert_eq!(can, [&Active]);
    }

    #[test]
    fn unknown_status_names_the_allowed_values() {
        assert_eq!(
            UserStatus::parse("Active"),
            Err(DomainError::new(
                "must be one of: created, invited, active, deactivated, blocked, deleted"
            ))
        );
        assert!(UserStatus::parse("").is_err());
        assert!(UserStatus::parse("discarded").is_err());
    }
}
