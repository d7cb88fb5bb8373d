//! The diesel view of the schema in `migrations/` (both backends give this same file).

diesel::table! {
    accounts (id) {
        id -> Text,
        name -> Text,
        slug -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        discarded_at -> Nullable<Timestamp>,
        guests -> Integer,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        account_id -> Text,
        name -> Text,
        email -> Nullable<Text>,
        /// `email` case-folded (`Email::normalized`): what sign-in, uniqueness and
        /// `filter[email]` compare.
        email_key -> Nullable<Text>,
        identifier -> Nullable<Text>,
        status -> Text,
        previous_status -> Nullable<Text>,
        avatar -> Nullable<Text>,
        timezone -> Text,
        preferences -> Text,
        password_hash -> Nullable<Text>,
        platform_admin -> Bool,
        last_sign_in_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        discarded_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    account_memberships (id) {
        id -> Text,
        account_id -> Text,
        user_id -> Text,
        role -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    account_invitations (id) {
        id -> Text,
        account_id -> Text,
        email -> Text,
        email_key -> Text,
        role -> Text,
        token_hash -> Text,
        inviter_id -> Nullable<Text>,
        user_id -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        accepted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    teams (id) {
        id -> Text,
        account_id -> Text,
        name -> Text,
        description -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        discarded_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    team_memberships (id) {
        id -> Text,
        team_id -> Text,
        user_id -> Text,
        role -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        account_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    invitations (id) {
        id -> Text,
        user_id -> Text,
        account_id -> Text,
        token_hash -> Text,
        invited_by_id -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        accepted_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    devices (id) {
        id -> Text,
        user_id -> Text,
        device_type -> Text,
        sub_type -> Nullable<Text>,
        token -> Text,
        enabled -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        account_id -> Text,
        actor_id -> Nullable<Text>,
        action -> Text,
        target_type -> Text,
        target_id -> Text,
        changes -> Text,
        occurred_at -> Timestamp,
    }
}

diesel::table! {
    sign_in_attempts (id) {
        id -> Text,
        account_id -> Text,
        email -> Text,
        attempted_at -> Timestamp,
    }
}

diesel::joinable!(users -> accounts (account_id));
diesel::joinable!(account_memberships -> accounts (account_id));
diesel::joinable!(account_memberships -> users (user_id));
diesel::joinable!(account_invitations -> accounts (account_id));
diesel::joinable!(teams -> accounts (account_id));
diesel::joinable!(team_memberships -> teams (team_id));
diesel::joinable!(team_memberships -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(devices -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    users,
    account_memberships,
    account_invitations,
    teams,
    team_memberships,
    sessions,
    invitations,
    devices,
    audit_events,
    sign_in_attempts,
);
